package azurite

import (
	"runtime"
	"syscall"
)

// startAndWait starts p and waits for it in the background. Azurite gets
// SIGKILL if the test binary dies without stopping it; since Linux sends that
// signal when the thread that started the child exits, the goroutine that
// starts the child keeps its thread until the child has exited.
func startAndWait(p *process) error {
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := p.cmd.Start(); err != nil {
			runtime.UnlockOSThread()
			started <- err
			return
		}
		started <- nil
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return <-started
}

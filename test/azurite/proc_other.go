//go:build !linux

package azurite

// startAndWait starts p and waits for it in the background.
func startAndWait(p *process) error {
	if err := p.cmd.Start(); err != nil {
		return err
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return nil
}

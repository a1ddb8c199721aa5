package cli

import (
	"context"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// ExitInterrupted is maestro's exit code when SIGINT or SIGTERM cut its
// work short (128 + SIGINT's number, as shells report a command ended by
// Ctrl-C); a command that ends well after one (`maestro serve`'s graceful
// shutdown) exits 0.
const ExitInterrupted = 130

// WithInterrupt returns ctx cancelled by the first SIGINT or SIGTERM, so
// that the command stops its work and ends the processes it started: git
// runs in a process group of its own (internal/git), which a terminal's
// Ctrl-C does not reach, and is killed with the context. A second signal
// ends maestro at once, as it would without this. interrupted reports
// whether a signal came; stop releases the signals.
func WithInterrupt(ctx context.Context) (_ context.Context, interrupted func() bool, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	var got atomic.Bool
	done := make(chan struct{})
	go func() {
		select {
		case <-signals:
			got.Store(true)
			signal.Reset(os.Interrupt, syscall.SIGTERM) // the next one ends maestro
			cancel()
		case <-done:
		}
	}()
	return ctx, got.Load, func() {
		signal.Stop(signals)
		close(done)
		cancel()
	}
}

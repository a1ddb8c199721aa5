// Command maestro is the Maestro++ command line; all logic is in internal/.
package main

import (
	"context"
	"os"

	"github.com/maestroplusplus/maestro/internal/cli"
)

func main() {
	ctx, interrupted, stop := cli.WithInterrupt(context.Background())
	code := cli.Main(ctx, os.Args, cli.DefaultFactory())
	stop()
	if interrupted() && code != 0 {
		code = cli.ExitInterrupted // work cut short; `maestro serve` shuts down gracefully, with 0
	}
	os.Exit(code)
}

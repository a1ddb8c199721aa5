// Command maestro is the Maestro++ command line; all logic is in internal/.
package main

import (
	"context"
	"os"

	"github.com/maestroplusplus/maestro/internal/cli"
)

func main() { os.Exit(cli.Main(context.Background(), os.Args, cli.DefaultFactory())) }

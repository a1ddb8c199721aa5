package cmdutil

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// Wiring is the composition root the commands use: hosts, tokens and the bot
// identity from the command's environment.
func (f *Factory) Wiring() wire.Env {
	return wire.Env{Getenv: f.Getenv, Now: f.Now}
}

// Service opens the registry the command's --store names and returns the
// flow service on it.
func (f *Factory) Service(c *cli.Context) (*service.Service, error) {
	reg, err := f.Registry(c)
	if err != nil {
		return nil, err
	}
	return f.Wiring().Service(reg), nil
}

// Platform returns the git host of a repository (see wire.Env.Platform).
func (f *Factory) Platform(reg *registry.Registry, repo string) (platform.Platform, error) {
	return f.Wiring().Platform(reg, repo)
}

// DescribeOutcome says a flow outcome in one line.
func DescribeOutcome(o maestro.FlowOutcome) string {
	s := fmt.Sprintf("subscription %s, build %d: %s", o.SubscriptionID, o.BuildID, o.Result)
	if o.PullRequestURL != "" {
		s += " " + o.PullRequestURL
	}
	if o.Message != "" {
		s += " — " + o.Message
	}
	return s
}

package cmdutil

import (
	"cmp"
	"fmt"
	"strings"
	"time"

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

// DescribeCheck is one pull request's evaluation, as `maestro pr check` and
// `maestro flow tick` print it: a line for the pull request and what was
// done, then a line per policy that did not pass.
func DescribeCheck(r service.CheckResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "pull request %s: %s", cmp.Or(r.PullRequest.URL, fmt.Sprintf("#%d of %s", r.PullRequest.Number, r.PullRequest.Repository)), cmp.Or(r.Action, "error"))
	if r.HeadCommit != "" {
		fmt.Fprintf(&b, " (head %.12s", r.HeadCommit)
		if r.Cached {
			b.WriteString(", results kept for this head")
		}
		b.WriteString(")")
	}
	if r.Message != "" {
		b.WriteString(" — " + r.Message)
	}
	if r.Err != nil {
		b.WriteString(" — error: " + r.Err.Error())
	}
	if !r.NextCheck.IsZero() && r.Action != service.ActionEnded && r.Action != service.ActionMerged {
		b.WriteString("; next check " + r.NextCheck.UTC().Format(time.RFC3339))
	}
	for _, p := range r.Policies {
		b.WriteString("\n" + DescribePolicy(p))
	}
	return b.String()
}

// DescribePolicy is one policy's result: its state, its name and the first
// line of its message; a failure adds what the rest of the message says, up
// to failureDetailLines lines, indented.
func DescribePolicy(p maestro.PolicyResult) string {
	title, rest, _ := strings.Cut(p.Message, "\n")
	line := fmt.Sprintf("  %s %s: %s", policyMark(p.State), p.Name, title)
	if p.State != maestro.CheckFailure {
		return line
	}
	var detail []string
	for _, l := range strings.Split(strings.TrimSpace(rest), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			detail = append(detail, "      "+l)
		}
	}
	if len(detail) > failureDetailLines {
		detail = append(detail[:failureDetailLines], "      …")
	}
	if len(detail) == 0 {
		return line
	}
	return line + "\n" + strings.Join(detail, "\n")
}

// failureDetailLines bounds what DescribePolicy shows of a failure's message.
const failureDetailLines = 6

// policyMark marks a policy's state at the start of its line.
func policyMark(s maestro.CheckState) string {
	switch s {
	case maestro.CheckSuccess:
		return "[pass]"
	case maestro.CheckFailure:
		return "[FAIL]"
	case maestro.CheckPending:
		return "[wait]"
	}
	return "[" + string(s) + "]"
}

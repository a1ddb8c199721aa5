package subscription

import (
	"cmp"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// whatIf checks s — a new subscription (before nil) or before changed — as
// add or update would, then prints what it would flow now; nothing is written.
func whatIf(c *cli.Context, f *cmdutil.Factory, reg *registry.Registry, s maestro.Subscription, before *maestro.Subscription, asJSON bool) error {
	s, err := reg.CheckSubscription(c.Context, s, before)
	if err != nil {
		return err
	}
	ch, err := reg.Channel(c.Context, s.ChannelID)
	if err != nil {
		return err
	}
	e := cmdutil.WhatIfEntry{Op: "add", Subject: fmt.Sprintf("%s %q %s → %s@%s", cmp.Or(s.ID, "(new)"), ch.Name, s.SourceRepository, s.TargetRepository, s.TargetBranch)}
	if before != nil {
		e.Op = "change"
	}
	x, err := f.Wiring().Service(reg).WhatIf(c.Context, s)
	if err != nil {
		return err
	}
	e.WhatIf = &x
	if asJSON {
		return cmdutil.WriteJSON(f.IO.Out, e)
	}
	if err := f.Render(false, nil, func(w io.Writer) { cmdutil.WriteWhatIf(w, []cmdutil.WhatIfEntry{e}) }); err != nil {
		return err
	}
	fmt.Fprintln(f.IO.Out, "What if: nothing was written.")
	return nil
}

package config

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	cfg "github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
)

// planAction is one action of the plan in --what-if's JSON.
type planAction struct {
	Op      string            `json:"op"` // add, change or delete
	Kind    cfg.Kind          `json:"kind"`
	Subject string            `json:"subject"`
	Detail  string            `json:"detail,omitempty"`
	Fields  []cfg.FieldChange `json:"fields"`
}

// whatIfReport is --what-if's JSON: the plan and what it would flow.
type whatIfReport struct {
	File          string                `json:"file"`
	Plan          []planAction          `json:"plan"`
	Subscriptions []cmdutil.WhatIfEntry `json:"subscriptions"`
}

// whatIf prints the plan and what it would flow now, writing nothing. reg
// is nil when the registry does not exist yet (--create): then every
// channel is new and holds no builds.
func whatIf(c *cli.Context, f *cmdutil.Factory, reg *registry.Registry, plan *cfg.Plan, asJSON bool) error {
	subs, err := plan.Subscriptions()
	if err != nil {
		return err
	}
	var svc *service.Service
	if reg != nil {
		svc = f.Wiring().Service(reg)
	}
	rep := whatIfReport{File: plan.File, Plan: []planAction{}, Subscriptions: []cmdutil.WhatIfEntry{}}
	for _, a := range plan.Actions {
		rep.Plan = append(rep.Plan, planAction{Op: a.Op.Verb(), Kind: a.Kind, Subject: a.Subject, Detail: a.Detail, Fields: append([]cfg.FieldChange{}, a.Fields...)})
	}
	for _, ps := range subs {
		e := cmdutil.WhatIfEntry{Op: ps.Action.Op.Verb(), Subject: strings.TrimSpace(ps.Action.Subject + " " + ps.Action.Detail)}
		if ps.Action.Op == cfg.OpChange {
			e.Subject = fmt.Sprintf("%s %s → %s@%s", ps.Action.Subject, ps.After.SourceRepository, ps.After.TargetRepository, ps.After.TargetBranch)
		}
		switch {
		case ps.Action.Op == cfg.OpDelete:
			e.Subscription = ps.Before
			if e.Orphans, err = svc.Orphans(c.Context, *ps.Before); err != nil {
				return fmt.Errorf("what if subscription %s were deleted: %w", ps.Before.ID, err)
			}
		default:
			x, err := svc.WhatIf(c.Context, ps.After)
			if err != nil {
				return fmt.Errorf("what if subscription %s: %w", e.Subject, err)
			}
			e.WhatIf = &x
		}
		rep.Subscriptions = append(rep.Subscriptions, e)
	}
	if asJSON {
		return cmdutil.WriteJSON(f.IO.Out, rep)
	}
	if err := plan.Write(f.IO.Out); err != nil {
		return err
	}
	fmt.Fprintln(f.IO.Out, "\nWhat if, as of now:")
	if err := f.Render(false, nil, func(w io.Writer) { cmdutil.WriteWhatIf(w, rep.Subscriptions) }); err != nil {
		return err
	}
	fmt.Fprintln(f.IO.Out, "What if: nothing was written.")
	return nil
}

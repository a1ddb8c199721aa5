package cmdutil

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service"
)

// WhatIfFlag asks a command that changes subscriptions what the change would
// flow right now, writing nothing.
var WhatIfFlag = &cli.BoolFlag{
	Name:  "what-if",
	Usage: "write nothing; print what the change would flow now: the build each new or changed subscription would apply and the dependencies it would change in the target branch, and the open pull requests each deleted subscription would orphan",
}

// WhatIfEntry is one subscription of a what-if: added, changed or deleted.
type WhatIfEntry struct {
	Op string `json:"op"` // add, change or delete
	// Subject describes the subscription for people: id, channel, source, target.
	Subject string `json:"subject"`
	// WhatIf is what an added or changed subscription would flow now.
	WhatIf *service.WhatIf `json:"whatIf,omitempty"`
	// Subscription and Orphans are a deleted subscription and the open pull
	// requests deleting it would orphan.
	Subscription *maestro.Subscription `json:"subscription,omitempty"`
	Orphans      []service.Orphan      `json:"orphans,omitempty"`
}

// WriteWhatIf writes the entries of a what-if as a table: per subscription
// a line saying what happens to it, then the build it would apply with the
// engine's decision, each dependency it would move, the assets it would
// leave and why, and the files it would change — or the pull requests its
// deletion would orphan.
func WriteWhatIf(w io.Writer, entries []WhatIfEntry) {
	if len(entries) == 0 {
		Row(w, "No subscription is added, changed or deleted.")
		return
	}
	for _, e := range entries {
		Row(w, e.Op+" subscription "+e.Subject)
		if e.WhatIf != nil {
			writeWhatIf(w, e.WhatIf)
			continue
		}
		if len(e.Orphans) == 0 {
			Row(w, "    orphans no open pull request")
		}
		for _, o := range e.Orphans {
			pr := fmt.Sprintf("    orphans pull request #%d %s (build %d)", o.PullRequest.Number, o.PullRequest.URL, o.BuildID)
			if len(o.OtherSubscriptions) > 0 {
				pr += "; subscriptions " + strings.Join(o.OtherSubscriptions, ", ") + " keep updating it"
			}
			Row(w, pr)
		}
	}
}

func writeWhatIf(w io.Writer, x *service.WhatIf) {
	if x.Build == nil {
		Row(w, "    no build to apply: "+x.Reason)
		return
	}
	b := x.Build
	Row(w, fmt.Sprintf("    build %d (%s, %s@%s): %s — %s", b.ID, b.AzureDevOpsBuildNumber, b.Branch, ShortSHA(b.Commit), x.Action, x.Reason))
	if x.TargetError != "" {
		Row(w, "    the target branch could not be read: "+x.TargetError)
		return
	}
	if len(x.Changes) == 0 && len(x.Assets) == 0 && x.Action != flow.ActionSkip {
		Row(w, "    changes nothing: the build produced none of the target's dependencies")
	}
	for _, c := range x.Changes {
		cells := []any{"    " + c.Name, c.FromVersion + " → " + c.ToVersion}
		if c.CoherentParent != "" {
			cells = append(cells, "coherent with "+c.CoherentParent)
		}
		Row(w, cells...)
	}
	for _, a := range x.Assets {
		if a.To != "" {
			continue // updated: listed among the changes
		}
		Row(w, "    kept "+a.Dependency, a.From, a.Reason)
	}
	if len(x.Files) > 0 {
		Row(w, "    files: "+strings.Join(x.Files, ", "))
	}
	for _, warn := range x.Warnings {
		Row(w, "    warning: "+warn)
	}
}

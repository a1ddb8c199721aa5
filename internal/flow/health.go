package flow

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Health problem kinds.
const (
	ProblemFailing     = "failing"
	ProblemStalePR     = "stale-pull-request"
	ProblemFailedPR    = "failing-checks"
	ProblemPending     = "old-pending-work"
	ProblemMissing     = "missing-subscription"
	ProblemConflicting = "conflicting-subscriptions"
	ProblemUnused      = "unused-subscription"
	ProblemCycle       = "dependency-cycle"
)

// Problem is one thing `flow health` reports: what is wrong and what to do.
type Problem struct {
	Kind          string   `json:"kind"`
	Subscriptions []string `json:"subscriptions,omitempty"`
	Repository    string   `json:"repository,omitempty"`
	Branch        string   `json:"branch,omitempty"`
	PullRequest   string   `json:"pullRequest,omitempty"`
	Message       string   `json:"message"`
	Action        string   `json:"action"`
}

// HealthLimits are the thresholds of a health check.
type HealthLimits struct {
	// Failures: a subscription whose last Failures attempts all failed is failing.
	Failures int
	// PullRequestAge: a tracked pull request open longer is stale.
	PullRequestAge time.Duration
	// PendingAge: pending work waiting longer is old.
	PendingAge time.Duration
	// Unused: a subscription whose last Unused outcomes all changed nothing is unused.
	Unused int
	// MirrorAge: a mirrored branch not left current by its runs for longer
	// is failing (see mirror.Health); 0 does not judge mirrors.
	MirrorAge time.Duration
}

// SubscriptionHealth is what health knows of one subscription.
type SubscriptionHealth struct {
	Subscription maestro.Subscription
	// Outcomes is the subscription's flow history, oldest first.
	Outcomes []maestro.FlowOutcome
	// PendingSince and PendingReason describe its pending work, if any.
	PendingSince  time.Time
	PendingReason string
	PendingBuild  int
	// Assets are the asset names the newest build of its source in its channel produced.
	Assets []string
}

// PullRequestHealth is a tracked pull request and the states of its checks.
type PullRequestHealth struct {
	Tracked maestro.TrackedPullRequest
	// Failing names its failed checks.
	Failing []string
}

// TargetHealth is a target branch's dependency listing, or why it could not be read.
type TargetHealth struct {
	Repository, Branch, Directory string
	Listing                       *deps.Listing
}

// Health finds the problems in the flow: failing, unused and conflicting
// subscriptions, stale pull requests and ones with failing checks, old
// pending work, dependencies without a subscription, and cycles among
// repositories. Problems come sorted by kind, then subject.
func Health(now time.Time, lim HealthLimits, subs []SubscriptionHealth, prs []PullRequestHealth, targets []TargetHealth) []Problem {
	var out []Problem
	for _, sh := range subs {
		s := sh.Subscription
		if !s.Enabled {
			continue
		}
		if n := lim.Failures; n > 0 && len(sh.Outcomes) >= n && allResults(sh.Outcomes[len(sh.Outcomes)-n:], maestro.ResultFailure) {
			last := sh.Outcomes[len(sh.Outcomes)-1]
			out = append(out, Problem{Kind: ProblemFailing, Subscriptions: []string{s.ID}, Repository: s.TargetRepository, Branch: s.TargetBranch,
				Message: fmt.Sprintf("the last %d attempts failed; the last: %s", n, last.Message),
				Action:  fmt.Sprintf("fix the cause, then `maestro subscription trigger --id %s`", s.ID)})
		}
		if n := lim.Unused; n > 0 && len(sh.Outcomes) >= n && allResults(sh.Outcomes[len(sh.Outcomes)-n:], maestro.ResultNoUpdate) {
			out = append(out, Problem{Kind: ProblemUnused, Subscriptions: []string{s.ID}, Repository: s.TargetRepository, Branch: s.TargetBranch,
				Message: fmt.Sprintf("its last %d builds changed nothing in the target", n),
				Action:  fmt.Sprintf("check that the target uses what %s produces, or `maestro subscription delete --id %s`", s.SourceRepository, s.ID)})
		}
		if !sh.PendingSince.IsZero() && lim.PendingAge > 0 && now.Sub(sh.PendingSince) > lim.PendingAge {
			out = append(out, Problem{Kind: ProblemPending, Subscriptions: []string{s.ID}, Repository: s.TargetRepository, Branch: s.TargetBranch,
				Message: fmt.Sprintf("build %d has waited since %s (%s)", sh.PendingBuild, sh.PendingSince.UTC().Format(time.RFC3339), sh.PendingReason),
				Action:  fmt.Sprintf("see `maestro flow explain --build %d`; make sure `maestro flow tick` runs", sh.PendingBuild)})
		}
	}
	for _, p := range prs {
		pr := p.Tracked.PullRequest
		if lim.PullRequestAge > 0 && !pr.CreatedAt.IsZero() && now.Sub(pr.CreatedAt) > lim.PullRequestAge {
			out = append(out, Problem{Kind: ProblemStalePR, Subscriptions: updateIDs(p.Tracked), Repository: pr.Repository, Branch: pr.BaseBranch, PullRequest: pr.URL,
				Message: fmt.Sprintf("pull request #%d has been open since %s", pr.Number, pr.CreatedAt.UTC().Format(time.RFC3339)),
				Action:  "review and merge it, or close it so that the next build opens a fresh one"})
		}
		if len(p.Failing) > 0 {
			out = append(out, Problem{Kind: ProblemFailedPR, Subscriptions: updateIDs(p.Tracked), Repository: pr.Repository, Branch: pr.BaseBranch, PullRequest: pr.URL,
				Message: fmt.Sprintf("pull request #%d has failing checks: %s", pr.Number, strings.Join(p.Failing, ", ")),
				Action:  "fix the build in the pull request's branch, or close it"})
		}
	}
	out = append(out, missing(subs, targets)...)
	out = append(out, conflicting(subs)...)
	out = append(out, cycles(subs)...)
	slices.SortStableFunc(out, func(a, b Problem) int {
		return strings.Compare(a.Kind+"\x00"+a.Repository+"\x00"+a.Branch+"\x00"+strings.Join(a.Subscriptions, ","), b.Kind+"\x00"+b.Repository+"\x00"+b.Branch+"\x00"+strings.Join(b.Subscriptions, ","))
	})
	return out
}

func allResults(os []maestro.FlowOutcome, r maestro.FlowResult) bool {
	for _, o := range os {
		if o.Result != r {
			return false
		}
	}
	return true
}

func updateIDs(t maestro.TrackedPullRequest) []string {
	var ids []string
	for _, u := range t.Updates {
		ids = append(ids, u.SubscriptionID)
	}
	return ids
}

// missing reports dependencies of a target whose source repository has no
// subscription into that branch (pinned dependencies and those that follow
// a coherent parent are not expected to have one).
func missing(subs []SubscriptionHealth, targets []TargetHealth) []Problem {
	var out []Problem
	for _, t := range targets {
		if t.Listing == nil {
			continue
		}
		reported := map[string]bool{}
		for _, d := range t.Listing.Dependencies {
			if d.Pinned || d.CoherentParent != "" || d.URI == "" || reported[repourl.Normalize(d.URI)] {
				continue
			}
			covered := slices.ContainsFunc(subs, func(sh SubscriptionHealth) bool {
				s := sh.Subscription
				return repourl.Equal(s.TargetRepository, t.Repository) && s.TargetBranch == t.Branch && s.TargetDirectory == t.Directory &&
					repourl.SameRepository(s.SourceRepository, d.URI)
			})
			if covered {
				continue
			}
			reported[repourl.Normalize(d.URI)] = true
			out = append(out, Problem{Kind: ProblemMissing, Repository: t.Repository, Branch: t.Branch,
				Message: fmt.Sprintf("%s (and any other dependency from %s) has no subscription from %s", d.Name, d.URI, d.URI),
				Action:  fmt.Sprintf("`maestro subscription add --source-repo %s --target-repo %s --target-branch %s --channel CHANNEL`, or pin the dependency", d.URI, t.Repository, t.Branch)})
		}
	}
	return out
}

// conflicting reports enabled subscriptions into one target branch (and
// directory) that bring the same asset.
func conflicting(subs []SubscriptionHealth) []Problem {
	type into struct{ repo, branch, dir, asset string }
	bringers := map[into][]string{}
	display := map[into]string{}
	var order []into
	for _, sh := range subs {
		s := sh.Subscription
		if !s.Enabled {
			continue
		}
		for _, a := range sh.Assets {
			if deps.Excluded(s.ExcludedAssets, a) {
				continue
			}
			k := into{strings.ToLower(repourl.Normalize(s.TargetRepository)), s.TargetBranch, s.TargetDirectory, strings.ToLower(a)}
			if _, ok := bringers[k]; !ok {
				order = append(order, k)
				display[k] = s.TargetRepository
			}
			if !slices.Contains(bringers[k], s.ID) {
				bringers[k] = append(bringers[k], s.ID)
			}
		}
	}
	var out []Problem
	seen := map[string]bool{}
	for _, k := range order {
		ids := bringers[k]
		if len(ids) < 2 {
			continue
		}
		slices.Sort(ids)
		key := k.repo + "\x00" + k.branch + "\x00" + strings.Join(ids, ",")
		if seen[key] {
			continue // one line per set of subscriptions, however many assets they share
		}
		seen[key] = true
		out = append(out, Problem{Kind: ProblemConflicting, Subscriptions: ids, Repository: display[k], Branch: k.branch,
			Message: fmt.Sprintf("%d subscriptions bring %s into this branch", len(ids), k.asset),
			Action:  "exclude the asset from all but one (`maestro subscription update --id ID --exclude-asset NAME`), or delete the extra subscription"})
	}
	return out
}

// cycles reports each cycle among repositories that enabled subscriptions
// form (source → target), once.
func cycles(subs []SubscriptionHealth) []Problem {
	edges := map[string][]string{}
	names := map[string]string{}
	for _, sh := range subs {
		s := sh.Subscription
		if !s.Enabled {
			continue
		}
		from, to := strings.ToLower(repourl.Normalize(s.SourceRepository)), strings.ToLower(repourl.Normalize(s.TargetRepository))
		names[from], names[to] = s.SourceRepository, s.TargetRepository
		if from != to && !slices.Contains(edges[from], to) {
			edges[from] = append(edges[from], to)
		}
	}
	nodes := make([]string, 0, len(names))
	for n := range names {
		nodes = append(nodes, n)
		slices.Sort(edges[n])
	}
	slices.Sort(nodes)
	// Tarjan's strongly connected components: every component of two or
	// more repositories holds a cycle.
	index, low := map[string]int{}, map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	var out []Problem
	next := 0
	var visit func(v string)
	visit = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range edges[v] {
			if _, ok := index[w]; !ok {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []string
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, names[w])
			if w == v {
				break
			}
		}
		if len(comp) > 1 {
			slices.Sort(comp)
			out = append(out, Problem{Kind: ProblemCycle, Repository: comp[0],
				Message: "dependency flow runs in a cycle among " + strings.Join(comp, ", "),
				Action:  "break the cycle: disable or delete one of the subscriptions between these repositories"})
		}
	}
	for _, n := range nodes {
		if _, ok := index[n]; !ok {
			visit(n)
		}
	}
	return out
}

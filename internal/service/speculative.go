package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/policy"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/updater"
)

// speculativePoll is how often an open speculative pull request looks at
// its ancestors (for a merge or a close) and for the mainline build of a
// merged parent, when no event says so first.
const speculativePoll = 5 * time.Minute

// FlowSpeculative flows a newly published speculative build of a pull
// request to the subscriptions that opt in (maestro.Subscription
// Speculative) on the channels whose speculative twins it joined: each
// gets, or has updated in place, its speculative pull request for that
// pull request (docs/speculative.md). A build without a pull request flows
// nowhere. Failures are outcomes, or Err for the caller to warn about;
// what could not be done now stays due for `flow tick`.
func (s *Service) FlowSpeculative(ctx context.Context, b maestro.Build) []Triggered {
	if !b.Speculative || b.PullRequest == nil {
		return nil
	}
	now := s.Now()
	parent := b.PullRequest.URL
	chain, err := s.chainOf(ctx, parent)
	if err != nil {
		return []Triggered{{Err: fmt.Errorf("speculative build %d: the chain above %s: %w", b.ID, parent, err)}}
	}
	var out []Triggered
	for _, ch := range b.Channels {
		if !registry.IsSpeculativeID(ch.ID) {
			continue
		}
		subs, err := s.Registry.Subscriptions(ctx, registry.SubscriptionFilter{ChannelID: ch.ID - registry.SpeculativeIDBase})
		if err != nil {
			out = append(out, Triggered{Err: fmt.Errorf("speculative build %d: subscriptions of channel %d: %w", b.ID, ch.ID-registry.SpeculativeIDBase, err)})
			continue
		}
		for _, sub := range subs {
			if !sub.Speculative || !sub.Enabled || !repourl.SameRepository(sub.SourceRepository, b.Repository) {
				continue
			}
			key := registry.SpeculativeKey(sub.ID, parent)
			if slices.ContainsFunc(chain, func(u string) bool {
				r, _, err := repourl.PullRequest(u)
				return err == nil && repourl.SameRepository(r, sub.TargetRepository)
			}) {
				// The chain passed through the target already: a cycle of
				// subscriptions would flow around it for ever.
				continue
			}
			sp, err := s.Registry.UpdateSpeculativePullRequest(ctx, sub.ID, key, func(sp *maestro.SpeculativePullRequest, exists bool) error {
				if exists && (sp.State != maestro.SpeculativeOpen || sp.BuildID >= b.ID) {
					return registry.ErrUnchanged
				}
				if !exists {
					*sp = maestro.SpeculativePullRequest{
						Key: key, SubscriptionID: sub.ID, SourceRepository: sub.SourceRepository,
						TargetRepository: sub.TargetRepository, TargetBranch: sub.TargetBranch,
						Parent: parent, Chain: chain, State: maestro.SpeculativeOpen,
					}
				}
				sp.BuildID, sp.NextAttempt, sp.Updated = b.ID, now, now
				return nil
			})
			if err != nil {
				out = append(out, Triggered{Subscription: sub, Err: err})
				continue
			}
			o, err := s.advance(ctx, sp, now)
			if err != nil {
				err = fmt.Errorf("speculative build %d did not flow to %s@%s: %w", b.ID, sub.TargetRepository, sub.TargetBranch, err)
			}
			if o.SubscriptionID != "" || err != nil {
				out = append(out, Triggered{Subscription: sub, Outcome: o, Err: err})
			}
		}
	}
	return out
}

// chainOf is the chain a speculative pull request of parent takes: the
// chain above parent when parent is itself a speculative pull request the
// flow opened, then parent.
func (s *Service) chainOf(ctx context.Context, parent string) ([]string, error) {
	all, err := s.Registry.SpeculativePullRequests(ctx)
	if err != nil {
		return nil, err
	}
	for _, sp := range all {
		if sp.PullRequestURL != "" && sameURL(sp.PullRequestURL, parent) {
			return append(slices.Clone(sp.Chain), parent), nil
		}
	}
	return []string{parent}, nil
}

// sameURL compares pull request URLs as repositories and numbers.
func sameURL(a, b string) bool {
	ra, na, errA := repourl.PullRequest(a)
	rb, nb, errB := repourl.PullRequest(b)
	if errA != nil || errB != nil {
		return strings.EqualFold(a, b)
	}
	return na == nb && repourl.Equal(ra, rb)
}

// TickSpeculative advances, as of now, every speculative pull request
// whose next attempt has come: a newer speculative build to carry, an
// ancestor that merged or closed, the mainline build a merged parent's
// descendants wait for. It reads the speculative pull requests' documents
// only, so it costs nothing where there are none.
func (s *Service) TickSpeculative(ctx context.Context, now time.Time) ([]maestro.FlowOutcome, error) {
	all, err := s.Registry.SpeculativePullRequests(ctx)
	if err != nil {
		return nil, err
	}
	outcomes := []maestro.FlowOutcome{}
	var errs []error
	for _, sp := range all {
		if sp.Ended() || sp.NextAttempt.After(now) {
			continue
		}
		o, err := s.advance(ctx, sp, now)
		if o.SubscriptionID != "" {
			outcomes = append(outcomes, o)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("speculative pull request of subscription %s for %s: %w", sp.SubscriptionID, sp.Parent, err))
		}
	}
	return outcomes, errors.Join(errs...)
}

// SpeculativeDue makes every open speculative pull request below the pull
// request url (or that is url) due now: an event (a merge, a close, a
// push) says so before the next poll would.
func (s *Service) SpeculativeDue(ctx context.Context, url string, now time.Time) (int, error) {
	all, err := s.Registry.SpeculativePullRequests(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sp := range all {
		below := slices.ContainsFunc(sp.Chain, func(u string) bool { return sameURL(u, url) })
		if sp.Ended() || !below && !(sp.PullRequestURL != "" && sameURL(sp.PullRequestURL, url)) {
			continue
		}
		if _, err := s.Registry.UpdateSpeculativePullRequest(ctx, sp.SubscriptionID, sp.Key, func(cur *maestro.SpeculativePullRequest, exists bool) error {
			if !exists || cur.Ended() || !cur.NextAttempt.After(now) {
				return registry.ErrUnchanged
			}
			cur.NextAttempt = now
			return nil
		}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// advance does the work of one speculative pull request, under its claim:
//  1. it ended on the host (merged, or closed by a person): recorded so;
//  2. an ancestor closed without merging, or its subscription opted out of
//     speculative builds while the pull request is still speculative: the
//     pull request is closed with a comment saying why, its branch
//     deleted, and it stops being tracked; its subscription disabled:
//     nothing more is done until it is enabled (steps 3 and 4 wait);
//  3. its parent merged: once the mainline build of the merged commit is
//     in the registry (in the subscription's channel), the pull request is
//     moved to it — its [speculative] marks removed — and the ordinary
//     merge policies decide, with the gate re-evaluated;
//  4. otherwise a newer speculative build of the parent is carried, in
//     place.
//
// Consistency: the claim, the host's changes and the document's final
// write are separate steps; a close is recorded only once the host's part
// of it worked, else it is tried again. A crash after the claim leaves a claim that
// lapses after claimFor; every host step is repeated safely by the next
// attempt (the updater finds a build already carried; a closed pull
// request is not closed again, a deleted branch not deleted again), and
// the document's final write is the commit point of the attempt, which
// never lowers what another attempt recorded (BuildID only rises, and
// AppliedBuildID is the build this attempt applied).
func (s *Service) advance(ctx context.Context, sp maestro.SpeculativePullRequest, now time.Time) (maestro.FlowOutcome, error) {
	owner := uuid.NewString()
	claimed, err := s.Registry.UpdateSpeculativePullRequest(ctx, sp.SubscriptionID, sp.Key, func(cur *maestro.SpeculativePullRequest, exists bool) error {
		if !exists || cur.Ended() {
			return errDueTaken
		}
		// The claim lapses claimFor after the moment the attempt works
		// for (the clock; `flow tick --now` decides for another moment).
		if cur.Claim != nil && cur.Claim.Until.After(now) {
			return errBusy
		}
		cur.Claim = &maestro.Claim{Owner: owner, Until: now.Add(claimFor)}
		return nil
	})
	if errors.Is(err, errDueTaken) || errors.Is(err, errBusy) {
		// Ended, or another process works on it: a newer build it did not
		// read stays above AppliedBuildID, due at once.
		return maestro.FlowOutcome{}, nil
	}
	if err != nil {
		return maestro.FlowOutcome{}, err
	}
	res, werr := s.work(ctx, claimed, now)
	_, serr := s.Registry.UpdateSpeculativePullRequest(ctx, sp.SubscriptionID, sp.Key, func(cur *maestro.SpeculativePullRequest, _ bool) error {
		if cur.Claim != nil && cur.Claim.Owner == owner {
			cur.Claim = nil
		}
		cur.Updated = now
		if res.pr != nil {
			cur.PullRequestURL, cur.Number = res.pr.URL, res.pr.Number
		}
		cur.BuildID = max(cur.BuildID, res.found)
		cur.AppliedBuildID = max(cur.AppliedBuildID, res.applied)
		if res.mainline != 0 {
			cur.MainlineBuildID = res.mainline
		}
		if res.state != "" && (!cur.Ended() || res.state == cur.State) {
			cur.State = res.state
		}
		cur.Waiting = res.waiting
		switch {
		case cur.Ended():
			cur.NextAttempt = time.Time{}
		case cur.State == maestro.SpeculativeOpen && cur.BuildID > cur.AppliedBuildID && res.retryAt.IsZero():
			cur.NextAttempt = now // a newer build came meanwhile
		case !res.retryAt.IsZero():
			cur.NextAttempt = res.retryAt
		default:
			cur.NextAttempt = now.Add(speculativePoll)
		}
		return nil
	})
	return res.outcome, errors.Join(werr, serr)
}

// worked is what one attempt at a speculative pull request did.
type worked struct {
	outcome  maestro.FlowOutcome
	pr       *maestro.PullRequest
	applied  int
	found    int // a newer speculative build of the parent than the document's
	mainline int
	state    string
	waiting  string
	retryAt  time.Time
}

// close ends an attempt that closes the pull request for why: the
// document turns closed once the host's part worked (err nil); otherwise
// it stays as it was and the attempt is tried again (a failed close left
// recorded closed would leave the pull request open on the host, tracked,
// with nothing to close it).
func (w worked) close(err error, why string, now time.Time) (worked, error) {
	if err != nil {
		w.retryAt = now.Add(retryDelay(1))
		return w, err
	}
	w.state, w.waiting = maestro.SpeculativeClosed, why
	return w, nil
}

// closeOpened ends an attempt that closes sp for why: its pull request,
// once one was opened, is closed with comment (closeSpeculative).
func (s *Service) closeOpened(ctx context.Context, w worked, sp maestro.SpeculativePullRequest, why, comment string, now time.Time) (worked, error) {
	var err error
	if sp.Number != 0 {
		err = s.closeSpeculative(ctx, sp, comment)
	}
	return w.close(err, why, now)
}

func (s *Service) work(ctx context.Context, sp maestro.SpeculativePullRequest, now time.Time) (worked, error) {
	var w worked
	sub, err := s.Registry.Subscription(ctx, sp.SubscriptionID)
	if maestro.KindOf(err) == maestro.KindNotFound {
		return w.close(s.closeSpeculative(ctx, sp, "Its subscription was deleted, so nothing keeps it up to date."), "its subscription was deleted", now)
	}
	if err != nil {
		return w, err
	}
	p, err := s.Platform(sp.TargetRepository)
	if err != nil {
		return w, err
	}
	// 1. The pull request itself.
	if sp.Number != 0 {
		pr, err := p.PullRequest(ctx, sp.TargetRepository, sp.Number)
		if err != nil {
			w.retryAt = now.Add(speculativePoll)
			return w, err
		}
		switch pr.State {
		case maestro.PullRequestMerged:
			w.state = maestro.SpeculativeMerged
			return w, nil
		case maestro.PullRequestClosed:
			w.state = maestro.SpeculativeClosed
			w.waiting = "closed on the host"
			return w, nil
		}
	}
	// 2. The ancestors.
	states, err := s.ancestorStates(ctx, sp.Chain)
	if err != nil {
		w.retryAt = now.Add(speculativePoll)
		return w, err
	}
	var open []string
	for _, a := range states {
		switch a.State {
		case maestro.PullRequestClosed:
			return s.closeOpened(ctx, w, sp, "ancestor "+a.URL+" closed without merging", fmt.Sprintf(
				"Pull request %s, which this speculative pull request took changes from, was closed without merging, so this one can never merge: Maestro++ closed it and deleted its branch.", a.URL), now)
		case maestro.PullRequestOpen:
			open = append(open, a.URL)
		}
	}
	// The subscription: one that opted out closes a pull request still
	// speculative (a moved one is an ordinary update by now); a disabled
	// one carries nothing until it is enabled again.
	if !sub.Speculative && sp.State == maestro.SpeculativeOpen {
		return s.closeOpened(ctx, w, sp, fmt.Sprintf("subscription %s opted out of speculative builds", sub.ID), fmt.Sprintf(
			"Subscription %s no longer takes speculative builds (`--speculative=false`), so nothing keeps this pull request up to date: Maestro++ closed it and deleted its branch.", sub.ID), now)
	}
	if !sub.Enabled {
		w.waiting = fmt.Sprintf("subscription %s to be enabled (`maestro subscription enable --id %s`)", sub.ID, sub.ID)
		return w, nil
	}
	spec := updater.Speculative{Key: sp.Key, Mark: maestro.SpeculativeMark{Parent: sp.Parent, Chain: sp.Chain}}
	// 3. The parent merged: move to the mainline build of the merged commit.
	if parent := states[len(states)-1]; parent.State == maestro.PullRequestMerged {
		if sp.State == maestro.SpeculativeMoved && sp.MainlineBuildID != 0 {
			w.waiting = waitingFor(open)
			return w, nil
		}
		b, err := s.mainlineBuild(ctx, sub, parent.mergeCommit)
		if err != nil {
			return w, err
		}
		if b.ID == 0 {
			w.waiting = fmt.Sprintf("the mainline build of %s at %s (parent %s merged)", sub.SourceRepository, parent.mergeCommit, parent.URL)
			return w, nil
		}
		spec.Mark.Moved = true
		o, err := s.Updater.ApplySpeculative(ctx, sub.ID, b.ID, spec)
		w.outcome = o
		if err == nil && (o.Result == maestro.ResultUpdated || o.Result == maestro.ResultNoUpdate) {
			w.state, w.mainline = maestro.SpeculativeMoved, b.ID
			w.pr, err = s.trackedPR(ctx, sp)
			w.waiting = waitingFor(open)
		} else if o.Result == maestro.ResultRescheduled {
			w.retryAt = now.Add(checksPoll)
			w.waiting = o.Message
		}
		return w, err
	}
	// 4. Carry the newest speculative build of the parent — one whose
	// publish's flow never reached this document (published with
	// --no-trigger, or killed before) included.
	if sp.State == maestro.SpeculativeOpen {
		found, err := s.newerSpeculative(ctx, sub, sp)
		if err != nil {
			w.retryAt = now.Add(retryDelay(1))
			return w, err
		}
		if found > sp.BuildID {
			sp.BuildID, w.found = found, found
		}
	}
	if sp.State == maestro.SpeculativeOpen && sp.BuildID > sp.AppliedBuildID {
		o, err := s.Updater.ApplySpeculative(ctx, sub.ID, sp.BuildID, spec)
		w.outcome = o
		switch {
		case err != nil:
			w.retryAt = now.Add(retryDelay(1))
			return w, err
		case o.Result == maestro.ResultUpdated || o.Result == maestro.ResultNoUpdate:
			w.applied = sp.BuildID
			if w.pr, err = s.trackedPR(ctx, sp); err != nil {
				return w, err
			}
		default:
			w.retryAt = now.Add(checksPoll)
			w.waiting = o.Message
			return w, nil
		}
	}
	w.waiting = waitingFor(open)
	return w, nil
}

// newerSpeculative returns the newest speculative build of sp's parent
// pull request that flows through sub (of its source, in its channel's
// twin) when it is newer than sp.BuildID, else 0. It reads the twin's
// builds of the source newest first and stops at sp.BuildID, so it costs
// one list read and the records of the builds published since.
func (s *Service) newerSpeculative(ctx context.Context, sub maestro.Subscription, sp maestro.SpeculativePullRequest) (int, error) {
	spec, err := s.Registry.Speculative(ctx)
	if err != nil {
		return 0, err
	}
	before := 0
	for range 20 { // at most 200 builds of the source since the last one carried
		bs, err := spec.Builds(ctx, registry.BuildFilter{Repository: sub.SourceRepository, ChannelID: registry.SpeculativeTwinID(sub.ChannelID), Before: before, Limit: 10})
		if err != nil {
			return 0, fmt.Errorf("speculative builds of %s: %w", sub.SourceRepository, err)
		}
		for _, b := range bs {
			if b.ID <= sp.BuildID {
				return 0, nil
			}
			if b.PullRequest != nil && sameURL(b.PullRequest.URL, sp.Parent) {
				return b.ID, nil
			}
		}
		if len(bs) < 10 {
			return 0, nil
		}
		before = bs[len(bs)-1].ID
	}
	return 0, nil
}

func waitingFor(open []string) string {
	if len(open) == 0 {
		return ""
	}
	return "ancestor pull request(s) to merge: " + strings.Join(open, ", ")
}

// ancestor is an ancestor pull request's state and, once merged, the
// commit the merge left on its base.
type ancestor struct {
	policy.Ancestor
	mergeCommit string
}

// ancestorStates reads the state of each pull request of chain from its
// host, root first.
func (s *Service) ancestorStates(ctx context.Context, chain []string) ([]ancestor, error) {
	out := make([]ancestor, 0, len(chain))
	for _, u := range chain {
		repo, num, err := repourl.PullRequest(u)
		if err != nil {
			return nil, err
		}
		p, err := s.Platform(repo)
		if err != nil {
			return nil, err
		}
		pr, err := p.PullRequest(ctx, repo, num)
		if err != nil {
			return nil, fmt.Errorf("ancestor %s: %w", u, err)
		}
		out = append(out, ancestor{Ancestor: policy.Ancestor{URL: u, State: pr.State}, mergeCommit: pr.MergeCommit})
	}
	return out, nil
}

// mainlineBuild is the newest official build of the subscription's source
// at commit in the subscription's channel (zero when there is none yet).
func (s *Service) mainlineBuild(ctx context.Context, sub maestro.Subscription, commit string) (maestro.Build, error) {
	if commit == "" {
		return maestro.Build{}, nil
	}
	builds, err := s.Registry.Builds(ctx, registry.BuildFilter{Repository: sub.SourceRepository, Commit: commit})
	if err != nil {
		return maestro.Build{}, err
	}
	for _, b := range builds {
		if slices.ContainsFunc(b.Channels, func(c maestro.Channel) bool { return c.ID == sub.ChannelID }) {
			return b, nil
		}
	}
	return maestro.Build{}, nil
}

// trackedPR is the pull request tracked for sp.
func (s *Service) trackedPR(ctx context.Context, sp maestro.SpeculativePullRequest) (*maestro.PullRequest, error) {
	t, _, err := s.Registry.TrackedPullRequest(ctx, sp.TargetRepository, sp.TargetBranch, sp.Key)
	if err != nil || t == nil || t.PullRequest.Number == 0 {
		return nil, err
	}
	return &t.PullRequest, nil
}

// closeSpeculative closes the speculative pull request of sp with a
// comment saying why, deletes its branch and stops tracking it. Each step
// is repeated safely: the comment is posted only while the pull request
// is open, so a crash between the comment and the close posts it again at
// most once more.
func (s *Service) closeSpeculative(ctx context.Context, sp maestro.SpeculativePullRequest, why string) error {
	t, version, err := s.Registry.TrackedPullRequest(ctx, sp.TargetRepository, sp.TargetBranch, sp.Key)
	if err != nil || t == nil {
		return err
	}
	p, err := s.Platform(sp.TargetRepository)
	if err != nil {
		return err
	}
	if t.PullRequest.Number != 0 {
		pr, err := p.PullRequest(ctx, sp.TargetRepository, t.PullRequest.Number)
		if err != nil {
			return err
		}
		if pr.State == maestro.PullRequestOpen {
			if err := p.Comment(ctx, pr, why); err != nil {
				return err
			}
			c, ok := p.(platform.Closer)
			if !ok {
				return fmt.Errorf("close %s: the host of %s cannot close pull requests", pr.URL, sp.TargetRepository)
			}
			if err := c.Close(ctx, pr); err != nil {
				return err
			}
		}
	}
	if err := p.DeleteBranch(ctx, sp.TargetRepository, t.PullRequest.HeadBranch); err != nil {
		return err
	}
	if err := s.Registry.Untrack(ctx, sp.TargetRepository, sp.TargetBranch, sp.Key, version); err != nil {
		return err
	}
	return s.Registry.DeletePolicyEvaluation(ctx, sp.TargetRepository, sp.TargetBranch, sp.Key)
}

// moveSpeculative moves the open speculative pull requests of sub whose
// parent merged as b's commit to the mainline build b (advance does the
// moving). ok says that some took it: the build then opens no pull request
// of its own beside them.
func (s *Service) moveSpeculative(ctx context.Context, sub maestro.Subscription, b maestro.Build) ([]maestro.FlowOutcome, bool, error) {
	all, err := s.Registry.SpeculativePullRequests(ctx)
	if err != nil {
		return nil, false, err
	}
	var outcomes []maestro.FlowOutcome
	ok := false
	for _, sp := range all {
		if sp.SubscriptionID != sub.ID || sp.State != maestro.SpeculativeOpen || sp.Number == 0 {
			continue
		}
		parent, err := s.ancestorStates(ctx, []string{sp.Parent})
		if err != nil {
			return outcomes, ok, err
		}
		if parent[0].State != maestro.PullRequestMerged || !strings.EqualFold(parent[0].mergeCommit, b.Commit) {
			continue
		}
		o, err := s.advance(ctx, sp, s.Now())
		if o.SubscriptionID != "" {
			outcomes = append(outcomes, o)
		}
		if err != nil {
			return outcomes, ok, err
		}
		ok = true
	}
	return outcomes, ok, nil
}

// SpeculativeNode is one speculative pull request of a tree, as `maestro
// speculative status` and the status site show it: its record, its depth
// below the root (1: a child of the root pull request), the gate
// (SpeculativeParentsMerged) as its ancestors stand now — "passed",
// "waiting", "failed", or "" for one that ended — and its ancestors.
type SpeculativeNode struct {
	maestro.SpeculativePullRequest
	Depth     int               `json:"depth"`
	Gate      string            `json:"gate"`
	Ancestors []policy.Ancestor `json:"ancestors"`
	// GateError says why the ancestors could not be read.
	GateError string `json:"gateError,omitempty"`
}

// SpeculativeTree returns the speculative pull requests below the pull
// request url (or that are url), every one when url is empty, root first
// then down each chain, with the gate read from the ancestors' hosts.
func (s *Service) SpeculativeTree(ctx context.Context, url string) ([]SpeculativeNode, error) {
	if url != "" {
		if _, _, err := repourl.PullRequest(url); err != nil {
			return nil, maestro.Errorf(maestro.KindInvalid, "--pull-request: %v", err)
		}
	}
	all, err := s.Registry.SpeculativePullRequests(ctx)
	if err != nil {
		return nil, err
	}
	nodes := []SpeculativeNode{}
	for _, sp := range all {
		in := url == "" || sp.PullRequestURL != "" && sameURL(sp.PullRequestURL, url) ||
			slices.ContainsFunc(sp.Chain, func(u string) bool { return sameURL(u, url) })
		if !in {
			continue
		}
		n := SpeculativeNode{SpeculativePullRequest: sp, Depth: len(sp.Chain), Ancestors: []policy.Ancestor{}}
		if !sp.Ended() && sp.Number != 0 {
			// The host knows first when it merged or closed; the record
			// follows at the next attempt.
			if st, err := s.ancestorStates(ctx, []string{sp.PullRequestURL}); err == nil {
				switch st[0].State {
				case maestro.PullRequestMerged:
					n.State, n.Waiting = maestro.SpeculativeMerged, ""
				case maestro.PullRequestClosed:
					n.State, n.Waiting = maestro.SpeculativeClosed, "closed on the host"
				}
			}
		}
		states, err := s.ancestorStates(ctx, sp.Chain)
		switch {
		case err != nil:
			n.GateError = err.Error()
		default:
			for _, a := range states {
				n.Ancestors = append(n.Ancestors, a.Ancestor)
			}
			if !n.Ended() {
				n.Gate = gateOf(n.Ancestors)
				if n.Gate == "passed" && n.State != maestro.SpeculativeMoved {
					// Every ancestor merged, but it still carries the
					// parent's speculative build: the policy waits too.
					n.Gate = "waiting"
				}
			}
		}
		nodes = append(nodes, n)
	}
	slices.SortStableFunc(nodes, func(a, b SpeculativeNode) int {
		return strings.Compare(strings.Join(append(slices.Clone(a.Chain), a.PullRequestURL), "\n"), strings.Join(append(slices.Clone(b.Chain), b.PullRequestURL), "\n"))
	})
	return nodes, nil
}

// gateOf is where SpeculativeParentsMerged stands for these ancestors.
func gateOf(ancestors []policy.Ancestor) string {
	gate := "passed"
	for _, a := range ancestors {
		switch a.State {
		case maestro.PullRequestClosed:
			return "failed"
		case maestro.PullRequestOpen:
			gate = "waiting"
		}
	}
	return gate
}

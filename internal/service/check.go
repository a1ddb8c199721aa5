package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/policy"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// CheckInterval is how long a tracked pull request waits between
// evaluations of its merge policies, by its age, as production spaces them:
// every 5 minutes; every 15 after 2 days; 30 after 14; an hour after 21;
// 12 hours after 30.
func CheckInterval(age time.Duration) time.Duration {
	const day = 24 * time.Hour
	switch {
	case age >= 30*day:
		return 12 * time.Hour
	case age >= 21*day:
		return time.Hour
	case age >= 14*day:
		return 30 * time.Minute
	case age >= 2*day:
		return 15 * time.Minute
	}
	return 5 * time.Minute
}

// mergeRetry is how soon a merge the host refused is tried again, whatever
// the pull request's age: the refusal (a required check still running, a
// base that moved) usually clears within minutes.
const mergeRetry = 5 * time.Minute

// checkLockWait bounds how long a merge waits for an update (or another
// check) of the same pull request to finish; past it the merge waits for
// the next check, mergeRetry later, instead of holding the others up.
const checkLockWait = 2 * time.Second

// checkConcurrency bounds the pull requests one evaluation works on at once.
const checkConcurrency = 16

// CheckRequest selects the pull requests CheckPullRequests evaluates.
type CheckRequest struct {
	// Repository and Number name one tracked pull request, evaluated
	// whether due or not; zero values evaluate every tracked pull request
	// that is due.
	Repository string
	Number     int
}

// Check actions: what an evaluation did with a pull request.
const (
	ActionWaiting    = "waiting"     // a policy is pending or failing
	ActionMerged     = "merged"      // Maestro++ merged it now
	ActionNative     = "auto-merge"  // the host's auto-merge / auto-complete is on
	ActionOff        = "ready"       // every policy passed; auto-merge is off
	ActionRefused    = "refused"     // the host refused the merge; retried
	ActionNoPolicies = "no-policies" // nothing to evaluate; a person merges
	ActionEnded      = "ended"       // merged or closed on the host; no longer tracked
	ActionBusy       = "busy"        // an update of it holds its lock; next time
	ActionRetry      = "retry"       // the host failed for a while (429, 5xx, timeout); next time
)

// CheckResult is what evaluating one pull request did.
type CheckResult struct {
	PullRequest maestro.PullRequest    `json:"pullRequest"`
	HeadCommit  string                 `json:"headCommit,omitempty"`
	Policies    []maestro.PolicyResult `json:"policies"`
	// Cached: the results are a decisive failure kept for this head.
	Cached    bool      `json:"cached,omitempty"`
	Action    string    `json:"action"`
	Message   string    `json:"message"`
	NextCheck time.Time `json:"nextCheck,omitzero"`
	Err       error     `json:"-"`
	// Error is Err's text, for JSON.
	Error string `json:"error,omitempty"`
}

// CheckPullRequests evaluates, as of now, the merge policies of the tracked
// pull requests req selects and acts on the results: it reports them on the
// pull request (platform.PolicyReporter), notifies a failing pull request's
// people once per head commit, and merges one whose policies all pass when
// auto-merge is on for its target branch — squash-merging it (deleting the
// branch), or, with merge method native, turning on the host's auto-merge.
// A pull request found merged sets its subscriptions' lastAppliedBuildId,
// is no longer tracked, and the updates waiting for it are made due.
//
// Each pull request costs one platform read (Status) per evaluation; while
// its head commit and policies give the same policy.CacheKey as a decisive
// failure kept from before, nothing else is read or written on the host.
//
// Consistency: the evaluation state is one document per tracked pull
// request (registry.PolicyEvaluation), written by compare-and-swap, apart
// from the tracked record that updates write, so evaluating never races an
// update. Everything an evaluation writes on the host — reports, the
// notification, the merge — happens under the pull request's lock
// (registry.LockTracked), on the tracked record and evaluation read under
// it, so two checks at once write each thing once; the merge names the head
// commit that was judged, so the host refuses it if anyone pushed meanwhile. After the host merged, the bookkeeping — each
// subscription's lastAppliedBuildId (a max), deleting the branch, forgetting
// the tracked record and the evaluation, waking waiting updates — is
// idempotent and keyed by what the host reports: a crash anywhere in it
// leaves a merged pull request still tracked, which the next evaluation
// finds merged and finishes.
func (s *Service) CheckPullRequests(ctx context.Context, now time.Time, req CheckRequest) ([]CheckResult, error) {
	entries, tracked, err := s.Registry.TrackedForCheck(ctx, now, req.Number != 0)
	if err != nil {
		return nil, err
	}
	var todo []registry.TrackedEntry
	for _, e := range entries {
		pr := e.Record.PullRequest
		switch {
		case pr.Number == 0:
			// An update died before opening it; the updater finishes it.
		case req.Number == 0:
			todo = append(todo, e)
		case pr.Number == req.Number && (req.Repository == "" || repourl.Equal(pr.Repository, req.Repository)):
			todo = append(todo, e)
		}
	}
	if req.Number != 0 && len(todo) == 0 {
		where := ""
		if req.Repository != "" {
			where = " in " + req.Repository
		}
		return nil, maestro.Errorf(maestro.KindNotFound, "no tracked pull request #%d%s; `maestro flow health` lists the open ones", req.Number, where)
	}
	repoPolicies, err := s.Registry.RepositoryPolicies(ctx)
	if err != nil {
		return nil, err
	}
	results := make([]CheckResult, len(todo))
	var wg sync.WaitGroup
	sem := make(chan struct{}, checkConcurrency)
	for i, e := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := s.checkOne(ctx, e, repoPolicies, now)
			if r.Err != nil {
				r.Error = r.Err.Error()
			}
			results[i] = r
		}()
	}
	wg.Wait()
	var errs []error
	checked, ended := registry.CheckSchedule{}, []string{}
	for i, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("pull request %s: %w", cmp.Or(r.PullRequest.URL, fmt.Sprintf("#%d of %s", r.PullRequest.Number, r.PullRequest.Repository)), r.Err))
		}
		switch {
		case r.Action == ActionEnded || r.Action == ActionMerged:
			ended = append(ended, todo[i].ID)
		case !r.NextCheck.IsZero():
			checked[todo[i].ID] = registry.ScheduledCheck{Number: r.PullRequest.Number, LastCheck: now, NextCheck: r.NextCheck}
		}
	}
	if err := s.Registry.ScheduleChecks(ctx, checked, ended, tracked); err != nil {
		errs = append(errs, err)
	}
	return results, errors.Join(errs...)
}

// checkOne evaluates one tracked pull request.
func (s *Service) checkOne(ctx context.Context, e registry.TrackedEntry, repoPolicies []maestro.RepositoryBranchPolicy, now time.Time) CheckResult {
	pr := e.Record.PullRequest
	res := CheckResult{PullRequest: pr, Policies: []maestro.PolicyResult{}}
	p, err := s.Platform(pr.Repository)
	if err != nil {
		res.Err = err
		return res
	}
	st, err := p.Status(ctx, pr)
	if err != nil {
		return s.retryLater(now, res, err)
	}
	res.HeadCommit = st.HeadCommit
	if st.State != maestro.PullRequestOpen {
		var after string
		after, res.Err = s.ended(ctx, p, e, st.State, now)
		res.Action, res.Message = ActionEnded, fmt.Sprintf("%s on the host; no longer tracked%s", st.State, after)
		return res
	}
	setting, err := s.mergeSetting(ctx, e, repoPolicies)
	if err != nil {
		res.Err = err
		return res
	}
	ev := startEvaluation(e.Evaluation, pr, now)
	res.NextCheck = now.Add(CheckInterval(now.Sub(cmp.Or(pr.CreatedAt, ev.FirstCheck))))
	if len(setting.policies) == 0 {
		// No policy vouches for what the host would merge.
		if err := s.nativeOff(ctx, p, pr, &ev, st); err != nil {
			return s.retryLater(now, res, err)
		}
		ev.HeadCommit, ev.Policies, ev.CacheKey = st.HeadCommit, nil, ""
		ev.Merge, ev.MergeMessage = registry.MergeNoPolicies, "no merge policies are set for this pull request; a person merges it"
		res.Action, res.Message = ActionNoPolicies, ev.MergeMessage
		return s.saveEvaluation(ctx, e, ev, res)
	}

	key := policy.CacheKey(setting.policies, st.HeadCommit)
	cached := func() CheckResult {
		if err := s.nativeOff(ctx, p, pr, &ev, st); err != nil {
			return s.retryLater(now, res, err)
		}
		res.Policies, res.Cached = ev.Policies, true
		res.Action, res.Message = ActionWaiting, ev.MergeMessage
		return s.saveEvaluation(ctx, e, ev, res)
	}
	if ev.CacheKey == key && ev.HeadCommit == st.HeadCommit {
		return cached()
	}

	// What is written on the host — reports, the notification, a refused
	// merge's comment, the merge — is written under the pull request's
	// lock, on the record and the evaluation read under it: two checks at
	// once (`pr check` beside `flow tick` or `maestro serve`) would
	// otherwise both find no notification and both post one, and an update
	// could push between the judgement and the merge.
	lockCtx, lock, err := s.Registry.LockTracked(ctx, e.Repository, e.Branch, e.Key, checkLockWait)
	if maestro.KindOf(err) == maestro.KindConflict {
		res.Action, res.Message = ActionBusy, "an update (or another check) of this pull request is running; it is evaluated again at the next check"
		res.NextCheck = now.Add(mergeRetry)
		return res
	}
	if err != nil {
		res.Err = err
		return res
	}
	defer lock.Unlock()
	ctx = lockCtx
	cur, version, err := s.Registry.TrackedPullRequest(ctx, e.Repository, e.Branch, e.Key)
	if err != nil {
		res.Err = err
		return res
	}
	if cur == nil || version != e.Version {
		res.Action, res.Message = ActionBusy, "an update (or another check) changed this pull request while it was read; the next evaluation judges it again"
		res.NextCheck = now
		return res
	}
	if e.Evaluation, _, err = s.Registry.PolicyEvaluation(ctx, e.Repository, e.Branch, e.Key); err != nil {
		res.Err = err
		return res
	}
	if ev = startEvaluation(e.Evaluation, pr, now); ev.CacheKey == key && ev.HeadCommit == st.HeadCommit {
		return cached() // another check judged this head meanwhile
	}

	state, err := s.gatherState(ctx, p, e, st, setting)
	if err != nil {
		return s.retryLater(now, res, err)
	}
	judged := policy.Evaluate(setting.policies, state)
	ev.HeadCommit, ev.Policies, ev.CacheKey = st.HeadCommit, reported(judged), ""
	res.Policies = ev.Policies
	if judged.Decisive {
		ev.CacheKey = key
	}
	if rep, ok := p.(platform.PolicyReporter); ok {
		if err := rep.ReportPolicies(ctx, pr, st.HeadCommit, ev.Policies); err != nil {
			return s.retryLater(now, res, fmt.Errorf("report the merge policies: %w", err))
		}
		if err := s.notify(ctx, rep, pr, st.HeadCommit, setting.tags, judged); err != nil {
			res.Err = fmt.Errorf("notify the failing merge policies: %w", err)
		}
	}
	if ev.HeadCommit != e.Evaluation.HeadCommit {
		ev.MergeAttempts = 0
	}
	if !judged.AllSucceeded || !setting.autoMerge || !setting.native {
		// The host's auto-merge would merge what the policies no longer
		// pass, or what auto-merge off or the squash method no longer
		// hands to the host.
		if err := s.nativeOff(ctx, p, pr, &ev, st); err != nil {
			return s.retryLater(now, res, err)
		}
	}
	switch {
	case !judged.AllSucceeded:
		ev.Merge, ev.MergeMessage = registry.MergeWaiting, waitingMessage(judged)
		res.Action, res.Message = ActionWaiting, ev.MergeMessage
	case !setting.autoMerge:
		ev.Merge = registry.MergeOff
		ev.MergeMessage = fmt.Sprintf("every merge policy passed; auto-merge is off for %s@%s, so a person merges it (`maestro repository-policy set --auto-merge on` turns it on)", e.Repository, e.Branch)
		res.Action, res.Message = ActionOff, ev.MergeMessage
	default:
		return s.merge(ctx, p, lock, e, ev, st, setting, now, res)
	}
	return s.saveEvaluation(ctx, e, ev, res)
}

// startEvaluation is the evaluation of pull request pr to continue from
// the stored one, or a new one when that was of another pull request.
func startEvaluation(stored registry.PolicyEvaluation, pr maestro.PullRequest, now time.Time) registry.PolicyEvaluation {
	ev := stored
	if ev.Number != pr.Number {
		ev = registry.PolicyEvaluation{Number: pr.Number, FirstCheck: now}
	}
	ev.Policies = slices.Clone(ev.Policies)
	return ev
}

// nativeOff turns off the host's auto-merge (auto-complete) that Maestro++
// turned on for an earlier head (ev.NativeHead) while st shows it on, and
// forgets that head: the pull request's head no longer passes policies
// that hand it to the host — a newer update pushed with the bot's rights
// keeps the host's auto-merge on — or it has no policies left to pass (the
// subscription's were cleared, or the subscription or the repository
// branch policy was deleted).
func (s *Service) nativeOff(ctx context.Context, p platform.Platform, pr maestro.PullRequest, ev *registry.PolicyEvaluation, st platform.Status) error {
	am, ok := p.(platform.AutoMerger)
	if !ok || ev.NativeHead == "" || !st.AutoMerge {
		return nil
	}
	if err := am.DisableAutoMerge(ctx, pr); err != nil {
		return fmt.Errorf("turn off the host's auto-merge, which would merge a head the merge policies do not pass (turn it off on the pull request's page if this keeps failing): %w", err)
	}
	ev.NativeHead = ""
	return nil
}

// mergeSetting is what decides how a pull request is judged and merged.
type mergeSetting struct {
	policies  []maestro.MergePolicy
	autoMerge bool
	native    bool
	tags      string // failure notification tags of its subscriptions
	targetDir string
}

// mergeSetting reads the policies of a tracked pull request — the
// subscription's, or for a batched one the repository branch's — and the
// repository branch's auto-merge switch and merge method (on and squash when
// no repository branch policy is set, as production merges whenever the
// subscription's policies pass).
func (s *Service) mergeSetting(ctx context.Context, e registry.TrackedEntry, repoPolicies []maestro.RepositoryBranchPolicy) (mergeSetting, error) {
	m := mergeSetting{autoMerge: true}
	var rp maestro.RepositoryBranchPolicy
	for _, p := range repoPolicies {
		if p.Branch == e.Branch && repourl.Equal(p.Repository, e.Repository) {
			rp = p
			m.autoMerge, m.native = p.AutoMerge, p.EffectiveMergeMethod() == maestro.MergeMethodNative
		}
	}
	if e.Key == registry.BatchedKey {
		m.policies = rp.MergePolicies
	}
	var tags []string
	for i, u := range e.Record.Updates {
		sub, err := s.Registry.Subscription(ctx, u.SubscriptionID)
		if maestro.KindOf(err) == maestro.KindNotFound {
			continue
		}
		if err != nil {
			return m, err
		}
		if i == 0 {
			m.targetDir = sub.TargetDirectory
		}
		if e.Key != registry.BatchedKey && (sub.ID == e.Key || registry.IsSpeculativeKey(e.Key)) {
			m.policies = sub.Policy.MergePolicies
		}
		if t := strings.TrimSpace(sub.PullRequestFailureNotificationTags); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	m.tags = strings.Join(tags, ";")
	if e.Record.Speculative != nil && !slices.ContainsFunc(m.policies, func(p maestro.MergePolicy) bool { return p.Name == maestro.PolicySpeculativeParentsMerged }) {
		// The gate: a speculative pull request never merges before every
		// pull request above it did, whatever else its policies say.
		m.policies = append(slices.Clone(m.policies), maestro.MergePolicy{Name: maestro.PolicySpeculativeParentsMerged})
	}
	return m, nil
}

// gatherState reads what the policies judge besides the host's status: the
// dependency files at the head commit and on the target branch (only when a
// policy reads them), and the builds behind the head's dependencies.
func (s *Service) gatherState(ctx context.Context, p platform.Platform, e registry.TrackedEntry, st platform.Status, m mergeSetting) (policy.PullRequestState, error) {
	state := policy.PullRequestState{Host: st, Updates: e.Record.Updates}
	if s.Updater != nil && s.Updater.BotEmail != "" {
		state.BotEmails = []string{s.Updater.BotEmail}
	}
	if e.Record.Speculative != nil {
		ancestors, err := s.ancestorStates(ctx, e.Record.Speculative.Chain)
		if err != nil {
			return state, fmt.Errorf("the ancestors of speculative pull request %s: %w", e.Record.PullRequest.URL, err)
		}
		for _, a := range ancestors {
			state.Ancestors = append(state.Ancestors, a.Ancestor)
		}
		state.Unmoved = !e.Record.Speculative.Moved
	}
	if !needsFiles(m.policies) {
		return state, nil
	}
	head, target, err := readFiles(ctx, p, e, st.HeadCommit, m.targetDir)
	if err != nil {
		return state, err
	}
	state.Head, state.Target = head, target
	if src, ok := head[policy.VersionDetailsXMLPath]; ok {
		builds, err := policy.CollectBuilds(ctx, registry.Lookup{Reg: s.Registry}, src)
		if err != nil {
			return state, fmt.Errorf("the builds behind the head's dependencies: %w", err)
		}
		state.Builds = builds
	}
	return state, nil
}

// needsFiles reports whether some policy reads the dependency files.
func needsFiles(policies []maestro.MergePolicy) bool {
	for _, p := range policies {
		switch p.Name {
		case maestro.PolicyAllChecksSuccessful, maestro.PolicyNoRequestedChanges, maestro.PolicyNoExtraCommits, maestro.PolicyDontAutomergeDowngrades:
		default:
			return true // Standard and the file policies; an unknown name fails without them
		}
	}
	return false
}

// readFiles fetches the pull request's head commit and target branch
// (shallow) and reads policy.HeadPaths at the head, policy.TargetPaths on
// the target branch. A head branch that no longer points at head (an
// update pushed meanwhile) is an error: the next evaluation judges the new
// head.
func readFiles(ctx context.Context, p platform.Platform, e registry.TrackedEntry, head, dir string) (policy.Files, policy.Files, error) {
	url, err := p.CloneURL(e.Repository)
	if err != nil {
		return nil, nil, err
	}
	work, err := os.MkdirTemp("", "maestro-check-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(work)
	g := p.Git()
	if err := g.Init(ctx, work, true); err != nil {
		return nil, nil, err
	}
	const headRef, targetRef = "refs/maestro/head", "refs/maestro/target"
	pr := e.Record.PullRequest
	if err := g.Fetch(ctx, work, url, "refs/heads/"+pr.HeadBranch+":"+headRef, "refs/heads/"+e.Branch+":"+targetRef); err != nil {
		return nil, nil, fmt.Errorf("fetch the head and target branches to read their dependency files: %w", err)
	}
	got, err := g.RevParse(ctx, work, headRef)
	if err != nil {
		return nil, nil, err
	}
	if got != head {
		return nil, nil, fmt.Errorf("branch %s moved from %.12s to %.12s while it was judged; the next evaluation judges the new head", pr.HeadBranch, head, got)
	}
	read := func(ref string, paths []string) (policy.Files, error) {
		files := policy.Files{}
		for _, f := range paths {
			data, err := g.Show(ctx, work, ref, path.Join(dir, f))
			if errors.Is(err, git.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			files[f] = data
		}
		return files, nil
	}
	headFiles, err := read(headRef, policy.HeadPaths)
	if err != nil {
		return nil, nil, err
	}
	targetFiles, err := read(targetRef, policy.TargetPaths)
	return headFiles, targetFiles, err
}

// reported is how the results show on the pull request: the title, then
// what to do.
func reported(r policy.Result) []maestro.PolicyResult {
	out := make([]maestro.PolicyResult, 0, len(r.Policies))
	for _, p := range r.Policies {
		msg := p.Title
		if p.Message != "" {
			msg += "\n\n" + p.Message
		}
		out = append(out, maestro.PolicyResult{Name: p.Name, State: p.Outcome, Message: msg})
	}
	return out
}

// waitingMessage names the policies that hold a pull request back.
func waitingMessage(r policy.Result) string {
	var failing, pending []string
	for _, p := range r.Policies {
		switch p.Outcome {
		case policy.Failure:
			failing = append(failing, p.Name+" ("+p.Title+")")
		case policy.Pending:
			pending = append(pending, p.Name+" ("+p.Title+")")
		}
	}
	var parts []string
	if len(failing) > 0 {
		parts = append(parts, "failing: "+strings.Join(failing, "; "))
	}
	if len(pending) > 0 {
		parts = append(parts, "pending: "+strings.Join(pending, "; "))
	}
	return "not merged — " + strings.Join(parts, "; ")
}

// notify tells the subscriptions' people about a failing pull request, once
// per head commit (the reporter keeps track).
func (s *Service) notify(ctx context.Context, rep platform.PolicyReporter, pr maestro.PullRequest, head, tags string, r policy.Result) error {
	var failing []maestro.PolicyResult
	for _, p := range r.Policies {
		if p.Outcome == policy.Failure {
			failing = append(failing, maestro.PolicyResult{Name: p.Name, State: p.Outcome, Message: p.Title})
		}
	}
	body := platform.FailureNotification(tags, failing)
	if len(failing) == 0 || body == "" {
		return nil
	}
	_, err := rep.Notify(ctx, pr, head, body)
	return err
}

// merge merges a pull request whose policies all passed, under its lock
// (held since the record was read): directly (squash, branch deleted) or,
// with merge method native on a host that has its own auto-merge, by
// turning that on. An update turns the host's auto-merge off and pushes
// under the same lock, so neither way can take a head that was not judged.
func (s *Service) merge(ctx context.Context, p platform.Platform, lock *registry.TrackedLock, e registry.TrackedEntry, ev registry.PolicyEvaluation, st platform.Status, m mergeSetting, now time.Time, res CheckResult) CheckResult {
	pr := e.Record.PullRequest
	opts := platform.MergeOptions{Head: st.HeadCommit, Message: mergeMessage(pr, ev.Policies)}
	if am, ok := p.(platform.AutoMerger); ok && m.native {
		if ev.NativeHead == st.HeadCommit && st.AutoMerge {
			res.Action, res.Message = ActionNative, ev.MergeMessage
			return s.saveEvaluation(ctx, e, ev, res)
		}
		err := am.EnableAutoMerge(ctx, pr, opts)
		if err == nil {
			ev.Merge, ev.NativeHead, ev.MergeAttempts = registry.MergeNative, st.HeadCommit, 0
			ev.MergeMessage = "every merge policy passed; the host's auto-merge is on and merges it once the branch's own requirements are met"
			res.Action, res.Message = ActionNative, ev.MergeMessage
			return s.saveEvaluation(ctx, e, ev, res)
		}
		if !errors.Is(err, platform.ErrMergeRefused) {
			return s.refused(ctx, p, e, ev, st, now, res, err)
		}
		// GitHub refuses auto-merge for a pull request it can merge at once
		// ("clean status"), and where the repository does not allow it: the
		// direct merge below is held to the same branch protection.
		slog.Info("the host refused auto-merge; merging directly", "pullRequest", pr.URL, "reason", err)
	}
	if err := lock.Held(ctx); err != nil {
		res.Err = err
		return res
	}
	if err := p.Merge(ctx, pr, opts); err != nil {
		return s.refused(ctx, p, e, ev, st, now, res, err)
	}
	res.Action = ActionMerged
	var after string
	after, res.Err = s.ended(ctx, p, e, maestro.PullRequestMerged, now)
	res.Message = "every merge policy passed; squash-merged, branch " + pr.HeadBranch + " deleted" + after
	return res
}

// mergeMessage is the squash commit's message: GitHub's default title for a
// squash merge, and the policies that allowed it.
func mergeMessage(pr maestro.PullRequest, results []maestro.PolicyResult) string {
	var names []string
	for _, r := range results {
		names = append(names, r.Name)
	}
	return fmt.Sprintf("%s (#%d)\n\nMerged by Maestro++: every merge policy passed (%s).", pr.Title, pr.Number, strings.Join(names, ", "))
}

// refused records a merge the host refused (or another failure to merge):
// the refusal is reported on the pull request once per head commit, and the
// merge is tried again at the next evaluation, mergeRetry from now.
func (s *Service) refused(ctx context.Context, p platform.Platform, e registry.TrackedEntry, ev registry.PolicyEvaluation, st platform.Status, now time.Time, res CheckResult, err error) CheckResult {
	if !errors.Is(err, platform.ErrMergeRefused) && maestro.KindOf(err) != maestro.KindConflict {
		if _, ok := Retryable(err, now); !ok {
			res.Err = fmt.Errorf("merge: %w", err)
		}
	}
	ev.Merge, ev.MergeAttempts = registry.MergeRefused, ev.MergeAttempts+1
	res.NextCheck = now.Add(mergeRetry)
	ev.MergeMessage = fmt.Sprintf("every merge policy passed, but the merge failed (attempt %d; next at %s): %v", ev.MergeAttempts, res.NextCheck.UTC().Format(time.RFC3339), err)
	res.Action, res.Message = ActionRefused, ev.MergeMessage
	if ev.RefusedHead != st.HeadCommit {
		body := fmt.Sprintf("Maestro++ could not merge this pull request although every merge policy passed:\n\n> %v\n\nIt tries again with every evaluation (the next in %s) until the host accepts the merge or the policies change.", err, mergeRetry)
		if cerr := p.Comment(ctx, e.Record.PullRequest, body); cerr != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("report the refused merge: %w", cerr))
		} else {
			ev.RefusedHead = st.HeadCommit
		}
	}
	return s.saveEvaluation(ctx, e, ev, res)
}

// retryLater leaves an evaluation that failed with err for the next one,
// mergeRetry from now. A host's passing trouble (a rate limit, 429, 5xx, a
// timeout) is action ActionRetry, not an error.
func (s *Service) retryLater(now time.Time, res CheckResult, err error) CheckResult {
	_, limited := RateLimited(err, now)
	_, transient := Retryable(err, now)
	if limited || transient {
		res.Action, res.Message = ActionRetry, err.Error()
	} else {
		res.Err = err
	}
	res.NextCheck = now.Add(mergeRetry)
	return res
}

// saveEvaluation writes ev when it differs from what was read (a check
// that finds nothing new writes nothing) and completes res.
func (s *Service) saveEvaluation(ctx context.Context, e registry.TrackedEntry, ev registry.PolicyEvaluation, res CheckResult) CheckResult {
	ev.Repository, ev.Branch, ev.Key = e.Repository, e.Branch, e.Key
	if reflect.DeepEqual(ev, e.Evaluation) {
		return res
	}
	_, err := s.Registry.UpdatePolicyEvaluation(ctx, e.Repository, e.Branch, e.Key, func(cur *registry.PolicyEvaluation, _ bool) error {
		*cur = ev
		return nil
	})
	res.Err = errors.Join(res.Err, err)
	return res
}

// ended finishes a pull request the host reports merged or closed: a
// merged one sets its subscriptions' lastAppliedBuildId; the branch is
// deleted, the tracked record and the evaluation are forgotten, and the
// updates waiting on the target branch are made due. Every step is
// idempotent, so a crash part-way is finished by the next evaluation. It
// returns what it did beyond that, each part after "; ".
func (s *Service) ended(ctx context.Context, p platform.Platform, e registry.TrackedEntry, state maestro.PullRequestState, now time.Time) (string, error) {
	pr := e.Record.PullRequest
	var applied []string
	if state == maestro.PullRequestMerged {
		for _, u := range e.Record.Updates {
			if registry.IsSpeculativeID(u.BuildID) {
				continue // a speculative build is never a subscription's applied build
			}
			if _, err := s.Registry.UpdateSubscription(ctx, u.SubscriptionID, func(cur *maestro.Subscription) error {
				cur.LastAppliedBuildID = max(cur.LastAppliedBuildID, u.BuildID)
				return nil
			}); err != nil && maestro.KindOf(err) != maestro.KindNotFound {
				return "", fmt.Errorf("set lastAppliedBuildId of subscription %s to build %d: %w", u.SubscriptionID, u.BuildID, err)
			}
			applied = append(applied, fmt.Sprintf("subscription %s applied build %d", u.SubscriptionID, u.BuildID))
		}
	}
	if err := p.DeleteBranch(ctx, pr.Repository, pr.HeadBranch); err != nil {
		return "", fmt.Errorf("delete branch %s of %s pull request #%d: %w", pr.HeadBranch, state, pr.Number, err)
	}
	err := s.Registry.Untrack(ctx, e.Repository, e.Branch, e.Key, e.Version)
	if maestro.KindOf(err) == maestro.KindConflict {
		// An update wrote the record since it was listed: it saw the pull
		// request ended too, or tracks a new one; either way the record is
		// its business now.
		slog.Info("tracked record changed while a merged pull request was finished", "pullRequest", pr.URL, "error", err)
		err = nil
	}
	if err != nil {
		return "", err
	}
	if err := s.Registry.DeletePolicyEvaluation(ctx, e.Repository, e.Branch, e.Key); err != nil {
		return "", err
	}
	woken, err := s.wake(ctx, e, now)
	if err != nil {
		return "", err
	}
	// The speculative pull requests below it move or close at the next tick.
	below, err := s.SpeculativeDue(ctx, pr.URL, now)
	if err != nil {
		return "", err
	}
	woken += below
	var msg string
	if len(applied) > 0 {
		msg += "; " + strings.Join(applied, ", ")
	}
	if woken > 0 {
		msg += fmt.Sprintf("; %d waiting update(s) of %s@%s are due now", woken, e.Repository, e.Branch)
	}
	return msg, nil
}

// wake makes the pending work of the subscriptions into the pull request's
// target branch due now when it waited for checks or for a cap on open pull
// requests: it flows at the next tick. Work that waits for a host (a
// backoff, a rate limit) keeps its time.
func (s *Service) wake(ctx context.Context, e registry.TrackedEntry, now time.Time) (int, error) {
	subs, err := s.Registry.Subscriptions(ctx, registry.SubscriptionFilter{TargetRepository: e.Repository, TargetBranch: e.Branch})
	if err != nil {
		return 0, err
	}
	woken := 0
	for _, sub := range subs {
		changed := false
		if _, err := s.Registry.UpdateFlowState(ctx, sub.ID, func(st *registry.FlowState, exists bool) error {
			changed = false
			if !exists || st.Pending == nil || !st.Pending.NextAttempt.After(now) || st.Pending.Reason != "checks" && st.Pending.Reason != "cap" {
				return registry.ErrUnchanged
			}
			st.Pending.NextAttempt, changed = now, true
			return nil
		}); err != nil {
			return woken, err
		}
		if changed {
			woken++
		}
	}
	return woken, nil
}

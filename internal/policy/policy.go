package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
)

// Outcome is where one policy stands: pending, success or failure.
type Outcome = maestro.CheckState

// Outcomes.
const (
	Pending = maestro.CheckPending
	Success = maestro.CheckSuccess
	Failure = maestro.CheckFailure
)

// Files holds the contents of dependency files by slash-separated path
// relative to the repository root (eng/Version.Details.xml, ...). A path
// that is not a key is a file that does not exist; a nil Files means the
// files were not read, and the policies that need them fail (not
// decisively) saying so.
type Files map[string][]byte

// Paths of the files the policies read.
const (
	VersionDetailsXMLPath   = "eng/Version.Details.xml"
	VersionsPropsPath       = "eng/Versions.props"
	VersionDetailsPropsPath = "eng/Version.Details.props"
)

// HeadPaths are the files PullRequestState.Head holds (those that exist at
// the head commit); TargetPaths those PullRequestState.Target holds. A
// subscription with a targetDirectory reads them under it.
var (
	HeadPaths   = []string{VersionDetailsXMLPath, VersionsPropsPath, VersionDetailsPropsPath}
	TargetPaths = []string{VersionDetailsXMLPath}
)

// PullRequestState is everything the policies judge a pull request by.
type PullRequestState struct {
	// Host is what the platform reports: head commit, checks, reviews and
	// commits.
	Host platform.Status
	// BotEmails and BotLogins identify the bot's commits (the git author
	// email the updater commits with; the host account, when known).
	BotEmails []string
	BotLogins []string
	// Updates are the tracked record's updates, each with the dependencies
	// it moved (maestro.TrackedPullRequest.Updates).
	Updates []maestro.SubscriptionUpdate
	// Head holds the files at the head commit: Version.Details.xml,
	// Versions.props and Version.Details.props.
	Head Files
	// Target holds Version.Details.xml on the target branch as it is now.
	Target Files
	// Builds are the registry's builds that produced the head's
	// dependencies, and the builds they depend on, transitively
	// (CollectBuilds gathers them).
	Builds []maestro.Build
	// Ancestors are the pull requests above a speculative pull request,
	// root first, with their state read from their hosts (nil for a pull
	// request that is not speculative).
	Ancestors []Ancestor
	// Unmoved says that a speculative pull request still carries the
	// speculative build of its parent: not yet moved to the mainline
	// build of the parent's merged commit.
	Unmoved bool
}

// Ancestor is one pull request above a speculative pull request.
type Ancestor struct {
	URL   string                   `json:"url"`
	State maestro.PullRequestState `json:"state"`
}

// PolicyResult is one policy's judgement.
type PolicyResult struct {
	// Name is the policy's name (Standard is reported as its members).
	Name    string  `json:"name"`
	Outcome Outcome `json:"outcome"`
	// Title is one line: a check run's title, a status's description.
	Title string `json:"title"`
	// Message says what was found and what a person can do (Markdown).
	Message string `json:"message,omitempty"`
	// Decisive marks a failure that stays until a new head commit.
	Decisive bool `json:"decisive,omitempty"`
}

// Result is the judgement of every policy on one head commit.
type Result struct {
	HeadCommit string         `json:"headCommit"`
	Policies   []PolicyResult `json:"policies"`
	// AllSucceeded: there is at least one policy and every one succeeded.
	AllSucceeded bool `json:"allSucceeded"`
	// Decisive: some failure stays until a new head commit; the result may
	// be cached under CacheKey.
	Decisive bool `json:"decisive"`
}

// DefaultIgnoredChecks are the checks Standard's AllChecksSuccessful ignores,
// as production does: GitHub's WIP, license/cla, auto-merge.config.enforce
// and Build Analysis; Azure DevOps's Comment requirements, Minimum number of
// reviewers, auto-merge.config.enforce and Work item linking. Both hosts'
// names apply on either host.
var DefaultIgnoredChecks = []string{
	"WIP", "license/cla", "auto-merge.config.enforce", "Build Analysis",
	"Comment requirements", "Minimum number of reviewers", "Work item linking",
}

// StandardMembers are the policies Standard evaluates, in this order.
var StandardMembers = []string{
	maestro.PolicyAllChecksSuccessful, maestro.PolicyNoRequestedChanges, maestro.PolicyDontAutomergeDowngrades,
	maestro.PolicyNoNewerUpdateMerged, maestro.PolicyNoExtraCommits, maestro.PolicyValidateCoherency,
	maestro.PolicyVersionDetailsProps,
}

// CacheKey is the key a decisive Result is cached under: the head commit,
// then a hash of the policies (names and properties, in order).
func CacheKey(policies []maestro.MergePolicy, headCommit string) string {
	data, err := json.Marshal(policies)
	if err != nil {
		// Properties come from JSON; one that does not marshal gets a key of
		// its own that never matches a stored one.
		data = fmt.Appendf(nil, "%#v", policies)
	}
	sum := sha256.Sum256(data)
	return headCommit + "/" + hex.EncodeToString(sum[:12])
}

// Evaluate judges the pull request in s by policies.
func Evaluate(policies []maestro.MergePolicy, s PullRequestState) Result {
	res := Result{HeadCommit: s.Host.HeadCommit}
	e := &eval{PullRequestState: s}
	seen := map[string]bool{}
	add := func(r PolicyResult) {
		res.Policies = append(res.Policies, r)
	}
	for _, p := range expand(policies) {
		if seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		add(evaluate(p, e))
	}
	res.AllSucceeded = len(res.Policies) > 0
	for _, r := range res.Policies {
		if r.Outcome != Success {
			res.AllSucceeded = false
		}
		if r.Outcome == Failure && r.Decisive {
			res.Decisive = true
		}
	}
	return res
}

// expand replaces Standard by its members. A member the list also names on
// its own keeps that entry's properties; Standard's ignoreChecks go to its
// AllChecksSuccessful, beside DefaultIgnoredChecks.
func expand(policies []maestro.MergePolicy) []maestro.MergePolicy {
	named := map[string]bool{}
	for _, p := range policies {
		named[p.Name] = true
	}
	var out []maestro.MergePolicy
	for _, p := range policies {
		if p.Name != maestro.PolicyStandard {
			out = append(out, p)
			continue
		}
		for _, m := range StandardMembers {
			if named[m] {
				continue
			}
			mp := maestro.MergePolicy{Name: m}
			if m == maestro.PolicyAllChecksSuccessful {
				ignore := []any{}
				for _, c := range DefaultIgnoredChecks {
					ignore = append(ignore, c)
				}
				if extra, ok := p.Properties[ignoreChecksProperty].([]any); ok {
					ignore = append(ignore, extra...)
				} else if p.Properties[ignoreChecksProperty] != nil {
					ignore = append(ignore, p.Properties[ignoreChecksProperty]) // reported as invalid
				}
				mp.Properties = map[string]any{ignoreChecksProperty: ignore}
			}
			out = append(out, mp)
		}
	}
	return out
}

const ignoreChecksProperty = "ignoreChecks"

// eval is one evaluation's state, with what several policies need worked
// out once: the head's dependencies and the builds indexed.
type eval struct {
	PullRequestState
	head   *headDeps
	builds *buildIndex
}

// headDeps is the head's Version.Details.xml, parsed.
type headDeps struct {
	deps   []versiondetails.Dependency
	result PolicyResult // what to report when !ok
	ok     bool
}

func evaluate(p maestro.MergePolicy, s *eval) PolicyResult {
	var r PolicyResult
	switch p.Name {
	case maestro.PolicyAllChecksSuccessful:
		r = allChecksSuccessful(p, s)
	case maestro.PolicyNoRequestedChanges:
		r = noRequestedChanges(s)
	case maestro.PolicyDontAutomergeDowngrades:
		r = dontAutomergeDowngrades(s)
	case maestro.PolicyNoNewerUpdateMerged:
		r = noNewerUpdateMerged(s)
	case maestro.PolicyNoExtraCommits:
		r = noExtraCommits(s)
	case maestro.PolicyValidateCoherency:
		r = validateCoherency(s)
	case maestro.PolicyVersionDetailsProps:
		r = versionDetailsProps(s)
	case maestro.PolicySpeculativeParentsMerged:
		r = speculativeParentsMerged(s.Ancestors, s.Unmoved)
	default:
		r = failDecisively(fmt.Sprintf("Unknown merge policy %q", p.Name),
			fmt.Sprintf("This pull request names the merge policy %q, which Maestro++ does not know, so it is never merged automatically. Valid policies: %s. Fix the subscription's or repository branch's merge policies.",
				p.Name, strings.Join(maestro.MergePolicyNames, ", ")))
	}
	r.Name = p.Name
	return r
}

func succeed(title, msg string) PolicyResult {
	return PolicyResult{Outcome: Success, Title: title, Message: msg}
}

func pending(title, msg string) PolicyResult {
	return PolicyResult{Outcome: Pending, Title: title, Message: msg}
}

// failTransiently is a failure that may clear without a new head commit.
func failTransiently(title, msg string) PolicyResult {
	return PolicyResult{Outcome: Failure, Title: title, Message: msg}
}

func failDecisively(title, msg string) PolicyResult {
	return PolicyResult{Outcome: Failure, Title: title, Message: msg, Decisive: true}
}

// stringList reads a property that must be a list of strings.
func stringList(p maestro.MergePolicy, name string) ([]string, error) {
	v, ok := p.Properties[name]
	if !ok || v == nil {
		return nil, nil
	}
	var out []string
	switch l := v.(type) {
	case []string:
		return slices.Clone(l), nil
	case []any:
		for i, x := range l {
			str, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("property %s of merge policy %s: entry %d is %v, not a check name (a string)", name, p.Name, i, x)
			}
			out = append(out, str)
		}
		return out, nil
	}
	return nil, fmt.Errorf("property %s of merge policy %s is %v, not a list of check names", name, p.Name, v)
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// speculativeParentsMerged passes once every ancestor pull request merged:
// pending while one is open (a speculative pull request must not merge
// before the changes it was built from), a decisive failure when one
// closed without merging (the flow closes this pull request too). A pull
// request that is not speculative has no ancestors and passes.
func speculativeParentsMerged(ancestors []Ancestor, unmoved bool) PolicyResult {
	var open []string
	for _, a := range ancestors {
		switch a.State {
		case maestro.PullRequestClosed:
			return failDecisively("An ancestor pull request closed without merging",
				fmt.Sprintf("Pull request %s, which this speculative pull request takes changes from, was closed without merging; this one can never merge and is closed by the flow.", a.URL))
		case maestro.PullRequestMerged:
		default:
			open = append(open, a.URL)
		}
	}
	if len(open) > 0 {
		return pending("Waiting for the ancestor pull requests to merge",
			fmt.Sprintf("This speculative pull request takes changes that have not merged yet. It waits for %s to merge.", strings.Join(open, ", ")))
	}
	if len(ancestors) == 0 {
		return succeed("Not a speculative pull request", "This pull request has no ancestor pull requests to wait for.")
	}
	if unmoved {
		// Merging now would merge the parent's speculative build (built
		// from its pull request, non-shipping) into the target branch.
		return pending("Waiting for the move to the mainline build",
			fmt.Sprintf("Every pull request above this one merged, but this one still carries the speculative build of %s. It waits to be moved to the mainline build of the merged commit once that is published.", ancestors[len(ancestors)-1].URL))
	}
	return succeed("Every ancestor pull request merged", "Every pull request above this one merged.")
}

// Package platform defines the one interface the flow needs of a git host
// with pull requests. Implementations live in sub-packages: local (plain git
// repositories on disk, the embedded default), github and azdo.
package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// ErrNotFound is returned (wrapped) for a repository or pull request that
// does not exist.
var ErrNotFound = errors.New("not found")

// ErrMergeRefused is returned (wrapped, with the host's reason) by Merge and
// EnableAutoMerge when the host refuses to merge the pull request as it
// stands:
//   - GitHub: 405 for branch protection (a required check failing, pending
//     or missing, reviews missing, a head behind its base), a conflict or a
//     pull request that is not open; 409 for a head that is not
//     MergeOptions.Head; for auto-merge, GraphQL's refusal (auto-merge not
//     allowed, a pull request in clean status that can merge now, a head
//     that moved).
//   - Azure DevOps: 409 GitPullRequestStaleException for a source branch
//     that is not at MergeOptions.Head; a completion that the service left
//     active (blocking branch policies not approved, a draft, conflicts); a
//     pull request that is not active.
//   - local: a head branch that is not at MergeOptions.Head (or is gone), a
//     base branch that moved while the merge was made, a conflict, a pull
//     request that is not open.
//
// The pull request is left open and unchanged; the merge may succeed once
// the reason is gone (for a moved head: once the policies have judged the
// new head). Such errors are of kind maestro.KindConflict.
var ErrMergeRefused = errors.New("the host refused the merge")

// CheckState is the state of one check (a CI status, a check run, a policy).
type CheckState = maestro.CheckState

// Check states.
const (
	CheckPending = maestro.CheckPending
	CheckSuccess = maestro.CheckSuccess
	CheckFailure = maestro.CheckFailure
)

// Check is one status reported on a pull request's head commit.
type Check = maestro.Check

// Platform is a git host with pull requests.
//
// Contract:
//   - CloneURL returns what git clones from and pushes to for repo; Git
//     returns a runner that carries the host's credentials.
//   - OpenPullRequest returns the open pull request from head into base, or
//     nil when there is none.
//   - CreatePullRequest opens pr (Repository, Title, Body, HeadBranch,
//     BaseBranch) and returns it with Number, URL and State set.
//   - PullRequest returns the current state of one pull request, or an error
//     wrapping ErrNotFound.
//   - UpdatePullRequest replaces title and body.
//   - Checks lists the checks on the pull request's head commit.
//   - Status reports what the merge policies judge (package policy): the
//     pull request's state, the head commit, its checks, the reviews and the
//     commits, read afresh. For a pull request that is not open it reports
//     the state (and the head commit, where the host still gives it) only.
//   - Comment adds a comment.
//   - Merge squash-merges exactly the head commit opts.Head — the one the
//     policies judged — into the base branch as one commit whose message is
//     opts.Message, marks the pull request merged and deletes its head
//     branch. When the head is no longer opts.Head, or the host refuses
//     (branch protection, branch policies, conflicts), nothing is merged
//     and the error wraps ErrMergeRefused.
//   - DeleteBranch removes a branch; a branch that does not exist (deleted
//     already, by a person or by the host when the pull request closed) is
//     success, not an error.
type Platform interface {
	CloneURL(repo string) (string, error)
	Git() git.Runner
	OpenPullRequest(ctx context.Context, repo, head, base string) (*maestro.PullRequest, error)
	CreatePullRequest(ctx context.Context, pr maestro.PullRequest) (maestro.PullRequest, error)
	PullRequest(ctx context.Context, repo string, number int) (maestro.PullRequest, error)
	UpdatePullRequest(ctx context.Context, pr maestro.PullRequest) error
	Checks(ctx context.Context, pr maestro.PullRequest) ([]Check, error)
	Status(ctx context.Context, pr maestro.PullRequest) (Status, error)
	Comment(ctx context.Context, pr maestro.PullRequest, body string) error
	Merge(ctx context.Context, pr maestro.PullRequest, opts MergeOptions) error
	DeleteBranch(ctx context.Context, repo, branch string) error
}

// AutoMerger is a platform whose host merges pull requests itself.
// Platforms without it (the local platform: there is no branch protection
// to honour) merge directly, with Merge.
//
// Contract: EnableAutoMerge asks the host to merge pr itself (squash,
// deleting the branch) once the host's own requirements — branch
// protection, required reviewers, branch policies — are met, provided the
// head is still opts.Head; the pull request may merge before it returns.
// Asking again while it is on is success. A host that refuses (auto-merge
// not allowed, a head that is not opts.Head, a pull request that can be
// merged at once or is not open) returns an error wrapping ErrMergeRefused.
// Status reports AutoMerge while it is on and State merged once the host
// merged. Hosts differ in what happens after: GitHub keeps auto-merge on
// when a person with write access pushes, and deletes the head branch only
// where the repository deletes branches on merge (call DeleteBranch once
// merged); Azure DevOps completes whatever the source branch holds when the
// policies approve, and policies that reset on a push hold a moved head
// back.
//
// DisableAutoMerge turns the host's auto-merge (auto-complete) off for pr,
// so that a head the merge policies no longer pass — a newer update pushed
// with the bot's write access, which neither host treats as a reason to
// turn it off — is not merged by the host. When it is off already, success,
// without a change; so is a pull request that is no longer open (merged,
// completed or closed meanwhile: there is nothing left to turn off, and
// Status tells whether the host merged it).
type AutoMerger interface {
	EnableAutoMerge(ctx context.Context, pr maestro.PullRequest, opts MergeOptions) error
	DisableAutoMerge(ctx context.Context, pr maestro.PullRequest) error
}

// Closer is a platform that closes pull requests without merging them.
//
// Contract: Close closes pr (GitHub: state closed; Azure Repos: status
// abandoned; local: state closed) and leaves its branch; closing a pull
// request that is closed already is success; one that merged meanwhile is
// an error of kind maestro.KindConflict.
type Closer interface {
	Close(ctx context.Context, pr maestro.PullRequest) error
}

// Labeler is a platform whose pull requests carry labels (GitHub; Azure
// Repos, where a label is one of the project's tags).
//
// Contract: SetLabel adds label to pr when on (creating the repository's
// label if it has none) and removes it when off; adding a label pr has, or
// removing one it lacks, is success.
type Labeler interface {
	SetLabel(ctx context.Context, pr maestro.PullRequest, label string, on bool) error
}

// MergeOptions say what Merge and AutoMerger.EnableAutoMerge merge.
type MergeOptions struct {
	// Head is the head commit the merge policies judged; required. The
	// host merges only while the pull request's head is this commit.
	Head string
	// Message is the squash commit's message: its first line the title,
	// the rest (after a blank line) the body.
	Message string
}

// Validate checks opts before anything is sent.
func (o MergeOptions) Validate() error {
	if !isCommitID(o.Head) {
		return maestro.Errorf(maestro.KindInvalid, "merge: the head commit the policies judged is required (a 40-hex commit id), got %q", o.Head)
	}
	if strings.TrimSpace(o.Message) == "" {
		return maestro.Errorf(maestro.KindInvalid, "merge: the squash commit's message is empty")
	}
	return nil
}

// SplitMessage splits a commit message into its title (the first line) and
// its body (the rest, without the blank lines that separate it), as GitHub's
// commit_title and commit_message take them.
func SplitMessage(message string) (title, body string) {
	title, body, _ = strings.Cut(strings.TrimSpace(message), "\n")
	return strings.TrimSpace(title), strings.Trim(body, "\n")
}

func isCommitID(s string) bool {
	if len(s) != 40 && len(s) != 64 { // SHA-1 or SHA-256
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// PolicyResult is one merge policy's verdict as reported on a pull request.
type PolicyResult = maestro.PolicyResult

// CheckSkipped is the state of a reported policy no longer evaluated.
const CheckSkipped = maestro.CheckSkipped

// PolicyCheckPrefix starts the name of every check run (as a GitHub App) or
// commit status context (with a person's token) Maestro++ reports a merge
// policy with on GitHub: "Maestro auto-merge - {policy}", the name
// production uses.
const PolicyCheckPrefix = "Maestro auto-merge - "

// PolicyStatusGenre is the genre of every pull request status Maestro++
// reports a merge policy with on Azure DevOps; the status's name is the
// policy's.
const PolicyStatusGenre = "maestro"

// IsPolicyCheck reports whether a check that Platform.Checks lists is one of
// Maestro++'s own policy reports (a check run or commit status named
// PolicyCheckPrefix+policy on GitHub, a status of genre PolicyStatusGenre on
// Azure DevOps). Our own
// checks never count when checks are evaluated.
func IsPolicyCheck(name string) bool {
	return strings.HasPrefix(name, PolicyCheckPrefix) || strings.HasPrefix(strings.ToLower(name), PolicyStatusGenre+"/")
}

// PolicyReporter shows merge policy results on pull requests, the way
// production Maestro does and without noise.
//
// Contract:
//   - ReportPolicies makes what the host shows for pr at head commit head
//     match results (names unique, states pending, success or failure):
//     one entry per policy, created once and changed in place only when
//     its state or message changed, so that reporting the same results
//     again writes nothing. A policy reported before and missing from
//     results is shown as skipped (no longer evaluated). On GitHub each
//     policy is a check run named PolicyCheckPrefix+name on head (pending
//     is in_progress) when Maestro++ acts as a GitHub App, else a commit
//     status of that context whose description is the message's first
//     line, cut to 140 characters (statuses are append-only: a new one is
//     posted only when the state or description differs from the latest;
//     skipped is success, described as no longer evaluated); on Azure DevOps a pull request status of genre
//     PolicyStatusGenre plus one summary comment, "Auto-Merge Status",
//     edited in place; on the local platform the pull request's record.
//   - PolicyResults reads back what the host shows for pr at head, skipped
//     ones included, sorted by name (a GitHub commit status gives its
//     description as the message).
//   - Notify posts body as a comment on pr once per head commit: it reports
//     false, posting nothing, when a notification for head is there
//     already.
type PolicyReporter interface {
	ReportPolicies(ctx context.Context, pr maestro.PullRequest, head string, results []PolicyResult) error
	PolicyResults(ctx context.Context, pr maestro.PullRequest, head string) ([]PolicyResult, error)
	Notify(ctx context.Context, pr maestro.PullRequest, head, body string) (bool, error)
}

// ValidatePolicyResults checks results before anything is written: every
// name set, unique, and short enough for a check name; every state pending,
// success or failure.
func ValidatePolicyResults(results []PolicyResult) error {
	seen := map[string]bool{}
	for i, r := range results {
		switch {
		case strings.TrimSpace(r.Name) == "":
			return maestro.Errorf(maestro.KindInvalid, "policy result %d has no name", i)
		case seen[r.Name]:
			return maestro.Errorf(maestro.KindInvalid, "policy %s is reported twice", r.Name)
		case len(PolicyCheckPrefix+r.Name) > maxPolicyCheckName:
			return maestro.Errorf(maestro.KindInvalid, "policy name %.20q… is too long to report (at most %d bytes)", r.Name, maxPolicyCheckName-len(PolicyCheckPrefix))
		}
		if _, err := maestro.ParseCheckState(string(r.State)); err != nil {
			return fmt.Errorf("policy %s: %w", r.Name, err)
		}
		seen[r.Name] = true
	}
	return nil
}

// maxPolicyCheckName bounds a reported check's name, as hosts do.
const maxPolicyCheckName = 255

// NotificationMarker is the hidden line that ends a failure notification
// for head commit head; Notify looks for it to notify once per head.
func NotificationMarker(head string) string {
	return "<!-- maestro-failure-notification: " + head + " -->"
}

// FailureNotification is the comment that tells the people a subscription
// names in pullRequestFailureNotificationTags (separated by ';', ',' or
// spaces, as production accepts them) that pr fails its merge policies, or
// "" when tags names nobody. Names without a leading @ get one.
func FailureNotification(tags string, failing []PolicyResult) string {
	var who []string
	for _, t := range strings.FieldsFunc(tags, func(r rune) bool { return r == ';' || r == ',' || unicode.IsSpace(r) }) {
		if !strings.HasPrefix(t, "@") {
			t = "@" + t
		}
		who = append(who, t)
	}
	if len(who) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Notification for subscribed users: %s\n\n", strings.Join(who, " "))
	b.WriteString("This dependency-update pull request fails its merge policies, so it will not be merged automatically. " +
		"The failures may come from changes in your repository; please take a look.\n\n")
	for _, r := range failing {
		fmt.Fprintf(&b, "- %s: %s\n", r.Name, r.Message)
	}
	b.WriteString("\nYou are tagged because the Maestro++ subscription of this pull request names you in pullRequestFailureNotificationTags; " +
		"`maestro subscription update --failure-notification-tags` changes that.\n")
	return b.String()
}

// CommitChecker is a platform that runs CI of its own on the commits the
// flow pushes (the local platform runs a repository policy's check
// command). RunChecks runs it on head, the head commit of pr, and records
// the outcome as a check of pr on that commit (Checks lists it while head
// is the head); a failing or timed-out command is a failing check, not an
// error. Without CI configured it does nothing.
type CommitChecker interface {
	RunChecks(ctx context.Context, pr maestro.PullRequest, head string) error
}

package githubdouble

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// Auto-merge, as https://docs.github.com/pull-requests/collaborating-with-pull-requests/incorporating-changes-from-a-pull-request/automatically-merging-a-pull-request
// describes it: on a repository that allows it, a pull request that cannot
// be merged yet (its base branch's protection blocks it) can have
// auto-merge enabled; GitHub merges it, as the user who enabled it and with
// the chosen method, as soon as the protection is satisfied. Closing or
// merging the pull request turns auto-merge off. The GraphQL mutations
// enablePullRequestAutoMerge and disablePullRequestAutoMerge switch it; the
// REST pull request shows it in auto_merge.
type autoMerge struct {
	by          *user
	method      string  // merge, squash or rebase
	headline    *string // commitHeadline; nil for GitHub's default
	body        *string // commitBody; nil for GitHub's default
	authorEmail string
	enabledAt   time.Time
}

// autoMergeJSON is the pull request's auto_merge as REST shows it, or nil:
// the commit title and message the merge will use, GitHub's defaults for
// the method when the user gave none (none for rebase, which keeps the
// commits).
func (s *Server) autoMergeJSON(r *repo, p *pull) (*github.PullRequestAutoMerge, error) {
	am := p.autoMerge
	if am == nil {
		return nil, nil
	}
	var text string
	switch am.method {
	case "merge":
		text = mergeMessage(r, p, body{})
	case "squash":
		content, err := s.content(r, p)
		if err != nil {
			return nil, err
		}
		text = squashMessage(p, content.commits, body{})
	}
	title, message, _ := strings.Cut(strings.TrimSuffix(text, "\n"), "\n\n")
	if am.headline != nil {
		title = *am.headline
	}
	if am.body != nil {
		message = *am.body
	}
	return &github.PullRequestAutoMerge{
		EnabledBy:     s.userJSON(am.by),
		MergeMethod:   github.String(am.method),
		CommitTitle:   github.String(title),
		CommitMessage: github.String(message),
	}, nil
}

// enableAutoMerge turns auto-merge on for p, or returns GitHub's reason for
// refusing: the repository does not allow it or the merge method, or the
// pull request is not waiting for anything (its mergeable_state is not
// blocked or behind).
func (s *Server) enableAutoMerge(r *repo, p *pull, am *autoMerge, expectedHead string) (string, error) {
	if !r.spec.AllowAutoMerge {
		return "Auto merge is not allowed for this repository", nil
	}
	if msg := methodNotAllowed(r, am.method); msg != "" {
		return msg, nil
	}
	if expectedHead != "" && expectedHead != p.headSHA {
		return fmt.Sprintf("Expected head OID %s does not match the pull request's head %s", expectedHead, p.headSHA), nil
	}
	pr, err := s.pullJSON(r, p, true)
	if err != nil {
		return "", err
	}
	switch state := pr.GetMergeableState(); {
	case !p.open():
		return "Pull request is not open", nil
	case state != "blocked" && state != "behind":
		return fmt.Sprintf("Pull request Pull request is in %s status", state), nil
	}
	am.enabledAt = s.now()
	p.autoMerge = am
	return "", nil
}

// canDisableAutoMerge reports whether disablePullRequestAutoMerge turns
// p's auto-merge off rather than refusing with "Can't disable auto-merge
// for this pull request." (type UNPROCESSABLE, data null). GitHub refuses
// for a pull request that is closed, merged or a draft, and — as observed
// live, e.g. by `gh pr merge --disable-auto` on a pull request whose
// auto-merge was never enabled — for one whose auto-merge is off; a
// version of GitHub's server code answers that last case with success and
// an error entry the public schema does not show
// ("Can't disable auto-merge because it was not enabled."). The double
// gives the refusal, the answer clients must handle either way. It is also
// viewerCanDisableAutoMerge.
func canDisableAutoMerge(p *pull) bool {
	return p.open() && !p.draft && p.autoMerge != nil
}

// runAutoMerges merges every open pull request of r whose auto-merge is on
// and whose base branch's protection no longer blocks it, as GitHub does
// when checks and reviews turn green. A pull request git cannot merge
// (conflicts) keeps waiting.
func (s *Server) runAutoMerges(r *repo) error {
	for _, p := range r.pulls {
		if p.autoMerge == nil || !p.open() || p.draft {
			continue
		}
		block, err := s.protectionBlock(r, p)
		if err != nil {
			return err
		}
		if block != nil {
			continue
		}
		am := p.autoMerge
		b := body{}
		if am.headline != nil {
			b["commit_title"], _ = json.Marshal(*am.headline)
		}
		if am.body != nil {
			b["commit_message"], _ = json.Marshal(*am.body)
		}
		if _, _, err := s.mergeNow(r, p, am.method, am.by, b); err != nil {
			return err
		}
		if p.merged {
			p.autoMerge = nil
		}
	}
	return nil
}

// graphQLMergeMethod maps GraphQL's PullRequestMergeMethod to REST's.
func graphQLMergeMethod(v any) string {
	if s, ok := v.(string); ok && s != "" {
		return strings.ToLower(s)
	}
	return "merge"
}

// methodNotAllowed is the refusal of a merge method the repository's
// settings disable (the REST merge's wording), or "".
func methodNotAllowed(r *repo, method string) string {
	switch {
	case method == "merge" && r.spec.DisallowMergeCommit:
		return "Merge commits are not allowed on this repository."
	case method == "squash" && r.spec.DisallowSquashMerge:
		return "Squash merges are not allowed on this repository."
	case method == "rebase" && r.spec.DisallowRebaseMerge:
		return "Rebase merges are not allowed on this repository."
	}
	return ""
}

package registry

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// The local platform keeps its pull requests here: one document per pull
// request, numbered per store. On GitHub and Azure Repos the host keeps them.
const prCounterKey = "meta/counters/pull-request.json"

func pullRequestKey(repo string, number int) string {
	return fmt.Sprintf("pullrequests/%s/%s.json", repourl.Key(repo), idKey(number))
}

// CreatePullRequest records a new pull request of the local platform and
// assigns its number.
func (r *Registry) CreatePullRequest(ctx context.Context, pr maestro.PullRequest) (maestro.PullRequest, error) {
	c, err := update(ctx, r.st, prCounterKey, func(c *counterDoc, _ bool) error {
		c.Next = max(c.Next, 1) + 1
		return nil
	})
	if err != nil {
		return pr, fmt.Errorf("number pull request: %w", err)
	}
	pr.Number = c.Next - 1
	now := r.now().UTC()
	pr.CreatedAt, pr.UpdatedAt = now, now
	if err := putJSON(ctx, r.st, pullRequestKey(pr.Repository, pr.Number), pr, store.Condition{CreateOnly: true}); err != nil {
		return pr, fmt.Errorf("record pull request: %w", err)
	}
	return pr, nil
}

// UpdatePullRequest changes a recorded pull request through fn.
func (r *Registry) UpdatePullRequest(ctx context.Context, repo string, number int, fn func(*maestro.PullRequest) error) (maestro.PullRequest, error) {
	return update(ctx, r.st, pullRequestKey(repo, number), func(pr *maestro.PullRequest, exists bool) error {
		if !exists {
			return maestro.Errorf(maestro.KindNotFound, "pull request #%d of %s does not exist", number, repo)
		}
		if err := fn(pr); err != nil {
			return err
		}
		pr.UpdatedAt = r.now().UTC()
		return nil
	})
}

// PullRequest returns a recorded pull request.
func (r *Registry) PullRequest(ctx context.Context, repo string, number int) (maestro.PullRequest, error) {
	var pr maestro.PullRequest
	_, err := getJSON(ctx, r.st, pullRequestKey(repo, number), &pr)
	if errors.Is(err, store.ErrNotExist) {
		return pr, maestro.Errorf(maestro.KindNotFound, "pull request #%d of %s does not exist; `maestro pr list` shows them", number, repo)
	}
	return pr, err
}

// PullRequests lists recorded pull requests, of one repository when repo is
// not empty, newest first.
func (r *Registry) PullRequests(ctx context.Context, repo string) ([]maestro.PullRequest, error) {
	prefix := "pullrequests/"
	if repo != "" {
		prefix += repourl.Key(repo) + "/"
	}
	keys, err := r.st.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list pull requests: %w", err)
	}
	prs, err := parallelMap(ctx, keys, func(ctx context.Context, k string) (maestro.PullRequest, error) {
		var pr maestro.PullRequest
		_, err := getJSON(ctx, r.st, k, &pr)
		return pr, err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(prs, func(a, b maestro.PullRequest) int { return b.Number - a.Number })
	return prs, nil
}

// SetPullRequestCheck records check on a pull request of the local platform:
// it replaces the check of the same name or adds it. The record is one
// document written with compare-and-swap on the version read, so two
// processes setting checks at once both land (the loser reads again and
// reapplies its check), and a crash leaves the record before or after the
// write, never between.
func (r *Registry) SetPullRequestCheck(ctx context.Context, repo string, number int, check maestro.Check) (maestro.PullRequest, error) {
	if err := validCheckName(check.Name); err != nil {
		return maestro.PullRequest{}, err
	}
	if _, err := maestro.ParseCheckState(string(check.State)); err != nil {
		return maestro.PullRequest{}, err
	}
	return r.UpdatePullRequest(ctx, repo, number, func(pr *maestro.PullRequest) error {
		i, found := slices.BinarySearchFunc(pr.Checks, check.Name, func(c maestro.Check, name string) int { return strings.Compare(c.Name, name) })
		if found {
			if reflect.DeepEqual(pr.Checks[i], check) {
				return errUnchanged
			}
			pr.Checks[i] = check
			return nil
		}
		pr.Checks = slices.Insert(pr.Checks, i, check)
		return nil
	})
}

// maxCheckName bounds a check's name, as hosts do.
const maxCheckName = 255

func validCheckName(name string) error {
	if strings.TrimSpace(name) == "" {
		return maestro.Errorf(maestro.KindInvalid, "check name is empty; name the check, e.g. build")
	}
	if len(name) > maxCheckName {
		return maestro.Errorf(maestro.KindInvalid, "check name %.20q… is %d bytes long; at most %d", name, len(name), maxCheckName)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return maestro.Errorf(maestro.KindInvalid, "check name %q holds a control character or invalid UTF-8", name)
	}
	return nil
}

package registry_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestSetPullRequestCheck: a check replaces the one of its name or joins the
// others in name order; bad names and states are refused before any write.
func TestSetPullRequestCheck(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	const repo = "/src/app"
	pr, err := r.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo, HeadBranch: "darc-main-1", BaseBranch: "main", Title: "t", Body: "b"})
	require.NoError(t, err)

	steps := []struct {
		check maestro.Check
		want  []maestro.Check
	}{
		{maestro.Check{Name: "test", State: maestro.CheckPending}, []maestro.Check{{Name: "test", State: maestro.CheckPending}}},
		{maestro.Check{Name: "build", State: maestro.CheckPending},
			[]maestro.Check{{Name: "build", State: maestro.CheckPending}, {Name: "test", State: maestro.CheckPending}}},
		{maestro.Check{Name: "test", State: maestro.CheckSuccess},
			[]maestro.Check{{Name: "build", State: maestro.CheckPending}, {Name: "test", State: maestro.CheckSuccess}}},
		{maestro.Check{Name: "build", State: maestro.CheckFailure},
			[]maestro.Check{{Name: "build", State: maestro.CheckFailure}, {Name: "test", State: maestro.CheckSuccess}}},
		{maestro.Check{Name: "build", State: maestro.CheckFailure},
			[]maestro.Check{{Name: "build", State: maestro.CheckFailure}, {Name: "test", State: maestro.CheckSuccess}}},
	}
	for i, s := range steps {
		t.Run(fmt.Sprintf("%d %s %s", i, s.check.Name, s.check.State), func(t *testing.T) {
			got, err := r.SetPullRequestCheck(ctx, repo, pr.Number, s.check)
			require.NoError(t, err)
			assert.Equal(t, s.want, got.Checks)
			stored, err := r.PullRequest(ctx, repo, pr.Number)
			require.NoError(t, err)
			assert.Equal(t, s.want, stored.Checks)
			assert.Equal(t, "t", stored.Title, "the rest of the record stays")
		})
	}

	bad := []struct {
		name    string
		number  int
		check   maestro.Check
		kind    maestro.ErrorKind
		wantErr string
	}{
		{"empty name", pr.Number, maestro.Check{Name: " ", State: maestro.CheckPending}, maestro.KindInvalid, "check name is empty"},
		{"control character", pr.Number, maestro.Check{Name: "a\nb", State: maestro.CheckPending}, maestro.KindInvalid, "control character"},
		{"invalid UTF-8", pr.Number, maestro.Check{Name: "a\xffb", State: maestro.CheckPending}, maestro.KindInvalid, "invalid UTF-8"},
		{"long name", pr.Number, maestro.Check{Name: strings.Repeat("x", 256), State: maestro.CheckPending}, maestro.KindInvalid, "at most 255"},
		{"unknown state", pr.Number, maestro.Check{Name: "build", State: "done"}, maestro.KindInvalid, `check state "done"`},
		{"no such pull request", pr.Number + 1, maestro.Check{Name: "build", State: maestro.CheckPending}, maestro.KindNotFound, "does not exist"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			_, err := r.SetPullRequestCheck(ctx, repo, b.number, b.check)
			assert.Equal(t, b.kind, maestro.KindOf(err), "%v", err)
			assert.ErrorContains(t, err, b.wantErr)
			stored, err := r.PullRequest(ctx, repo, pr.Number)
			require.NoError(t, err)
			assert.Equal(t, steps[len(steps)-1].want, stored.Checks, "nothing was written")
		})
	}
}

// TestSetPullRequestCheckConcurrently: writers setting different checks on
// one pull request at once all land (compare-and-swap: a loser reads again),
// and a concurrent title change is not lost either.
func TestSetPullRequestCheckConcurrently(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	const repo, writers = "/src/app", 8
	pr, err := r.CreatePullRequest(ctx, maestro.PullRequest{Repository: repo, HeadBranch: "darc-main-1", BaseBranch: "main"})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			_, err := r.SetPullRequestCheck(ctx, repo, pr.Number, maestro.Check{Name: fmt.Sprintf("check-%d", i), State: maestro.CheckPending})
			assert.NoError(t, err)
		})
	}
	wg.Go(func() {
		_, err := r.UpdatePullRequest(ctx, repo, pr.Number, func(p *maestro.PullRequest) error { p.Title = "new title"; return nil })
		assert.NoError(t, err)
	})
	wg.Wait()
	stored, err := r.PullRequest(ctx, repo, pr.Number)
	require.NoError(t, err)
	assert.Len(t, stored.Checks, writers)
	assert.Equal(t, "new title", stored.Title)
}

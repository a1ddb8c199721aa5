package legacy_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/legacy"
)

func corefxPush(commits ...string) legacy.Push {
	p := legacy.Push{Repository: "dotnet/versions", Ref: "refs/heads/master"}
	for _, c := range commits {
		p.Commits = append(p.Commits, legacy.Commit{ID: c, Paths: []string{"build-info/dotnet/corefx/master/Latest.txt"}})
	}
	return p
}

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaC = "cccccccccccccccccccccccccccccccccccccccc"
	zero = "0000000000000000000000000000000000000000"
)

// TestTakePushOncePerDelivery: a delivered push is matched and its action
// queued once; the same delivery taken again (a retry after a crash
// between the take and the event's result) changes nothing.
func TestTakePushOncePerDelivery(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	w := e.watcher()
	d := legacy.Delivered{ID: "d-1", Push: corefxPush(shaA), Before: zero, After: shaA}
	taken, triggers, err := w.TakePush(ctx, d)
	require.NoError(t, err)
	assert.True(t, taken)
	require.Len(t, triggers, 1)
	rep, err := w.QueueDue(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Queued, 1)
	assert.True(t, rep.NextDue.IsZero(), "nothing left")

	for _, again := range []*legacy.Watcher{w, e.watcher()} {
		taken, triggers, err = again.TakePush(ctx, d)
		require.NoError(t, err)
		assert.False(t, taken)
		assert.Empty(t, triggers)
		_, err = again.QueueDue(ctx)
		require.NoError(t, err)
	}
	assert.Equal(t, []string{`1 refs/heads/main {"GithubRepo":"versions","BranchToMirror":"master","CommitsToMirror":"` + shaA + `"}`}, e.queued())
	st, _, err := w.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"d-1"}, st.Deliveries)
	assert.Equal(t, shaA, st.LastCommit)
}

// TestTakePushAndPollShareTheState: a push whose before is the last
// processed commit moves it, so a poll of the same branch does not take its
// commits again; a push a poll took already (its after is the last
// processed commit) triggers nothing; a delayed action waits, and NextDue
// says until when.
func TestTakePushAndPollShareTheState(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	w := e.watcher()
	_, err := w.Poll(ctx) // starts at the head
	require.NoError(t, err)
	st, _, err := w.State(ctx)
	require.NoError(t, err)
	head := st.LastCommit

	c1 := e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"})
	taken, triggers, err := w.TakePush(ctx, legacy.Delivered{ID: "d-1", Push: corefxPush(c1), Before: head, After: c1})
	require.NoError(t, err)
	assert.True(t, taken)
	assert.Len(t, triggers, 1)
	rep, err := w.Poll(ctx)
	require.NoError(t, err)
	assert.Zero(t, rep.Processed, "the poll finds the push's commit taken")
	assert.Len(t, e.queued(), 1)

	c2 := e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-2"})
	rep, err = w.Poll(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Processed)
	taken, triggers, err = w.TakePush(ctx, legacy.Delivered{ID: "d-2", Push: corefxPush(c2), Before: c1, After: c2})
	require.NoError(t, err)
	assert.True(t, taken, "recorded as delivered")
	assert.Empty(t, triggers, "the poll took the commit")
	assert.Len(t, e.queued(), 2)

	// A delayed action (ten minutes) waits; NextDue is when it is due.
	push := legacy.Push{Repository: "dotnet/versions", Ref: "refs/heads/master",
		Commits: []legacy.Commit{{ID: shaB, Paths: []string{"build-info/dotnet/product/cli/x.txt"}}}}
	_, triggers, err = w.TakePush(ctx, legacy.Delivered{ID: "d-3", Push: push, Before: shaC, After: shaB})
	require.NoError(t, err)
	assert.Len(t, triggers, 1, "a push out of step with the state is matched on its own commits")
	rep, err = w.QueueDue(ctx)
	require.NoError(t, err)
	assert.Empty(t, rep.Queued)
	assert.Equal(t, 1, rep.Waiting)
	assert.Equal(t, e.clock().Add(10*time.Minute), rep.NextDue)
	st, _, err = w.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, c2, st.LastCommit, "left alone by the push out of step")
	e.advance(10 * time.Minute)
	rep, err = w.QueueDue(ctx)
	require.NoError(t, err)
	assert.Len(t, rep.Queued, 1)
	assert.True(t, rep.NextDue.IsZero())
}

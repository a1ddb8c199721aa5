package legacy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
)

const watchSubscriptions = `{
  "actions": {
    // definition 1 of the double
    "mirror": {"vsoInstance": "dnceng.visualstudio.com", "vsoProject": "internal", "buildDefinitionId": 1},
    // definition 2
    "publish": {"vsoInstance": "dnceng.visualstudio.com", "vsoProject": "internal", "buildDefinitionId": 2},
  },
  "subscriptions": [
    {
      "triggerPaths": ["https://github.com/dotnet/versions/blob/master/build-info/dotnet/corefx/master/Latest.txt"],
      "action": "mirror",
      "actionArguments": {"vsoSourceBranch": "main", "vsoBuildParameters": {
        "GithubRepo": "<trigger-repo>", "BranchToMirror": "<trigger-branch>", "CommitsToMirror": "<trigger-commitlist>",
      }},
    },
    {
      "triggerPaths": ["https://github.com/dotnet/versions/blob/master/build-info/dotnet/product/cli/**/*"],
      "action": "publish",
      "delay": "00:10:00",
      "actionArguments": {"vsoBuildParameters": {"PB_TriggerPath": "<trigger-path>", "PB_VersionsRepoRef": "<trigger-commit>"}},
    },
  ],
}`

type watchEnv struct {
	t      *testing.T
	srv    *azdodouble.Server
	store  store.Store
	file   *legacy.File
	repo   string // a work tree: commits are made here and fetched from here
	queuer legacy.Queuer
	mu     sync.Mutex
	now    time.Time
}

func newWatchEnv(t *testing.T) *watchEnv {
	t.Helper()
	srv := azdodouble.NewServer(t, azdodouble.WithPAT("pat"))
	project := srv.AddProject("internal")
	pipelines := srv.AddRepository(project, "pipelines")
	pipelines.Commit("main", map[string][]byte{"README.md": []byte("pipelines\n")}, "init")
	vars := func(names ...string) map[string]azdodouble.DefinitionVariable {
		m := map[string]azdodouble.DefinitionVariable{}
		for _, n := range names {
			m[n] = azdodouble.DefinitionVariable{AllowOverride: true}
		}
		return m
	}
	require.Equal(t, 1, srv.AddClassicDefinition(project, azdodouble.ClassicDefinition{Name: "mirror", Repository: pipelines, Variables: vars("GithubRepo", "BranchToMirror", "CommitsToMirror")}).ID)
	require.Equal(t, 2, srv.AddClassicDefinition(project, azdodouble.ClassicDefinition{Name: "publish", Repository: pipelines, Variables: vars("PB_TriggerPath", "PB_VersionsRepoRef")}).ID)
	env := map[string]string{"MAESTRO_AZDO_TOKEN": "pat", "MAESTRO_AZDO_SERVER_URLS": srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK": "true"}
	q, err := wire.Env{Getenv: func(k string) string { return env[k] }, Now: time.Now}.LegacyQueuer(map[string]string{"dnceng.visualstudio.com": srv.OrganizationURL()})
	require.NoError(t, err)
	f, err := legacy.Parse("subscriptions.json", []byte(watchSubscriptions))
	require.NoError(t, err)
	repo := filepath.Join(t.TempDir(), "versions")
	require.NoError(t, bot.Init(context.Background(), repo, false))
	e := &watchEnv{t: t, srv: srv, store: mem.New(), file: f, repo: repo, queuer: q, now: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}
	e.commit(map[string]string{"README.md": "versions\n"})
	require.NoError(t, exec.Command("git", "-C", repo, "branch", "-M", "master").Run())
	return e
}

// commit commits files on master of the versions repository and returns its id.
func (e *watchEnv) commit(files map[string]string) string {
	e.t.Helper()
	for name, content := range files {
		p := filepath.Join(e.repo, filepath.FromSlash(name))
		require.NoError(e.t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(e.t, os.WriteFile(p, []byte(content), 0o644))
	}
	id, err := bot.CommitAllowEmpty(context.Background(), e.repo, "update")
	require.NoError(e.t, err)
	return id
}

func (e *watchEnv) clock() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }
func (e *watchEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// watcher returns a new watcher on the shared store, as a restarted or a
// second process would have.
func (e *watchEnv) watcher() *legacy.Watcher {
	work := filepath.Join(e.t.TempDir(), "work.git")
	require.NoError(e.t, bot.Init(context.Background(), work, true))
	return &legacy.Watcher{
		Store: e.store, Git: git.Runner{}, File: e.file, Repo: e.repo, GitHubRepo: "dotnet/versions", Branch: "master",
		WorkDir: work, Queuer: e.queuer, Now: e.clock, NewID: uuid.NewString,
	}
}

// queued returns the builds the double was asked to queue: definition,
// source branch, parameters.
func (e *watchEnv) queued() []string {
	var out []string
	for _, r := range e.srv.QueueBuildRequests() {
		var body struct {
			Definition   struct{ ID int }
			SourceBranch string
			Parameters   string
		}
		require.NoError(e.t, json.Unmarshal(r.Body, &body))
		require.Equal(e.t, 200, r.Status, "queued: %s", r.Body)
		out = append(out, fmt.Sprintf("%d %s %s", body.Definition.ID, body.SourceBranch, body.Parameters))
	}
	return out
}

func TestWatchQueuesEachCommitOnce(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	w := e.watcher()
	rep, err := w.Poll(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, rep.Processed, "the first poll starts at the head")

	c1 := e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"})
	c2 := e.commit(map[string]string{"build-info/dotnet/coreclr/master/Latest.txt": "preview1-1"})
	c3 := e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-2"})
	rep, err = w.Poll(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Processed)
	require.Len(t, rep.Queued, 1)
	assert.Equal(t, []string{
		`1 refs/heads/main {"GithubRepo":"versions","BranchToMirror":"master","CommitsToMirror":"` + c1 + " " + c3 + `"}`,
	}, e.queued())
	_ = c2

	// Polling again, by this watcher or a restarted one, queues nothing.
	for _, again := range []*legacy.Watcher{w, e.watcher()} {
		rep, err = again.Poll(ctx)
		require.NoError(t, err)
		assert.Zero(t, rep.Processed)
		assert.Len(t, e.queued(), 1)
	}
	st, _, err := w.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, c3, st.LastCommit)
	require.Len(t, st.Queued, 1)
	assert.Equal(t, []string{c1, c3}, st.Queued[0].Commits)
	assert.Empty(t, st.Pending)
}

// TestWatchDelayCoalescesAcrossRestart: pushes within an action's delay
// become one build with the combined commit list, queued once the delay has
// passed — by a restarted watcher, since the pending action is in the store.
func TestWatchDelayCoalescesAcrossRestart(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	_, err := e.watcher().Poll(ctx)
	require.NoError(t, err)

	c1 := e.commit(map[string]string{"build-info/dotnet/product/cli/release/2.1/build.semaphore": "1"})
	rep, err := e.watcher().Poll(ctx)
	require.NoError(t, err)
	assert.Empty(t, rep.Queued)
	assert.Equal(t, 1, rep.Waiting)

	e.advance(4 * time.Minute)
	c2 := e.commit(map[string]string{"build-info/dotnet/product/cli/release/2.1/build.xml": "<x/>"})
	rep, err = e.watcher().Poll(ctx) // a restart in the middle of the delay
	require.NoError(t, err)
	assert.Empty(t, rep.Queued)
	assert.Equal(t, 1, rep.Waiting, "coalesced into the pending action")

	e.advance(5 * time.Minute)
	rep, err = e.watcher().Poll(ctx)
	require.NoError(t, err)
	assert.Empty(t, rep.Queued, "ten minutes from the first push, not yet")
	assert.Empty(t, e.queued())

	e.advance(time.Minute)
	rep, err = e.watcher().Poll(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Queued, 1)
	assert.Equal(t, []string{c1, c2}, rep.Queued[0].Commits)
	assert.Equal(t, []string{
		`2  {"PB_TriggerPath":"build-info/dotnet/product/cli/release/2.1/build.xml","PB_VersionsRepoRef":"` + c2 + `"}`,
	}, e.queued())
	e.advance(time.Hour)
	_, err = e.watcher().Poll(ctx)
	require.NoError(t, err)
	assert.Len(t, e.queued(), 1, "queued once")
}

// TestWatchTwoWatchersQueueOnce runs watchers side by side on one store,
// again and again: every commit is taken once and every action queued once.
func TestWatchTwoWatchersQueueOnce(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	_, err := e.watcher().Poll(ctx)
	require.NoError(t, err)
	watchers := []*legacy.Watcher{e.watcher(), e.watcher(), e.watcher()}
	var want []string
	for round := range 4 {
		c := e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": fmt.Sprintf("preview1-%d", round)})
		want = append(want, `1 refs/heads/main {"GithubRepo":"versions","BranchToMirror":"master","CommitsToMirror":"`+c+`"}`)
		var wg sync.WaitGroup
		errs := make([]error, len(watchers))
		for i, w := range watchers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = w.Poll(ctx)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		assert.Equal(t, want, e.queued(), "round %d", round)
	}
}

// TestWatchTakesOverADeadClaim: a watcher that died after claiming an
// action leaves it claimed. Once the claim lapses, the next watcher looks
// for the build the dead one may have queued: found, it is recorded and not
// queued again; not found, it is queued.
func TestWatchTakesOverADeadClaim(t *testing.T) {
	ctx := context.Background()
	for _, queuedBeforeDeath := range []bool{true, false} {
		t.Run(fmt.Sprintf("queued before death %v", queuedBeforeDeath), func(t *testing.T) {
			e := newWatchEnv(t)
			_, err := e.watcher().Poll(ctx)
			require.NoError(t, err)
			c := e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"})

			// The dead watcher: it took the commit and claimed the action.
			dead := e.watcher()
			dead.Queuer = dyingQueuer{}
			func() {
				defer func() { assert.Equal(t, errDied, recover()) }()
				_, _ = dead.Poll(ctx)
			}()
			st, _, err := dead.State(ctx)
			require.NoError(t, err)
			require.Len(t, st.Pending, 1)
			require.NotNil(t, st.Pending[0].Claim)
			if queuedBeforeDeath {
				_, err := e.queuer.Queue(ctx, st.Pending[0].Trigger, st.Pending[0].Claim.Marker)
				require.NoError(t, err)
			}
			want := `1 refs/heads/main {"GithubRepo":"versions","BranchToMirror":"master","CommitsToMirror":"` + c + `"}`

			rep, err := e.watcher().Poll(ctx)
			require.NoError(t, err)
			assert.Empty(t, rep.Queued, "the claim is live")

			e.advance(legacy.ClaimTTL + time.Second)
			rep, err = e.watcher().Poll(ctx)
			require.NoError(t, err)
			require.Len(t, rep.Queued, 1)
			assert.Equal(t, queuedBeforeDeath, rep.Queued[0].Found)
			assert.Equal(t, []string{want}, e.queued(), "one build either way")
		})
	}
}

var errDied = fmt.Errorf("died")

// dyingQueuer stands for a process killed while queueing: it panics, so
// Poll stops where a killed process would, after the claim and before
// anything is recorded.
type dyingQueuer struct{}

func (dyingQueuer) Queue(context.Context, legacy.Trigger, string) (legacy.QueuedBuild, error) {
	panic(errDied)
}
func (dyingQueuer) Find(context.Context, legacy.Trigger, string, time.Time, []int) (legacy.QueuedBuild, bool, error) {
	panic(errDied)
}

// TestWatchRefusesRewrittenHistory: when the last processed commit is no
// longer in the branch's history (a force push), the watcher says so and
// changes nothing, rather than guessing which commits are new.
func TestWatchRefusesRewrittenHistory(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	w := e.watcher()
	_, err := w.Poll(ctx)
	require.NoError(t, err)
	e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"})
	_, err = w.Poll(ctx)
	require.NoError(t, err)
	require.Len(t, e.queued(), 1)
	before, _, err := w.State(ctx)
	require.NoError(t, err)

	require.NoError(t, exec.Command("git", "-C", e.repo, "reset", "--quiet", "--hard", "HEAD~1").Run())
	e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-9"})
	_, err = e.watcher().Poll(ctx)
	require.Error(t, err)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Contains(t, err.Error(), "is not in the history of "+e.repo+" master (was it force-pushed?); delete the watch state "+legacy.StateKey("dotnet/versions", "master"))
	after, _, err := w.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assert.Len(t, e.queued(), 1)
}

// failingQueuer fails every Queue without sending it, as an Azure DevOps
// outage would; Find asks the real queuer.
type failingQueuer struct{ legacy.Queuer }

func (failingQueuer) Queue(context.Context, legacy.Trigger, string) (legacy.QueuedBuild, error) {
	return legacy.QueuedBuild{}, fmt.Errorf("503 Service Unavailable")
}

// TestWatchRetryDoesNotTakeAnEarlierBuild: after a failed queue, the retry
// looks for a build the failure may have hidden. A build the watch state
// already records — the same definition and parameters, queued for earlier
// commits — is not that build: taking it would leave the new commits without
// a build.
func TestWatchRetryDoesNotTakeAnEarlierBuild(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	// Parameters that do not depend on the commits: every build of the
	// subscription looks the same to Azure DevOps.
	f, err := legacy.Parse("subscriptions.json", []byte(strings.Replace(watchSubscriptions, `"<trigger-commitlist>"`, `"all"`, 1)))
	require.NoError(t, err)
	e.file = f
	_, err = e.watcher().Poll(ctx)
	require.NoError(t, err)

	e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"})
	rep, err := e.watcher().Poll(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Queued, 1)

	e.advance(10 * time.Second)
	c2 := e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-2"})
	w := e.watcher()
	w.Queuer = failingQueuer{e.queuer}
	rep, err = w.Poll(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Errors, 1, "the queue failed and is kept as pending work")

	e.advance(2 * time.Minute)
	rep, err = e.watcher().Poll(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Queued, 1)
	assert.False(t, rep.Queued[0].Found, "the build queued for the first commit is not the second commit's")
	assert.Equal(t, []string{c2}, rep.Queued[0].Commits)
	assert.Len(t, e.queued(), 2, "one build per commit")
}

// meanwhileQueuer queues for real, then runs meanwhile before it returns:
// what other watchers do while this one's request is in flight.
type meanwhileQueuer struct {
	legacy.Queuer
	meanwhile func()
}

func (q meanwhileQueuer) Queue(ctx context.Context, t legacy.Trigger, marker string) (legacy.QueuedBuild, error) {
	b, err := q.Queuer.Queue(ctx, t, marker)
	q.meanwhile()
	return b, err
}

// hiddenSuccessQueuer queues for real and reports a failure, as a request
// that timed out after Azure DevOps queued the build does.
type hiddenSuccessQueuer struct{ legacy.Queuer }

func (q hiddenSuccessQueuer) Queue(ctx context.Context, t legacy.Trigger, marker string) (legacy.QueuedBuild, error) {
	if _, err := q.Queuer.Queue(ctx, t, marker); err != nil {
		return legacy.QueuedBuild{}, err
	}
	return legacy.QueuedBuild{}, context.DeadlineExceeded
}

// commitIndependent makes the mirror subscription's parameters the same for
// every commit: every build of it looks the same to Azure DevOps.
func (e *watchEnv) commitIndependent() {
	f, err := legacy.Parse("subscriptions.json", []byte(strings.Replace(watchSubscriptions, `"<trigger-commitlist>"`, `"all"`, 1)))
	require.NoError(e.t, err)
	e.file = f
}

// TestWatchRetryDoesNotTakeAnotherWatchersUnrecordedBuild: while one
// watcher's build for the first commit is queued but not yet recorded, the
// retry of the second commit's action (its first attempt failed) must not
// take that build for its own — with parameters that do not name the
// commits it has the same definition, branch and parameters — or the second
// commit is never built. The retry takes only a build carrying its action's
// marker.
func TestWatchRetryDoesNotTakeAnotherWatchersUnrecordedBuild(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	e.commitIndependent()
	_, err := e.watcher().Poll(ctx)
	require.NoError(t, err)

	c1 := e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"})
	var c2 string
	var retry legacy.PollReport
	first := e.watcher()
	first.Queuer = meanwhileQueuer{e.queuer, func() {
		// The first watcher's build is queued, not recorded: a second
		// watcher takes the next commit and fails to queue its action...
		e.advance(10 * time.Second)
		c2 = e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-2"})
		second := e.watcher()
		second.Queuer = failingQueuer{e.queuer}
		rep, err := second.Poll(ctx)
		require.NoError(t, err)
		require.Len(t, rep.Errors, 1, "the queue failed and is kept as pending work")
		// ...and a third retries it, looking for a build the failure hid.
		e.advance(2 * time.Minute)
		retry, err = e.watcher().Poll(ctx)
		require.NoError(t, err)
	}}
	rep, err := first.Poll(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Queued, 1)
	assert.Equal(t, []string{c1}, rep.Queued[0].Commits)

	require.Len(t, retry.Queued, 1)
	assert.False(t, retry.Queued[0].Found, "the build queued for the first commit is not the second commit's")
	assert.Equal(t, []string{c2}, retry.Queued[0].Commits)
	assert.NotEqual(t, rep.Queued[0].Build.ID, retry.Queued[0].Build.ID)
	assert.Len(t, e.queued(), 2, "one build per commit")
}

// TestWatchRetryAfterAHiddenSuccessBuildsLaterCommits: a queue request that
// failed may have queued the build (a timeout after Azure DevOps accepted
// it). Commits that arrive before the retry are not merged into that
// action: its retry finds the build, which names only the earlier commits,
// and the later ones get a build of their own.
func TestWatchRetryAfterAHiddenSuccessBuildsLaterCommits(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	e.commitIndependent()
	_, err := e.watcher().Poll(ctx)
	require.NoError(t, err)

	c1 := e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"})
	w := e.watcher()
	w.Queuer = hiddenSuccessQueuer{e.queuer}
	rep, err := w.Poll(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Errors, 1)

	c2 := e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-2"})
	e.advance(2 * time.Minute)
	rep, err = e.watcher().Poll(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Queued, 2)
	assert.True(t, rep.Queued[0].Found, "the build the timeout hid is recorded")
	assert.Equal(t, []string{c1}, rep.Queued[0].Commits)
	assert.False(t, rep.Queued[1].Found)
	assert.Equal(t, []string{c2}, rep.Queued[1].Commits)
	assert.Len(t, e.queued(), 2, "one build per commit")
}

// TestWatchQueueRequestEndsBeforeItsClaim: Azure DevOps that accepts the
// connection and never answers must not hold a watcher past its claim —
// another watcher would take the action over and queue it a second time
// when the first request lands — nor stop it forever. The request is given
// up after half the claim timeout and the action kept as pending work.
func TestWatchQueueRequestEndsBeforeItsClaim(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	hole := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hole.Close()
	defer hole.CloseClientConnections()
	env := map[string]string{"MAESTRO_AZDO_TOKEN": "pat", "MAESTRO_AZDO_SERVER_URLS": hole.URL + "/org", "MAESTRO_ALLOW_HTTP_LOOPBACK": "true"}
	q, err := wire.Env{Getenv: func(k string) string { return env[k] }, Now: time.Now}.LegacyQueuer(map[string]string{"dnceng.visualstudio.com": hole.URL + "/org"})
	require.NoError(t, err)

	_, err = e.watcher().Poll(ctx)
	require.NoError(t, err)
	e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"})
	w := e.watcher()
	w.Queuer, w.ClaimTTL = q, 2*time.Second
	done := make(chan legacy.PollReport, 1)
	start := time.Now()
	go func() {
		rep, err := w.Poll(ctx)
		assert.NoError(t, err)
		done <- rep
	}()
	select {
	case rep := <-done:
		assert.Less(t, time.Since(start), 2*time.Second, "given up before the claim lapses")
		require.Len(t, rep.Errors, 1)
		st, _, err := w.State(ctx)
		require.NoError(t, err)
		require.Len(t, st.Pending, 1, "kept as pending work")
		assert.Equal(t, 1, st.Pending[0].Attempts)
	case <-time.After(20 * time.Second):
		t.Fatal("the watcher waits forever for an Azure DevOps that does not answer")
	}
}

// deletingQueuer queues, and meanwhile someone deletes the watch state, as
// the force-push advice says to.
type deletingQueuer struct {
	legacy.Queuer
	delete func()
}

func (q deletingQueuer) Queue(ctx context.Context, t legacy.Trigger, marker string) (legacy.QueuedBuild, error) {
	b, err := q.Queuer.Queue(ctx, t, marker)
	q.delete()
	return b, err
}

// TestWatchStateDeletedWhileQueueing: the state deleted under a watcher
// that is queueing is an error that says what happened, not a crash.
func TestWatchStateDeletedWhileQueueing(t *testing.T) {
	ctx := context.Background()
	e := newWatchEnv(t)
	_, err := e.watcher().Poll(ctx)
	require.NoError(t, err)
	e.commit(map[string]string{"build-info/dotnet/corefx/master/Latest.txt": "preview1-1"})
	w := e.watcher()
	w.Queuer = deletingQueuer{e.queuer, func() { require.NoError(t, e.store.Delete(ctx, legacy.StateKey("dotnet/versions", "master"), "")) }}
	var rep legacy.PollReport
	require.NotPanics(t, func() { rep, err = w.Poll(ctx) })
	require.Error(t, err)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Contains(t, err.Error(), "was deleted")
	assert.Len(t, e.queued(), 1)
	_ = rep
}

// TestWatchFetchThatNeverAnswers: a repository server that accepts the
// connection and never answers fails the poll after FetchTimeout (the next
// poll tries again) instead of stopping the watch for good.
func TestWatchFetchThatNeverAnswers(t *testing.T) {
	e := newWatchEnv(t)
	hole := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hole.Close()
	defer hole.CloseClientConnections()
	w := e.watcher()
	w.Repo, w.FetchTimeout = hole.URL+"/dotnet/versions", time.Second
	done := make(chan error, 1)
	go func() { _, err := w.Poll(context.Background()); done <- err }()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.Equal(t, maestro.KindUnavailable, maestro.KindOf(err))
		assert.Contains(t, err.Error(), "no answer within 1s")
	case <-time.After(20 * time.Second):
		t.Fatal("the watcher waits forever for a repository that does not answer")
	}
}

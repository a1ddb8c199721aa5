package legacy_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
)

// peakWatch is the peak 88-subscription file against a versions repository
// of 1,000 commits, each changing one of the files the file's exact triggers
// on dotnet/versions name, and an Azure DevOps double that holds a classic
// definition for each of its 23 actions (renumbered 1..23, as the double
// numbers definitions) with every parameter it is given as a queue-time
// variable and every vsoSourceBranch as a branch.
type peakWatch struct {
	file   *legacy.File
	repo   string
	root   string // the commit before the 1,000
	queuer legacy.Queuer
	srv    *azdodouble.Server
}

func newPeakWatch(tb testing.TB, commits int) *peakWatch {
	f, err := legacy.Parse("peak.json", fixture(tb, "subscriptions.2019-11-22.peak88.json"))
	require.NoError(tb, err)
	srv := azdodouble.NewServer(tb, azdodouble.WithPAT("pat"))
	projects := map[string]*azdodouble.Project{}
	repos := map[string]*azdodouble.Repository{}
	params := map[string]map[string]bool{}
	branches := map[string]map[string]bool{}
	for _, s := range f.Subscriptions {
		for _, h := range s.Handlers {
			if params[h.Action] == nil {
				params[h.Action] = map[string]bool{}
			}
			for _, p := range h.Parameters {
				params[h.Action][p.Name] = true
			}
			a, _ := f.Action(h.Action)
			if branches[a.VSOProject] == nil {
				branches[a.VSOProject] = map[string]bool{}
			}
			if h.SourceBranch != "" {
				branches[a.VSOProject][h.SourceBranch] = true
			}
		}
	}
	instances := map[string]string{}
	for i := range f.Actions {
		a := &f.Actions[i]
		if projects[a.VSOProject] == nil {
			projects[a.VSOProject] = srv.AddProject(a.VSOProject)
			r := srv.AddRepository(projects[a.VSOProject], "pipelines")
			r.Commit("main", map[string][]byte{"README.md": []byte("x\n")}, "init")
			for b := range branches[a.VSOProject] {
				r.Commit(b, map[string][]byte{"README.md": []byte(b + "\n")}, "branch")
			}
			repos[a.VSOProject] = r
		}
		vars := map[string]azdodouble.DefinitionVariable{}
		for name := range params[a.Name] {
			vars[name] = azdodouble.DefinitionVariable{AllowOverride: true}
		}
		pl := srv.AddClassicDefinition(projects[a.VSOProject], azdodouble.ClassicDefinition{Name: a.Name, Repository: repos[a.VSOProject], Variables: vars})
		a.BuildDefinitionID = pl.ID
		instances[a.VSOInstance] = srv.OrganizationURL()
	}
	env := map[string]string{"MAESTRO_AZDO_TOKEN": "pat", "MAESTRO_AZDO_SERVER_URLS": srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK": "true"}
	q, err := wire.Env{Getenv: func(k string) string { return env[k] }, Now: time.Now}.LegacyQueuer(instances)
	require.NoError(tb, err)

	// The files: every exact trigger on dotnet/versions master.
	var paths []string
	seen := map[string]bool{}
	for _, s := range f.Subscriptions {
		for _, t := range s.Triggers {
			p, ok := strings.CutPrefix(t, "https://github.com/dotnet/versions/blob/master/")
			if ok && !strings.HasSuffix(p, "/**/*") && !seen[p] {
				seen[p] = true
				paths = append(paths, p)
			}
		}
	}
	sort.Strings(paths)
	require.NotEmpty(tb, paths)

	// 1,000 commits through git fast-import, which writes them in one go.
	repo := filepath.Join(tb.TempDir(), "versions")
	run := func(stdin []byte, args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		require.NoError(tb, err, "git %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	require.NoError(tb, exec.Command("git", "init", "--quiet", "--initial-branch=master", repo).Run())
	var in bytes.Buffer
	mark := func(i int) {
		fmt.Fprintf(&in, "commit refs/heads/master\nmark :%d\ncommitter bot <bot@example.com> %d +0000\ndata 6\nupdate\n", i+1, 1500000000+i)
		if i > 0 {
			fmt.Fprintf(&in, "from :%d\n", i)
		}
	}
	mark(0)
	fmt.Fprintf(&in, "M 644 inline README.md\ndata 9\nversions\n\n")
	for i := 1; i <= commits; i++ {
		mark(i)
		content := fmt.Sprintf("preview1-%05d", i)
		fmt.Fprintf(&in, "M 644 inline %s\ndata %d\n%s\n\n", paths[i%len(paths)], len(content), content)
	}
	run(in.Bytes(), "fast-import", "--quiet")
	root := run(nil, "rev-parse", "master~"+fmt.Sprint(commits))
	return &peakWatch{file: f, repo: repo, root: root, queuer: q, srv: srv}
}

// poll runs one watcher from the root commit on a fresh store.
func (p *peakWatch) poll(tb testing.TB) legacy.PollReport {
	ctx := context.Background()
	work := filepath.Join(tb.TempDir(), "work.git")
	require.NoError(tb, git.Runner{}.Init(ctx, work, true))
	w := &legacy.Watcher{
		Store: mem.New(), Git: git.Runner{}, File: p.file, Repo: p.repo, GitHubRepo: "dotnet/versions", Branch: "master",
		WorkDir: work, Queuer: p.queuer, Now: time.Now, NewID: uuid.NewString, Since: p.root,
	}
	rep, err := w.Poll(ctx)
	require.NoError(tb, err)
	require.Empty(tb, rep.Errors)
	return rep
}

// TestWatchPeakFile1000Commits: the benchmark's workload, once, checked:
// all 1,000 commits are taken and every undelayed action is queued and
// accepted by the double.
func TestWatchPeakFile1000Commits(t *testing.T) {
	p := newPeakWatch(t, 1000)
	rep := p.poll(t)
	require.Equal(t, 1000, rep.Processed)
	undelayed := 0
	for _, tr := range rep.Triggered {
		if tr.Delay == 0 {
			undelayed++
		}
	}
	require.NotZero(t, undelayed)
	require.Len(t, rep.Queued, undelayed)
	require.Equal(t, len(rep.Triggered)-undelayed, rep.Waiting)
	for _, r := range p.srv.QueueBuildRequests() {
		require.Equal(t, 200, r.Status, "%s", r.Body)
	}
	t.Logf("%d actions triggered: %d queued, %d waiting for their delay", len(rep.Triggered), len(rep.Queued), rep.Waiting)
}

// BenchmarkWatchPeakFile1000Commits is the goal of docs/performance.md:
// `legacy watch` taking 1,000 new commits of a versions repository against
// the peak 88-subscription file, git included (fetch of the whole history
// into an empty repository, the commits' changed files), the store writes
// and queueing the triggered builds in the Azure DevOps double.
func BenchmarkWatchPeakFile1000Commits(b *testing.B) {
	p := newPeakWatch(b, 1000)
	for b.Loop() {
		rep := p.poll(b)
		if rep.Processed != 1000 {
			b.Fatalf("processed %d commits", rep.Processed)
		}
	}
}

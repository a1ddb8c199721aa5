package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// mirrorPipeline commits the repository's own pipelines/mirror.yml to a
// repository of project and adds it as a YAML pipeline: the double checks
// every run request against the parameters the file declares.
func mirrorPipeline(t *testing.T, srv *azdodouble.Server, project *azdodouble.Project) *azdodouble.Pipeline {
	t.Helper()
	yml, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "pipelines", "mirror.yml"))
	require.NoError(t, err)
	repo := srv.AddRepository(project, "maestro-pipelines")
	repo.Commit("main", map[string][]byte{"pipelines/mirror.yml": yml}, "Add the mirror pipeline")
	return srv.AddYAMLPipeline(project, azdodouble.YAMLPipeline{Name: "mirror", Repository: repo, Path: "/pipelines/mirror.yml"})
}

// TestMirrorTrigger: on both stores, `maestro mirror trigger` queues
// pipelines/mirror.yml in the Azure DevOps double with the right parameters;
// three quick triggers for one branch make one run; a trigger after that
// run completed queues a new one; a branch no pattern selects queues
// nothing; an unmirrored source is not found.
func TestMirrorTrigger(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		srv := azdodouble.NewServer(t, azdodouble.WithPAT("mirror-pat"))
		project := srv.AddProject("internal")
		pl := mirrorPipeline(t, srv, project)
		e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=mirror-pat", "MAESTRO_AZDO_SERVER_URLS="+srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
		const src = "https://github.com/dotnet/runtime"
		target := srv.OrganizationURL() + "/internal/_git/dotnet-runtime"
		e.ok("mirror", "add", "--source", src, "--target", target, "--branch", "main", "--branch", `release/\d+\.\d+=internalMerge`,
			"--pipeline", srv.OrganizationURL()+"/internal/_build?definitionId="+strconv.Itoa(pl.ID))

		type triggered struct {
			Mode   string `json:"mode"`
			Queued bool   `json:"queued"`
			RunID  int    `json:"runId"`
		}
		trigger := func(branch string) triggered {
			t.Helper()
			var got triggered
			out := e.ok("mirror", "trigger", "--source", src, "--branch", branch, "--commit", "0123456789abcdef0123456789abcdef01234567", "--output", "json")
			require.NoError(t, json.Unmarshal([]byte(out), &got), out)
			return got
		}
		first := trigger("main")
		assert.True(t, first.Queued)
		runs := srv.RunRequests()
		require.Len(t, runs, 1)
		assert.Equal(t, map[string]string{"sourceRepository": src, "branch": "main", "targetRepository": target, "mode": "fastForward"}, *runs[0].Parameters.TemplateParameters)

		for range 3 {
			got := trigger("main")
			assert.Equal(t, triggered{Mode: "fastForward", RunID: first.RunID}, got)
		}
		assert.Len(t, srv.RunRequests(), 1, "three quick triggers, one run")

		srv.SetBuildStatus(first.RunID, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
		again := trigger("main")
		assert.True(t, again.Queued)
		assert.NotEqual(t, first.RunID, again.RunID)
		release := trigger("release/10.0")
		assert.True(t, release.Queued)
		runs = srv.RunRequests()
		require.Len(t, runs, 3)
		assert.Equal(t, "internalMerge", (*runs[2].Parameters.TemplateParameters)["mode"])

		out := e.ok("mirror", "trigger", "--source", src, "--branch", "feature/x")
		assert.Equal(t, "feature/x of "+src+" is not mirrored: no branch pattern of its mirror selects it\n", out)
		r := e.run("mirror", "trigger", "--source", "https://github.com/dotnet/other", "--branch", "main")
		assert.Equal(t, 3, r.code, r.stderr)
		assert.Contains(t, r.stderr, "https://github.com/dotnet/other is not mirrored")
		assert.Len(t, srv.RunRequests(), 3)
	})
}

// TestMirrorPublishedBuild: on both stores, publishing a build of a
// mirrored repository whose commit is not on the target queues one mirror
// run (a second build while it is queued coalesces); a build of a branch no
// pattern selects, one whose commit is the target's head, and one
// published with --no-trigger queue nothing.
func TestMirrorPublishedBuild(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		srv := azdodouble.NewServer(t, azdodouble.WithPAT("mirror-pat"))
		project := srv.AddProject("internal")
		pl := mirrorPipeline(t, srv, project)
		dst := srv.AddRepository(project, "dotnet-runtime")
		head := dst.Commit("main", map[string][]byte{"a.txt": []byte("1\n")}, "mirrored")
		e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=mirror-pat", "MAESTRO_AZDO_SERVER_URLS="+srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
		const src = "https://github.com/dotnet/runtime"
		e.ok("mirror", "add", "--source", src, "--target", dst.WebURL(), "--branch", "main",
			"--pipeline", srv.OrganizationURL()+"/internal/_build?definitionId="+strconv.Itoa(pl.ID))

		dir := t.TempDir()
		publish := func(n int, branch, commit string, extra ...string) result {
			t.Helper()
			m := writeFile(t, dir, "m"+strconv.Itoa(n)+".xml", manifestSpec{repo: src, branch: branch, commit: commit, azdoBuildID: n,
				packages: []string{"Microsoft.NETCore.App.Ref@10.0.0-ci." + strconv.Itoa(n)}}.xml())
			r := e.run(append([]string{"publish", "--manifest", m}, extra...)...)
			require.Equal(t, 0, r.code, r.stderr)
			return r
		}
		r := publish(1, "main", sha(1))
		assert.Contains(t, r.stderr, "mirror: queued run ")
		runs := srv.RunRequests()
		require.Len(t, runs, 1)
		assert.Equal(t, map[string]string{"sourceRepository": src, "branch": "main", "targetRepository": dst.WebURL(), "mode": "fastForward"}, *runs[0].Parameters.TemplateParameters)

		r = publish(2, "main", sha(2))
		assert.Contains(t, r.stderr, "coalesced into run "+strconv.Itoa(runs[0].RunID))
		srv.SetBuildStatus(runs[0].RunID, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
		publish(3, "feature/x", sha(3))
		publish(4, "main", head)
		publish(5, "main", sha(5), "--no-trigger")
		assert.Len(t, srv.RunRequests(), 1, "nothing else queued")
		publish(6, "main", sha(6))
		assert.Len(t, srv.RunRequests(), 2, "the next build after the run completed")
	})
}

// TestMirrorPublishedBuildOnTarget: on both stores, a published build
// queues a mirror run only when its commit is not on the target branch, as
// git over the doubles' http-backend answers it: not for a commit older
// than a fastForward target's head, nor for one an internalMerge merged
// into internal/BRANCH (whose head is a merge commit); exactly one run for
// a commit the target lacks and for a target branch that does not exist.
// A target that cannot be read queues the run and warns, naming no token.
func TestMirrorPublishedBuildOnTarget(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		const ghSecret, patSecret = "ghp_mirrorOnTargetSecret0000000000000000", "mirror-ontarget-pat-secret"
		gh := githubdouble.NewServer(t)
		gh.AddToken(githubdouble.DefaultLogin, ghSecret)
		src := gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a.txt": "1\n"}})
		az := azdodouble.NewServer(t, azdodouble.WithPAT(patSecret))
		project := az.AddProject("internal")
		pl := mirrorPipeline(t, az, project)
		dst := az.AddRepository(project, "dotnet-runtime")
		source, target := gh.URL()+"/dotnet/runtime", dst.WebURL()
		e.environ = append(e.environ, "GITHUB_TOKEN="+ghSecret, "MAESTRO_GITHUB_URL="+gh.URL(), "MAESTRO_AZDO_TOKEN="+patSecret,
			"MAESTRO_AZDO_SERVER_URLS="+az.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true", "MAESTRO_BOT_NAME=dnceng-bot")
		pipeline := az.OrganizationURL() + "/internal/_build?definitionId=" + strconv.Itoa(pl.ID)
		e.ok("mirror", "add", "--source", source, "--target", target, "--branch", "main", "--branch", `release/.*=internalMerge`, "--pipeline", pipeline)
		mirrorRun := func(branch, mode string) {
			t.Helper()
			e.ok("mirror", "run", "--source", source, "--branch", branch, "--target", target, "--mode", mode)
		}

		one := src.Branch("main")
		two := src.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "2\n"}})
		mirrorRun("main", "fastForward")
		require.Equal(t, two, dst.Head("main"))
		three := src.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "3\n"}})

		rel := src.Commit(githubdouble.CommitSpec{Branch: "release/1.0", From: two, Files: map[string]string{"b.txt": "1\n"}})
		mirrorRun("release/1.0", "internalMerge")
		dst.Commit("internal/release/1.0", map[string][]byte{"internal.txt": []byte("x\n")}, "internal only")
		merged := src.Commit(githubdouble.CommitSpec{Branch: "release/1.0", Files: map[string]string{"b.txt": "2\n"}})
		mirrorRun("release/1.0", "internalMerge")
		require.NotEqual(t, merged, dst.Head("internal/release/1.0"), "internal/release/1.0 is a merge commit")
		unmerged := src.Commit(githubdouble.CommitSpec{Branch: "release/1.0", Files: map[string]string{"b.txt": "3\n"}})

		dir := t.TempDir()
		var all strings.Builder
		n := 0
		publish := func(repo, branch, commit string) string {
			t.Helper()
			n++
			m := writeFile(t, dir, "m"+strconv.Itoa(n)+".xml", manifestSpec{repo: repo, branch: branch, commit: commit, azdoBuildID: n,
				packages: []string{"Microsoft.NETCore.App.Ref@10.0.0-ci." + strconv.Itoa(n)}}.xml())
			r := e.run("publish", "--manifest", m)
			all.WriteString(r.stdout + r.stderr)
			require.Equal(t, 0, r.code, r.stderr)
			return r.stderr
		}
		for _, b := range []struct{ name, branch, commit string }{
			{"the fastForward head", "main", two},
			{"older than the fastForward head", "main", one},
			{"merged into internal/release/1.0", "release/1.0", merged},
			{"older than the merge", "release/1.0", rel},
		} {
			stderr := publish(source, b.branch, b.commit)
			assert.NotContains(t, stderr, "mirror", b.name)
			assert.Equal(t, 0, len(az.RunRequests()), "%s: already on the target, nothing queued", b.name)
		}

		queued := func(branch, commit, mode string) string {
			t.Helper()
			before := len(az.RunRequests())
			stderr := publish(source, branch, commit)
			assert.Contains(t, stderr, "mirror: queued run ")
			runs := az.RunRequests()
			require.Len(t, runs, before+1, "exactly one run for %s %s", branch, commit)
			last := runs[len(runs)-1]
			assert.Equal(t, map[string]string{"sourceRepository": source, "branch": branch, "targetRepository": target, "mode": mode},
				*last.Parameters.TemplateParameters)
			az.SetBuildStatus(last.RunID, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
			return stderr
		}
		queued("main", three, "fastForward")
		queued("release/1.0", unmerged, "internalMerge")
		stderr := queued("release/2.0", two, "internalMerge")
		assert.NotContains(t, stderr, "warning", "a missing branch holds no commit: no doubt to warn about")

		// A target that cannot be read: the run is queued anyway, with a warning.
		const other = "https://github.com/dotnet/other"
		gone := az.OrganizationURL() + "/internal/_git/gone"
		e.ok("mirror", "add", "--source", other, "--target", gone, "--branch", "main", "--pipeline", pipeline)
		before := len(az.RunRequests())
		stderr = publish(other, "main", two)
		assert.Contains(t, stderr, "maestro: warning: mirror of build ")
		assert.Contains(t, stderr, "could not tell whether commit "+two+" is on main of "+gone+", so the mirror is queued anyway: read branch main of "+gone)
		assert.Contains(t, stderr, "mirror: queued run ")
		assert.Len(t, az.RunRequests(), before+1)
		assert.NotContains(t, all.String(), patSecret)
		assert.NotContains(t, all.String(), ghSecret)
	})
}

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/test/azdo"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// git runs git in dir and returns its output.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
	return string(out)
}

// versionsRepo makes a bare versions repository whose default branch is
// master, holding one build-info folder.
func legacyVersionsRepo(t *testing.T) string {
	root := t.TempDir()
	origin := filepath.Join(root, "versions.git")
	gitIn(t, root, "init", "--quiet", "--bare", "--initial-branch=master", origin)
	seed := filepath.Join(root, "seed")
	gitIn(t, root, "init", "--quiet", "--initial-branch=master", seed)
	writeFile(t, seed, "build-info/dotnet/arcade/main/Latest_Packages.txt", "Microsoft.DotNet.Arcade.Sdk 10.0.0-beta.26570.1\r\nOld.Tool 1.0.0-beta.1")
	gitIn(t, seed, "add", ".")
	gitIn(t, seed, "-c", "user.name=s", "-c", "user.email=s@s", "commit", "--quiet", "-m", "seed")
	gitIn(t, seed, "push", "--quiet", origin, "master")
	return origin
}

// TestLegacyPublishWithPublish: `maestro publish --legacy-versions-repo`
// records the build and writes its build-info in one step; bad legacy input
// is refused before either is written.
func TestLegacyPublishWithPublish(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		origin := legacyVersionsRepo(t)
		spec := manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(1), azdoBuildID: 2001,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.26575.1", "Microsoft.DotNet.Helix.Sdk@10.0.0-beta.26575.1"},
			blobs:    []string{"assets/symbols/x.symbols.nupkg"}}
		m := writeFile(t, dir, "m.xml", spec.xml())

		head := gitIn(t, origin, "rev-parse", "master")
		bad := e.run("publish", "--manifest", m, "--legacy-versions-repo", origin, "--legacy-name", "arcade", "--legacy-channel", "../main")
		assert.Equal(t, 2, bad.code, bad.stderr)
		assert.Contains(t, bad.stderr, `--legacy-versions-repo: --channel "../main": segment ".." is not allowed`)
		var builds []maestro.Build
		e.okJSON(&builds, "build", "list")
		assert.Empty(t, builds, "no build recorded")
		assert.Equal(t, head, gitIn(t, origin, "rev-parse", "master"))

		// A versions repository build-info cannot be written to is found
		// before the build is recorded: its checks need the fetch.
		linked := legacyVersionsRepo(t)
		work := filepath.Join(t.TempDir(), "work")
		gitIn(t, filepath.Dir(work), "clone", "--quiet", linked, work)
		require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(work, "build-info/dotnet/arcade/main/Latest.txt")))
		gitIn(t, work, "add", ".")
		gitIn(t, work, "-c", "user.name=s", "-c", "user.email=s@s", "commit", "--quiet", "-m", "link")
		gitIn(t, work, "push", "--quiet", "origin", "master")
		linkedHead := gitIn(t, linked, "rev-parse", "master")
		bad = e.run("publish", "--manifest", m, "--legacy-versions-repo", linked, "--legacy-name", "arcade", "--legacy-channel", "main")
		assert.Equal(t, 2, bad.code, bad.stderr)
		assert.Contains(t, bad.stderr, "build-info/dotnet/arcade/main/Latest.txt in "+linked+" is a symbolic link, not a plain file")
		assert.Contains(t, bad.stderr, "replace it in the versions repository and publish again; nothing was recorded")
		assert.NotContains(t, bad.stderr, "is recorded")
		e.okJSON(&builds, "build", "list")
		assert.Empty(t, builds, "no build recorded")
		assert.Equal(t, linkedHead, gitIn(t, linked, "rev-parse", "master"))
		bad = e.run("publish", "--manifest", m, "--legacy-versions-repo", filepath.Join(t.TempDir(), "missing.git"), "--legacy-name", "arcade", "--legacy-channel", "main")
		assert.NotEqual(t, 0, bad.code, bad.stderr)
		e.okJSON(&builds, "build", "list")
		assert.Empty(t, builds, "no build recorded for a versions repository that is not there")

		r := e.run("publish", "--manifest", m, "--legacy-versions-repo", origin, "--legacy-name", "arcade", "--legacy-channel", "main")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Regexp(t, `^\d+\n$`, r.stdout, "stdout is the BAR id alone")
		assert.Contains(t, r.stderr, "build-info: published 2 packages to build-info/dotnet/arcade/main on master as beta.26575.1")
		assert.Equal(t, "Updating build-info/dotnet/arcade/main for beta.26575.1\n", gitIn(t, origin, "log", "-1", "--format=%s", "master"))
		assert.Equal(t, "beta.26575.1", gitIn(t, origin, "show", "master:build-info/dotnet/arcade/main/Latest.txt"))
		assert.Equal(t, "Microsoft.DotNet.Arcade.Sdk 10.0.0-beta.26575.1\r\nMicrosoft.DotNet.Helix.Sdk 10.0.0-beta.26575.1\r\nOld.Tool 1.0.0-beta.1",
			gitIn(t, origin, "show", "master:build-info/dotnet/arcade/main/Latest_Packages.txt"))
		assert.Equal(t, "Microsoft.DotNet.Arcade.Sdk 10.0.0-beta.26575.1\r\nMicrosoft.DotNet.Helix.Sdk 10.0.0-beta.26575.1",
			gitIn(t, origin, "show", "master:build-info/dotnet/arcade/main/Last_Build_Packages.txt"))
	})
}

// TestLegacyPublishWithPublishTwoVersions: a package two manifests give
// with two versions (build-info ids ignore case) is refused, as `legacy
// publish` refuses it, before anything is written — not published with the
// first manifest's version.
func TestLegacyPublishWithPublishTwoVersions(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		origin := legacyVersionsRepo(t)
		head := gitIn(t, origin, "rev-parse", "master")
		a := manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(3), azdoBuildID: 2003,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.26577.1"}}
		b := a
		b.packages = []string{"microsoft.dotnet.arcade.sdk@10.0.0-beta.26577.2"}
		ma, mb := writeFile(t, dir, "a.xml", a.xml()), writeFile(t, dir, "b.xml", b.xml())

		r := e.run("publish", "--manifest", ma, "--manifest", mb, "--legacy-versions-repo", origin, "--legacy-name", "arcade", "--legacy-channel", "main")
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, "--legacy-versions-repo: package microsoft.dotnet.arcade.sdk has two versions: "+ma+": 10.0.0-beta.26577.1 and "+mb+": 10.0.0-beta.26577.2; a build publishes one version of each package")
		var builds []maestro.Build
		e.okJSON(&builds, "build", "list")
		assert.Empty(t, builds, "no build recorded")
		assert.Equal(t, head, gitIn(t, origin, "rev-parse", "master"))

		// legacy publish reads the same manifests the same way.
		r = e.run("legacy", "publish", "--repo", origin, "--name", "arcade", "--channel", "main", "--packages", ma, "--packages", mb)
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, "package microsoft.dotnet.arcade.sdk has two versions: "+ma+": 10.0.0-beta.26577.1 and "+mb+": 10.0.0-beta.26577.2")
	})
}

// TestLegacyPublishWithPublishPushRefused: the push comes after the record
// (the record is the commit point); a refused push says the build is
// recorded and to run again, and the second run pushes without recording the
// build twice.
func TestLegacyPublishWithPublishPushRefused(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		origin := legacyVersionsRepo(t)
		hook := writeFile(t, origin, "hooks/pre-receive", "#!/bin/sh\necho 'branch is locked' >&2\nexit 1\n")
		require.NoError(t, os.Chmod(hook, 0o755))
		spec := manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(2), azdoBuildID: 2002,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.26576.1"}}
		m := writeFile(t, t.TempDir(), "m.xml", spec.xml())
		head := gitIn(t, origin, "rev-parse", "master")

		r := e.run("publish", "--manifest", m, "--legacy-versions-repo", origin, "--legacy-name", "arcade", "--legacy-channel", "main")
		assert.NotEqual(t, 0, r.code)
		assert.Regexp(t, `build \d+ is recorded, but writing build-info to .* failed \(run the same publish again: the build is not recorded twice\)`, r.stderr)
		assert.Equal(t, head, gitIn(t, origin, "rev-parse", "master"))
		var builds []maestro.Build
		e.okJSON(&builds, "build", "list")
		require.Len(t, builds, 1)

		require.NoError(t, os.Remove(hook))
		r = e.run("publish", "--manifest", m, "--legacy-versions-repo", origin, "--legacy-name", "arcade", "--legacy-channel", "main")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, fmt.Sprintf("%d\n", builds[0].ID), r.stdout)
		assert.Equal(t, "Updating build-info/dotnet/arcade/main for beta.26576.1\n", gitIn(t, origin, "log", "-1", "--format=%s", "master"))
		e.okJSON(&builds, "build", "list")
		assert.Len(t, builds, 1, "not recorded twice")
	})
}

const legacyWatchSubscriptions = `{
  "actions": {
    "mirror": {"vsoInstance": "dnceng.visualstudio.com", "vsoProject": "internal", "buildDefinitionId": 1},
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
      "delay": "00:00:03",
      "actionArguments": {"vsoBuildParameters": {"PB_TriggerPath": "<trigger-path>", "PB_VersionsRepoRef": "<trigger-commit>"}},
    },
  ],
}`

// legacyWatch is a versions repository on disk, a subscriptions file and an
// Azure DevOps double with the two definitions it names.
type legacyWatch struct {
	srv  *azdo.Server
	repo string
	args []string // `legacy watch ...` without --once
}

func newLegacyWatch(t *testing.T, e *env) *legacyWatch {
	srv := azdo.NewServer(t, azdo.WithPAT("pat"))
	project := srv.AddProject("internal")
	pipelines := srv.AddRepository(project, "pipelines")
	pipelines.Commit("main", map[string][]byte{"README.md": []byte("pipelines\n")}, "init")
	vars := func(names ...string) map[string]azdo.DefinitionVariable {
		m := map[string]azdo.DefinitionVariable{}
		for _, n := range names {
			m[n] = azdo.DefinitionVariable{AllowOverride: true}
		}
		return m
	}
	srv.AddClassicDefinition(project, azdo.ClassicDefinition{Name: "mirror", Repository: pipelines, Variables: vars("GithubRepo", "BranchToMirror", "CommitsToMirror")})
	srv.AddClassicDefinition(project, azdo.ClassicDefinition{Name: "publish", Repository: pipelines, Variables: vars("PB_TriggerPath", "PB_VersionsRepoRef")})
	e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=pat", "MAESTRO_AZDO_SERVER_URLS="+srv.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")

	dir := t.TempDir()
	repo := filepath.Join(dir, "versions")
	gitIn(t, dir, "init", "--quiet", "--initial-branch=master", repo)
	lw := &legacyWatch{srv: srv, repo: repo}
	lw.commit(t, "README.md", "versions\n")
	subs := writeFile(t, dir, "subscriptions.json", legacyWatchSubscriptions)
	lw.args = []string{"legacy", "watch", "--repo", repo, "--github-repo", "dotnet/versions", "--branch", "master",
		"--subscriptions", subs, "--vso-url", "dnceng.visualstudio.com=" + srv.OrganizationURL()}
	return lw
}

func (lw *legacyWatch) commit(t *testing.T, path, content string) string {
	writeFile(t, lw.repo, path, content)
	gitIn(t, lw.repo, "add", "--all")
	gitIn(t, lw.repo, "-c", "user.name=bot", "-c", "user.email=bot@example.com", "commit", "--quiet", "-m", "update "+path)
	return strings.TrimSpace(gitIn(t, lw.repo, "rev-parse", "HEAD"))
}

// queued is what the double was asked to queue: definition, source branch
// and parameters of each request, all of which it accepted.
func (lw *legacyWatch) queued(t *testing.T) []string {
	var out []string
	for _, r := range lw.srv.QueueBuildRequests() {
		var body struct {
			Definition   struct{ ID int }
			SourceBranch string
			Parameters   string
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		require.Equal(t, 200, r.Status, "refused: %s", r.Body)
		out = append(out, fmt.Sprintf("%d %s %s", body.Definition.ID, body.SourceBranch, body.Parameters))
	}
	return out
}

func mirrorBuild(commits ...string) string {
	return `1 refs/heads/main {"GithubRepo":"versions","BranchToMirror":"master","CommitsToMirror":"` + strings.Join(commits, " ") + `"}`
}

// TestLegacyWatch: commits that update build-info files → `legacy watch
// --once` → the double receives exactly the expected builds, with their
// parameters; each commit once, also with two watcher processes at a time;
// a delayed action coalesces pushes and is queued once, by a watcher
// started after the one that saw the first push.
func TestLegacyWatch(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		lw := newLegacyWatch(t, e)
		once := append(slices.Clone(lw.args), "--once")
		r := e.run(once...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "0 new commits")

		c1 := lw.commit(t, "build-info/dotnet/corefx/master/Latest.txt", "preview1-1")
		lw.commit(t, "build-info/dotnet/coreclr/master/Latest.txt", "preview1-1")
		c3 := lw.commit(t, "build-info/dotnet/corefx/master/Latest_Packages.txt", "x 1.0")
		c4 := lw.commit(t, "build-info/dotnet/corefx/master/Latest.txt", "preview1-2")
		r = e.run(once...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "subscription 0, action mirror: queued build 1 for "+c1+" "+c4+"\n")
		assert.Equal(t, []string{mirrorBuild(c1, c4)}, lw.queued(t))
		_ = c3

		// Two watchers at once, three times over: each commit once.
		want := lw.queued(t)
		for i := range 3 {
			c := lw.commit(t, "build-info/dotnet/corefx/master/Latest.txt", fmt.Sprintf("preview2-%d", i))
			want = append(want, mirrorBuild(c))
			var wg sync.WaitGroup
			results := make([]result, 2)
			for j := range results {
				wg.Add(1)
				go func() { defer wg.Done(); results[j] = e.run(once...) }()
			}
			wg.Wait()
			for _, r := range results {
				require.Equal(t, 0, r.code, r.stderr)
			}
			assert.Equal(t, want, lw.queued(t))
		}

		// A delay of three seconds: two pushes, a restart, one build.
		d1 := lw.commit(t, "build-info/dotnet/product/cli/release/2.1/build.semaphore", "1")
		r = e.run(once...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "1 waiting")
		d2 := lw.commit(t, "build-info/dotnet/product/cli/release/2.1/build.xml", "<Build/>")
		r = e.run(once...) // another process: the pending action is in the store
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "1 waiting")
		assert.Equal(t, want, lw.queued(t), "nothing before the delay")
		time.Sleep(3 * time.Second)
		r = e.run(once...)
		require.Equal(t, 0, r.code, r.stderr)
		want = append(want, `2  {"PB_TriggerPath":"build-info/dotnet/product/cli/release/2.1/build.xml","PB_VersionsRepoRef":"`+d2+`"}`)
		assert.Equal(t, want, lw.queued(t))
		assert.Contains(t, r.stdout, "action publish: queued build 5 for "+d1+" "+d2)
		r = e.run(once...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, want, lw.queued(t), "queued once")
	})
}

// TestLegacyWatchKilledWhileQueueing: a watcher killed (SIGKILL) while its
// queue request is on its way leaves the action claimed with the build
// queued; the next watcher, once the claim timed out, finds that build and
// records it instead of queueing it again.
func TestLegacyWatchKilledWhileQueueing(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		lw := newLegacyWatch(t, e)
		once := append(slices.Clone(lw.args), "--once", "--claim-timeout", "1s")
		e.ok(once...)
		c := lw.commit(t, "build-info/dotnet/corefx/master/Latest.txt", "preview1-1")

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := e.command(ctx, once...)
		var killed sync.Once
		started := make(chan struct{}) // cmd.Process is set once Start returns
		lw.srv.BeforeRequest(func(r *http.Request) {
			if r.Method == http.MethodPost && strings.Contains(strings.ToLower(r.URL.Path), "/_apis/build/builds") {
				killed.Do(func() { <-started; _ = cmd.Process.Kill() })
			}
		})
		require.NoError(t, cmd.Start())
		close(started)
		err := cmd.Wait()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "the watcher was killed")
		lw.srv.BeforeRequest(nil)
		require.Eventually(t, func() bool { return len(lw.srv.QueueBuildRequests()) == 1 }, 10*time.Second, 10*time.Millisecond, "the request still reached the service")

		time.Sleep(1100 * time.Millisecond) // the dead watcher's claim times out
		r := e.run(once...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "subscription 0, action mirror: found queued build 1 for "+c)
		assert.Equal(t, []string{mirrorBuild(c)}, lw.queued(t), "not queued twice")
	})
}

// TestLegacyImport: the peak subscriptions file with a mapping of three
// build-info folders and two actions: --dry-run prints the plan and writes
// nothing; then the channels and subscriptions are created; a second
// import finds them and adds nothing.
func TestLegacyImport(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		file := filepath.Join(testenv.Shared(t, "fixtures", "legacy-versions-repo"), "subscriptions.2019-11-22.peak88.json")
		mapping := writeFile(t, dir, "map.yaml", `buildInfo:
  - path: coreclr/master
    sourceRepository: https://github.com/dotnet/coreclr
    channel: .NET Core 3.0 Dev
  - path: corefx/master
    sourceRepository: https://github.com/dotnet/corefx
    channel: .NET Core 3.0 Dev
actions:
  - action: corefx-general
    targetRepository: https://github.com/dotnet/corefx
`)
		e.ok("channel", "add", "--name", ".NET Core 3.0 Dev", "--classification", "product")

		dry := e.ok("legacy", "import", "--mapping", mapping, "--dry-run", file)
		assert.Contains(t, dry, "not imported: subscriptions[0]: action coreclr-general is not mapped")
		assert.Contains(t, dry, "not imported: subscriptions[9] trigger https://github.com/dotnet/versions/blob/master/build-info/dotnet/projectk-tfs/master/Latest.txt: build-info folder projectk-tfs/master is not mapped")
		assert.Contains(t, dry, "Dry run: nothing was written.")
		assert.NotContains(t, dry, "--prune", "legacy import has no --prune and never deletes")
		var subs []maestro.Subscription
		e.okJSON(&subs, "subscription", "list")
		assert.Empty(t, subs)

		out := e.ok("legacy", "import", "--mapping", mapping, file)
		assert.Contains(t, out, "Applied: 2 added, 0 changed, 0 deleted.")
		e.okJSON(&subs, "subscription", "list")
		require.Len(t, subs, 2)
		for _, s := range subs {
			assert.Equal(t, "https://github.com/dotnet/corefx", s.TargetRepository)
			assert.Equal(t, "master", s.TargetBranch)
			assert.Equal(t, maestro.UpdateFrequency("everyBuild"), s.Policy.UpdateFrequency)
			require.NotNil(t, s.UpdatePipeline)
			assert.Equal(t, maestro.UpdatePipeline{Organization: "https://dev.azure.com/devdiv", Project: "DevDiv", PipelineID: 1084, Classic: true}, *s.UpdatePipeline)
		}
		var chs []maestro.Channel
		e.okJSON(&chs, "channel", "list")
		require.Len(t, chs, 1, "the mapped channel existed")
		assert.Equal(t, "product", chs[0].Classification, "and is left as it was")

		again := e.ok("legacy", "import", "--mapping", mapping, file)
		assert.Contains(t, again, "already in the registry: https://github.com/dotnet/corefx → https://github.com/dotnet/corefx@master on \".NET Core 3.0 Dev\"")
		assert.NotContains(t, again, "Applied:")
		assert.Contains(t, again, "No changes: the registry matches what "+file+" maps to.\n")
		assert.NotContains(t, again, "--prune")
		e.okJSON(&subs, "subscription", "list")
		assert.Len(t, subs, 2)
	})
}

// TestLegacyPublishThenWatch: both directions at once — `legacy publish`
// writes a build's build-info into the versions repository, and `legacy
// watch` on that repository queues the build the subscription asks for.
func TestLegacyPublishThenWatch(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		lw := newLegacyWatch(t, e)
		bare := filepath.Join(t.TempDir(), "versions.git")
		gitIn(t, lw.repo, "clone", "--quiet", "--bare", lw.repo, bare)
		args := slices.Clone(lw.args)
		args[slices.Index(args, lw.repo)] = bare
		once := append(args, "--once")
		e.ok(once...)

		pkgs := writeFile(t, t.TempDir(), "packages.txt", "Microsoft.Private.CoreFx.NETCoreApp 4.6.0-preview1-26101-01\r\nSystem.Memory 4.6.0-preview1-26101-01\r\n")
		out := e.ok("legacy", "publish", "--repo", bare, "--branch", "master", "--name", "corefx", "--channel", "master", "--packages", pkgs)
		assert.Contains(t, out, "as preview1-26101-01")
		commit := strings.TrimSpace(gitIn(t, bare, "rev-parse", "master"))

		r := e.run(once...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, []string{mirrorBuild(commit)}, lw.queued(t))
	})
}

// TestLegacyValidate runs the binary on every subscriptions fixture and on a
// broken copy of one.
func TestLegacyValidate(t *testing.T) {
	e := &env{t: t}
	dir := testenv.Shared(t, "fixtures", "legacy-versions-repo")
	for name, want := range map[string]string{
		"subscriptions.2016-05-04.initial-legacy-schema.json": "valid (2016 schema): 2 actions, 2 subscriptions, 2 trigger paths, 0 warnings",
		"subscriptions.2019-11-22.peak88.json":                "valid (2017 schema): 23 actions, 88 subscriptions, 438 trigger paths, 17 warnings",
		"subscriptions.2024-07-08.final.json":                 "valid (2017 schema): 1 actions, 2 subscriptions, 2 trigger paths, 0 warnings",
		"test-subscriptions.json":                             "valid (2017 schema): 1 actions, 2 subscriptions, 2 trigger paths, 0 warnings",
	} {
		assert.Contains(t, e.ok("legacy", "validate", filepath.Join(dir, name)), want, name)
	}
	src, err := os.ReadFile(filepath.Join(dir, "subscriptions.2024-07-08.final.json"))
	require.NoError(t, err)
	broken := writeFile(t, t.TempDir(), "subscriptions.json", strings.Replace(string(src), `"buildDefinitionId": 350`, `"buildDefinitionId": "350"`, 1))
	r := e.run("legacy", "validate", broken)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, broken+":8: actions.github-dnceng-branch-merge-pr-generator.buildDefinitionId: must be a number, not a string")
}

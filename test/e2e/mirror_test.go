package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// TestMirrorRunOverHTTP: `maestro mirror run` reads a GitHub repository
// and writes its Azure Repos mirror, both served by git http-backend on
// loopback (the doubles), each with its own token from the environment:
// a new branch, a fast-forward, a refusal that lists the target's own
// commit and pushes nothing, an internal merge and a conflict that lists
// the paths. No token appears in any output, failing runs included.
func TestMirrorRunOverHTTP(t *testing.T) {
	stores(t, func(t *testing.T, e *env) { mirrorRunOverHTTP(t, e) })
}

func mirrorRunOverHTTP(t *testing.T, e *env) {
	const ghSecret, patSecret = "ghp_mirrorE2eSecret000000000000000000000", "mirror-e2e-pat-secret"
	gh := githubdouble.NewServer(t)
	gh.AddToken(githubdouble.DefaultLogin, ghSecret)
	src := gh.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a.txt": "1\n", "c.txt": "c\n"}})
	az := azdodouble.NewServer(t, azdodouble.WithPAT(patSecret))
	dst := az.AddRepository(az.AddProject("internal"), "dotnet-runtime")
	source, target := gh.URL()+"/dotnet/runtime", dst.WebURL()

	e.environ = append(e.environ, "GITHUB_TOKEN="+ghSecret, "MAESTRO_GITHUB_URL="+gh.URL(), "MAESTRO_AZDO_TOKEN="+patSecret,
		"MAESTRO_AZDO_SERVER_URLS="+az.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true", "MAESTRO_BOT_NAME=dnceng-bot")
	e.ok("mirror", "add", "--source", source, "--target", target, "--branch", "main", "--pipeline", az.OrganizationURL()+"/internal/_build?definitionId=1")
	var all strings.Builder
	run := func(mode string) (result, maestro.MirrorOutcome) {
		t.Helper()
		r := e.run("mirror", "run", "--source", source, "--branch", "main", "--target", target, "--mode", mode, "--output", "json")
		all.WriteString(r.stdout + r.stderr)
		var out maestro.MirrorOutcome
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
		return r, out
	}

	r, out := run("fastForward")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, maestro.MirrorCreated, out.Result)
	assert.Equal(t, src.Branch("main"), dst.Head("main"))

	next := src.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "2\n"}, Message: "two"})
	r = e.run("mirror", "run", "--source", source, "--branch", "main", "--target", target)
	all.WriteString(r.stdout + r.stderr)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "fastForwarded main of "+target+": "+out.SourceHead[:12]+" → "+next[:12]+", 1 commit\n", r.stdout)
	assert.Equal(t, next, dst.Head("main"))

	own := dst.Commit("main", map[string][]byte{"internal.txt": []byte("x\n")}, "internal hotfix")
	src.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "3\n"}, Message: "three"})
	r, out = run("fastForward")
	assert.Equal(t, 4, r.code, "a refusal is a conflict")
	assert.Equal(t, maestro.MirrorRefused, out.Result)
	assert.Contains(t, r.stderr, "fastForward refused: main of "+target)
	assert.Contains(t, r.stderr, own[:12]+" internal hotfix")
	assert.Equal(t, own, dst.Head("main"), "nothing pushed")

	r, out = run("internalMerge")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, maestro.MirrorCreated, out.Result)
	dst.Commit("internal/main", map[string][]byte{"internal.txt": []byte("y\n")}, "internal only")
	src.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "4\n"}, Message: "four"})
	r, out = run("internalMerge")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, maestro.MirrorMerged, out.Result)
	assert.Equal(t, out.TargetHeadAfter, dst.Head("internal/main"))
	merged, err := dst.ReadFile("internal/main", "a.txt")
	require.NoError(t, err)
	assert.Equal(t, "4\n", string(merged))

	dst.Commit("internal/main", map[string][]byte{"c.txt": []byte("internal\n")}, "internal c")
	before := dst.Head("internal/main")
	src.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"c.txt": "public\n"}, Message: "public c"})
	r, out = run("internalMerge")
	assert.Equal(t, 4, r.code)
	assert.Equal(t, maestro.MirrorConflict, out.Result)
	assert.Contains(t, r.stderr, "conflicting paths (1):\n  c.txt")
	assert.Equal(t, before, dst.Head("internal/main"), "nothing pushed")

	// A token the target refuses: the failure says so without the token.
	for i, kv := range e.environ {
		if strings.HasPrefix(kv, "MAESTRO_AZDO_TOKEN=") {
			e.environ[i] = "MAESTRO_AZDO_TOKEN=wrong-" + patSecret
		}
	}
	r, out = run("fastForward")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, maestro.MirrorFailure, out.Result)
	assert.Contains(t, r.stderr, "read branch main of "+target)

	// Every run is in the history, and flow health reports the branch
	// once it has been behind for longer than --mirror-age.
	var history []maestro.MirrorOutcome
	e.okJSON(&history, "mirror", "history", "--source", source, "--branch", "main")
	var results []maestro.MirrorResult
	for _, o := range history {
		results = append(results, o.Result)
	}
	assert.Equal(t, []maestro.MirrorResult{maestro.MirrorCreated, maestro.MirrorFastForwarded, maestro.MirrorRefused, maestro.MirrorCreated,
		maestro.MirrorMerged, maestro.MirrorConflict, maestro.MirrorFailure}, results)
	table := e.ok("mirror", "history")
	assert.Contains(t, table, "conflict")
	assert.Contains(t, table, "internal/main")
	assert.Equal(t, 0, e.run("flow", "health").code, "behind for less than a day")
	health := e.run("flow", "health", "--now", time.Now().Add(25*time.Hour).UTC().Format(time.RFC3339))
	all.WriteString(health.stdout + health.stderr)
	assert.Equal(t, 1, health.code)
	assert.Contains(t, health.stdout, "failing-mirror: "+target+"@main: the mirror of "+source+" main has not been current since")
	assert.Contains(t, health.stdout, "the last one: failure")

	for _, secret := range []string{ghSecret, patSecret, base64.StdEncoding.EncodeToString([]byte("x-access-token:" + patSecret)),
		base64.StdEncoding.EncodeToString([]byte("x-access-token:" + ghSecret))} {
		assert.NotContains(t, all.String(), secret)
	}
}

// TestMirrorRunBadInput: a target that is not Azure Repos, a missing token
// and a bad mode are refused before anything is fetched, naming the flag.
func TestMirrorRunBadInput(t *testing.T) {
	e := newLocal(t)
	e.environ = []string{"GITHUB_TOKEN=gh-secret"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--target", "https://github.com/dotnet/runtime-copy"}, "maestro: --target https://github.com/dotnet/runtime-copy: not an Azure Repos repository"},
		{[]string{"--target", "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime"}, "maestro: --target https://dev.azure.com/dnceng/internal/_git/dotnet-runtime: set MAESTRO_AZDO_TOKEN"},
		{[]string{"--target", "/tmp/x", "--mode", "mirror"}, `maestro: --mode: mirror mode "mirror": use fastForward or internalMerge`},
	} {
		r := e.run(append([]string{"mirror", "run", "--source", "https://github.com/dotnet/runtime", "--branch", "main"}, tt.args...)...)
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, tt.want)
		assert.NotContains(t, r.stdout+r.stderr, "gh-secret")
	}
}

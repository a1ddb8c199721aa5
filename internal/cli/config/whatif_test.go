package config_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/git"
	domain "github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/test/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	arcadeRepo  = "https://github.com/dotnet/arcade"
	runtimeRepo = "https://github.com/dotnet/runtime"
	vmrRepo     = "https://github.com/dotnet/dotnet"
	// The subscriptions of the what-if world, with fixed ids for the golden files.
	subArcade  = "0f8c2a51-9d3e-4c1b-8a6f-000000000001" // arcade → efcore, changed by the tests
	subRuntime = "0f8c2a51-9d3e-4c1b-8a6f-000000000002" // runtime → efcore, with an open pull request
	subVMR     = "0f8c2a51-9d3e-4c1b-8a6f-000000000003" // dotnet → templating, added by the tests
)

// whatIfWorld is a registry with a channel holding builds of arcade,
// runtime and the VMR, two target repositories holding real dependency
// files (efcore and templating, from the shared fixtures) and two
// subscriptions into efcore, one of which has an open pull request.
type whatIfWorld struct {
	dir                string // the registry's local store
	efcore, templating string // bare target repositories
	config             string // the configuration file that matches the registry
}

// realTarget makes a bare repository whose main branch holds the real
// dependency files of fixtures/dependency-files/<name> in their places.
func realTarget(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	seed := filepath.Join(root, "seed")
	for path, content := range testenv.DependencyFiles(t, name) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(seed, path)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(seed, path), []byte(content), 0o644))
	}
	g := git.Runner{Author: git.Identity{Name: "dev", Email: "dev@example.com"}}
	bare := filepath.Join(root, name+".git")
	require.NoError(t, g.Init(ctx, bare, true))
	require.NoError(t, g.Init(ctx, seed, false))
	_, err := g.CommitAll(ctx, seed, "initial")
	require.NoError(t, err)
	require.NoError(t, g.Push(ctx, seed, bare, "HEAD", "main", ""))
	return bare
}

func newWhatIfWorld(t *testing.T) *whatIfWorld {
	t.Helper()
	ctx := context.Background()
	w := &whatIfWorld{dir: newRegistry(t), efcore: realTarget(t, "efcore.main-2021-05"), templating: realTarget(t, "templating.main-2026")}
	st, err := local.Open(w.dir)
	require.NoError(t, err)
	now := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	reg := registry.New(st, registry.WithClock(now))
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	publish := func(repo, commit, number string, assets ...string) int {
		b := domain.Build{Repository: repo, Branch: "main", Commit: commit, AzureDevOpsBuildNumber: number}
		for _, a := range assets {
			name, version, _ := strings.Cut(a, "@")
			b.Assets = append(b.Assets, domain.Asset{Name: name, Version: version})
		}
		res, err := reg.PublishBuild(ctx, b, registry.PublishOptions{Channels: []int{ch.ID}})
		require.NoError(t, err)
		return res.Build.ID
	}
	publish(arcadeRepo, strings.Repeat("a1", 20), "20210604.1",
		"Microsoft.DotNet.Arcade.Sdk@6.0.0-beta.21304.1", "Microsoft.DotNet.Helix.Sdk@6.0.0-beta.21304.1", "Microsoft.DotNet.XUnitExtensions@6.0.0-beta.21304.1")
	publish(runtimeRepo, strings.Repeat("b2", 20), "20210605.3",
		"Microsoft.Extensions.Logging@6.0.0-preview.6.21305.3", "System.Collections.Immutable@6.0.0-preview.6.21305.3")
	publish(vmrRepo, strings.Repeat("c3", 20), "20260410.101",
		"Microsoft.DotNet.Arcade.Sdk@11.0.0-beta.26210.101", "System.CommandLine@3.0.0-preview.4.26210.101", "Microsoft.NET.Sdk@11.0.100-preview.4.26210.101")
	for _, s := range []domain.Subscription{
		{ID: subArcade, ChannelID: ch.ID, SourceRepository: arcadeRepo, TargetRepository: w.efcore, TargetBranch: "main", Enabled: true,
			Policy: domain.SubscriptionPolicy{UpdateFrequency: domain.FrequencyEveryWeek}, ExcludedAssets: []string{"Microsoft.DotNet.Helix.*"}},
		{ID: subRuntime, ChannelID: ch.ID, SourceRepository: runtimeRepo, TargetRepository: w.efcore, TargetBranch: "main", Enabled: true,
			Policy: domain.SubscriptionPolicy{UpdateFrequency: domain.FrequencyEveryBuild}},
	} {
		_, err := reg.AddSubscription(ctx, s)
		require.NoError(t, err)
	}
	// The runtime build flows: the pull request a removal would orphan.
	env := wire.Env{Getenv: func(string) string { return "" }, Now: now}
	o, err := env.Service(reg).Trigger(ctx, service.TriggerRequest{SubscriptionID: subRuntime})
	require.NoError(t, err)
	require.Equal(t, domain.ResultUpdated, o.Result, o.Message)

	w.config = `channels:
  - name: dev
subscriptions:
  - id: ` + subArcade + `
    channel: dev
    sourceRepository: ` + arcadeRepo + `
    targetRepository: ` + w.efcore + `
    targetBranch: main
    updateFrequency: everyWeek
    excludedAssets:
      - Microsoft.DotNet.Helix.*
  - id: ` + subRuntime + `
    channel: dev
    sourceRepository: ` + runtimeRepo + `
    targetRepository: ` + w.efcore + `
    targetBranch: main
    updateFrequency: everyBuild
`
	r := maestro(t, w.dir, w.config, "config", "apply", "--prune", "-")
	require.NoError(t, r.err, r.errOut)
	require.Equal(t, "No changes: the registry matches <stdin>.\n", r.out, "the world's configuration file matches its registry")
	return w
}

// addVMR is the configuration with a new subscription of templating to the VMR.
func (w *whatIfWorld) addVMR() string {
	return w.config + `  - id: ` + subVMR + `
    channel: dev
    sourceRepository: ` + vmrRepo + `
    targetRepository: ` + w.templating + `
    targetBranch: main
    updateFrequency: everyBuild
`
}

// changeArcade is the configuration with the arcade subscription taking
// every build and no longer excluding the Helix SDK.
func (w *whatIfWorld) changeArcade() string {
	return strings.Replace(w.config, "    updateFrequency: everyWeek\n    excludedAssets:\n      - Microsoft.DotNet.Helix.*\n",
		"    updateFrequency: everyBuild\n", 1)
}

// removeRuntime is the configuration without the runtime subscription.
func (w *whatIfWorld) removeRuntime() string {
	cut := strings.Index(w.config, "  - id: "+subRuntime)
	return w.config[:cut]
}

// stable replaces the temporary paths in out by names, for golden files.
func (w *whatIfWorld) stable(out string) string {
	out = strings.NewReplacer(w.efcore, "/EFCORE.git", w.templating, "/TEMPLATING.git").Replace(out)
	return prBranch.ReplaceAllString(out, "darc-main-UUID")
}

// refs lists every ref of the target repositories with its commit.
func (w *whatIfWorld) refs(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, repo := range []string{w.efcore, w.templating} {
		out, err := exec.Command("git", "-C", repo, "for-each-ref").CombinedOutput()
		require.NoError(t, err, string(out))
		b.WriteString(repo + "\n" + string(out))
	}
	return b.String()
}

// prBranch is the name of a pull request branch, which ends in a new UUID.
var prBranch = regexp.MustCompile(`darc-main-[0-9a-f-]{36}`)

func golden(t *testing.T, name, got string) {
	t.Helper()
	testenv.Golden(t, filepath.Join("testdata", name), got, *update)
}

// TestWhatIfGolden: config apply --what-if on real dependency files in real
// git repositories prints, beyond the plan, the build each new or changed
// subscription would apply with the dependencies it would move, and the open
// pull request a removal would orphan — and writes nothing: the store, the
// target repositories' refs and the pull requests stay as they were.
func TestWhatIfGolden(t *testing.T) {
	w := newWhatIfWorld(t)
	for _, tc := range []struct {
		name, file string
		args       []string
	}{
		{"add", w.addVMR(), nil},
		{"change", w.changeArcade(), nil},
		{"removal", w.removeRuntime(), []string{"--prune"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, refs := snapshot(t, w.dir), w.refs(t)
			args := append([]string{"config", "apply", "--what-if"}, tc.args...)
			r := maestro(t, w.dir, tc.file, append(args, "-")...)
			require.NoError(t, r.err, r.errOut)
			golden(t, "whatif-"+tc.name+".golden", w.stable(r.out))

			r = maestro(t, w.dir, tc.file, append(args, "--output", "json", "-")...)
			require.NoError(t, r.err, r.errOut)
			var doc map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.out), &doc), r.out)
			golden(t, "whatif-"+tc.name+".json.golden", w.stable(r.out))

			assert.Equal(t, store, snapshot(t, w.dir), "--what-if wrote to the store")
			assert.Equal(t, refs, w.refs(t), "--what-if pushed to a target repository")
		})
	}
}

// TestWhatIfDecisions: the what-if takes the flow's decision for the build —
// a disabled subscription skips it and changes nothing — and a subscription
// into a channel the file adds has no build to apply.
func TestWhatIfDecisions(t *testing.T) {
	w := newWhatIfWorld(t)
	file := strings.Replace(w.addVMR(), "    channel: dev\n    sourceRepository: "+vmrRepo, "    channel: new\n    sourceRepository: "+vmrRepo, 1)
	file = strings.Replace(file, "  - name: dev\n", "  - name: dev\n  - name: new\n", 1)
	file = strings.Replace(file, "    updateFrequency: everyWeek\n", "    updateFrequency: everyWeek\n    enabled: false\n", 1)
	store := snapshot(t, w.dir)
	r := maestro(t, w.dir, file, "config", "apply", "--what-if", "-")
	require.NoError(t, r.err, r.errOut)
	out := w.stable(r.out)
	assert.Contains(t, out, "change subscription "+subArcade+" https://github.com/dotnet/arcade → /EFCORE.git@main\n"+
		"    build 1 (20210604.1, main@a1a1a1a1a1a1): skip — the subscription is disabled\n"+
		"add subscription "+subVMR+` "new" https://github.com/dotnet/dotnet → /TEMPLATING.git@main`+"\n"+
		"    no build to apply: the channel is new: it holds no builds yet\n")
	assert.Equal(t, store, snapshot(t, w.dir), "--what-if wrote to the store")
}

// TestWhatIfChecksFirst: a bad file is refused with every problem before the
// what-if reads any target, and --output json goes only with --what-if.
func TestWhatIfChecksFirst(t *testing.T) {
	dir := newRegistry(t)
	before := snapshot(t, dir)
	r := maestro(t, dir, "subscriptions:\n  - channel: nowhere\n    sourceRepository: https://github.com/dotnet/arcade\n    targetRepository: /does/not/exist.git\n    targetBranch: main\n    updateFrequency: hourly\n",
		"config", "apply", "--what-if", "-")
	require.Error(t, r.err)
	assert.Equal(t, cmdutil.ExitInvalid, cmdutil.ExitCode(r.err))
	assert.Contains(t, r.errOut, `<stdin>:2: subscriptions[0].channel: unknown channel "nowhere"`)
	assert.Contains(t, r.errOut, `<stdin>:6: subscriptions[0].updateFrequency: unknown update frequency "hourly"`)
	assert.Empty(t, r.out, "nothing is planned or read for a bad file")
	assert.Equal(t, before, snapshot(t, dir))

	r = maestro(t, dir, "channels: []\n", "config", "apply", "--output", "json", "-")
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "--output json only goes with --what-if")
}

// TestWhatIfWithoutRegistry: with --create on a store that holds no
// registry, --what-if plans against an empty one — every channel is new and
// holds no builds — and creates nothing.
func TestWhatIfWithoutRegistry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	r := maestro(t, dir, "channels:\n  - name: dev\nsubscriptions:\n  - channel: dev\n    sourceRepository: https://github.com/dotnet/arcade\n    targetRepository: /src/runtime.git\n    targetBranch: main\n",
		"config", "apply", "--what-if", "--create", "-")
	require.NoError(t, r.err, r.errOut)
	assert.Contains(t, r.out, "Plan: 2 to add, 0 to change, 0 to delete.\n")
	assert.Contains(t, r.out, "add subscription (new) \"dev\" https://github.com/dotnet/arcade → /src/runtime.git@main\n    no build to apply: the channel is new: it holds no builds yet\n")
	assert.NoDirExists(t, dir, "--what-if created the store")
}

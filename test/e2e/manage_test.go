package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
)

func TestManagementCommands(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		e.ok("channel", "add", "--name", ".NET 10")
		e.ok("channel", "add", "--name", ".NET 10 Release", "--classification", "release")
		var chans []maestro.Channel
		e.okJSON(&chans, "channel", "list")
		require.Len(t, chans, 2)
		assert.Equal(t, "release", chans[1].Classification)
		assert.Contains(t, e.ok("channel", "list"), ".NET 10 Release")

		// Subscriptions: add, validation errors, update, enable/disable, show, list, delete.
		var sub maestro.Subscription
		e.okJSON(&sub, "subscription", "add", "--channel", ".NET 10", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", "https://github.com/dotnet/runtime", "--target-branch", "main", "--update-frequency", "everyBuild",
			"--merge-policy", `AllChecksSuccessful:{"ignoreChecks":["license/cla"]}`, "--merge-policy", "NoRequestedChanges",
			"--excluded-asset", "Microsoft.DotNet.*.Internal", "--failure-notification-tags", "@dotnet/runtime-infra")
		assert.Equal(t, []any{"license/cla"}, sub.Policy.MergePolicies[0].Properties["ignoreChecks"])
		assert.Equal(t, []string{"Microsoft.DotNet.*.Internal"}, sub.ExcludedAssets)
		assert.True(t, sub.Enabled)

		r := e.run("subscription", "add", "--channel", ".NET 10", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", "https://github.com/dotnet/sdk", "--target-branch", "main", "--update-frequency", "hourly")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "valid ones: none, everyBuild, twiceDaily, everyDay, everyWeek, everyTwoWeeks, everyMonth")
		r = e.run("subscription", "add", "--channel", ".NET 10", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", "https://github.com/dotnet/sdk", "--target-branch", "main", "--batchable", "--merge-policy", "Standard")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "batchable subscriptions take no merge policies")
		r = e.run("subscription", "update", "--id", sub.ID, "--target-branch", "release/10.0")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "cannot change after creation")
		r = e.run("subscription", "add", "--channel", "Nope", "--source-repo", "https://github.com/a/b",
			"--target-repo", "https://github.com/a/c", "--target-branch", "main")
		assert.NotEqual(t, 0, r.code)
		assert.Contains(t, r.stderr, `"Nope"`)

		e.okJSON(&sub, "subscription", "update", "--id", sub.ID, "--update-frequency", "everyWeek", "--channel", ".NET 10 Release")
		assert.Equal(t, maestro.FrequencyEveryWeek, sub.Policy.UpdateFrequency)
		assert.Len(t, sub.Policy.MergePolicies, 2, "flags not given are unchanged")
		e.okJSON(&sub, "subscription", "disable", "--id", sub.ID)
		assert.False(t, sub.Enabled)
		e.okJSON(&sub, "subscription", "enable", "--id", sub.ID)
		assert.True(t, sub.Enabled)
		assert.Contains(t, e.ok("subscription", "show", "--id", sub.ID), "everyWeek")
		var subs []maestro.Subscription
		e.okJSON(&subs, "subscription", "list", "--channel", ".NET 10 Release", "--source-repo", "https://github.com/dotnet/arcade.git")
		require.Len(t, subs, 1)
		e.okJSON(&subs, "subscription", "list", "--channel", ".NET 10")
		assert.Empty(t, subs, "moved to the release channel")

		r = e.run("channel", "delete", "--name", ".NET 10 Release")
		assert.Equal(t, 4, r.code, "a channel in use cannot be deleted")
		e.ok("subscription", "delete", "--id", sub.ID)
		r = e.run("subscription", "show", "--id", sub.ID)
		assert.Equal(t, 3, r.code)

		// Default channels: add, disable (publish skips it), enable, delete.
		var dc maestro.DefaultChannel
		e.okJSON(&dc, "default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", ".NET 10")
		e.ok("default-channel", "disable", "--id", strconv.Itoa(dc.ID))
		dir := t.TempDir()
		m := writeFile(t, dir, "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(5), azdoBuildID: 55,
			packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.5"}}.xml())
		var b maestro.Build
		e.okJSON(&b, "publish", "--manifest", m)
		assert.Empty(t, b.Channels, "disabled default channel assigns nothing")
		e.ok("default-channel", "enable", "--id", strconv.Itoa(dc.ID))
		var dcs []maestro.DefaultChannel
		e.okJSON(&dcs, "default-channel", "list", "--repository", "https://github.com/DOTNET/arcade")
		require.Len(t, dcs, 1)
		assert.True(t, dcs[0].Enabled)

		// Builds: add to / remove from channels, released.
		id := strconv.Itoa(b.ID)
		e.ok("build", "add-to-channel", "--id", id, "--channel", ".NET 10")
		assert.Contains(t, e.ok("build", "add-to-channel", "--id", id, "--channel", ".NET 10"), "already in channel")
		e.okJSON(&b, "build", "latest", "--repository", "https://github.com/dotnet/arcade", "--channel", ".NET 10")
		assert.Equal(t, id, strconv.Itoa(b.ID))
		e.ok("build", "remove-from-channel", "--id", id, "--channel", ".NET 10")
		r = e.run("build", "latest", "--repository", "https://github.com/dotnet/arcade", "--channel", ".NET 10")
		assert.Equal(t, 3, r.code, r.stderr)
		e.okJSON(&b, "build", "update", "--id", id, "--released")
		assert.True(t, b.Released)
		e.okJSON(&b, "build", "update", "--id", id, "--released=false")
		assert.False(t, b.Released)

		// Repository policies.
		e.ok("repository-policy", "set", "--repository", "https://github.com/dotnet/runtime", "--branch", "main",
			"--merge-policy", "Standard", "--merge-policy", "NoExtraCommits")
		var p maestro.RepositoryBranchPolicy
		e.okJSON(&p, "repository-policy", "get", "--repository", "https://github.com/dotnet/runtime", "--branch", "main")
		assert.Len(t, p.MergePolicies, 2)
		assert.True(t, p.AutoMerge, "auto-merge is on unless turned off")
		assert.Equal(t, maestro.MergeMethodSquash, p.MergeMethod)
		out := e.ok("repository-policy", "set", "--repository", "https://github.com/dotnet/runtime", "--branch", "main",
			"--merge-policy", "Standard", "--auto-merge", "off", "--merge-method", "native")
		assert.Regexp(t, `(?m)^auto-merge: +off$`, out)
		assert.Regexp(t, `(?m)^merge method: +native `, out)
		e.okJSON(&p, "repository-policy", "get", "--repository", "https://github.com/dotnet/runtime", "--branch", "main")
		assert.False(t, p.AutoMerge)
		assert.Equal(t, maestro.MergeMethodNative, p.MergeMethod)
		assert.Regexp(t, `(?m)^https://github.com/dotnet/runtime +main +Standard +off +native$`, e.ok("repository-policy", "list"))
		for _, bad := range [][]string{{"--auto-merge", "false"}, {"--merge-method", "merge"}} {
			r = e.run(append([]string{"repository-policy", "set", "--repository", "https://github.com/dotnet/runtime", "--branch", "main"}, bad...)...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, bad[0]+` "`+bad[1]+`": use `)
		}
		e.okJSON(&p, "repository-policy", "get", "--repository", "https://github.com/dotnet/runtime", "--branch", "main")
		assert.Equal(t, [2]any{false, maestro.MergeMethodNative}, [2]any{p.AutoMerge, p.MergeMethod}, "a refused set wrote nothing")
		r = e.run("repository-policy", "set", "--repository", "https://github.com/dotnet/runtime", "--branch", "main",
			"--merge-policy", "Standard", "--merge-policy", "AllChecksSuccessful")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "Standard already contains AllChecksSuccessful")

		e.ok("default-channel", "delete", "--id", strconv.Itoa(dc.ID))
		e.okJSON(&dcs, "default-channel", "list")
		assert.Empty(t, dcs)
	})
}

func TestConfigRoundTrip(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		file := writeFile(t, dir, "maestro.yaml", `channels:
  - name: .NET 10
    classification: product
defaultChannels:
  - repository: https://github.com/dotnet/arcade
    branch: -regex:^release/.*
    channel: .NET 10
subscriptions:
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/runtime
    targetBranch: main
    updateFrequency: everyBuild
    mergePolicies:
      - name: Standard
  - channel: .NET 10
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
    updatePipeline:
      url: https://dev.azure.com/dnceng/internal/_build?definitionId=1234
repositoryPolicies:
  - repository: https://github.com/dotnet/runtime
    branch: main
    mergePolicies:
      - name: NoExtraCommits
  - repository: https://github.com/dotnet/sdk
    branch: main
    autoMerge: false
    mergeMethod: native
publishTriggers:
  - pipeline: https://dnceng.visualstudio.com/internal/_build?definitionId=679
`)
		assert.Contains(t, e.ok("config", "apply", file, "--dry-run"), "+ ")
		assert.Equal(t, "[]\n", e.ok("channel", "list", "--output", "json"), "dry run writes nothing")
		e.ok("config", "apply", file)
		exported := e.ok("config", "export")
		assert.Contains(t, exported, "everyBuild")
		assert.Contains(t, exported, "url: https://dev.azure.com/dnceng/internal/_build?definitionId=1234")
		assert.Contains(t, exported, "    branch: main\n    autoMerge: true\n    mergeMethod: squash\n")
		assert.Contains(t, exported, "    branch: main\n    autoMerge: false\n    mergeMethod: native\n")
		assert.Contains(t, exported, "publishTriggers:\n  - pipeline: https://dev.azure.com/dnceng/internal/_build?definitionId=679\n")
		assert.Contains(t, e.ok("publish-trigger", "list"), "https://dev.azure.com/dnceng  internal  679")
		bad := writeFile(t, dir, "bad.yaml", strings.Replace(string(must(os.ReadFile(file))), "definitionId=1234", "definitionId=x", 1))
		r := e.run("config", "apply", bad)
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr+r.stdout, "bad.yaml:21: subscriptions[1].updatePipeline.url")

		other := newLocal(t)
		if e.azurite == nil {
			other = newAzurite(t)
		}
		roundTrip := writeFile(t, dir, "exported.yaml", exported)
		other.ok("config", "apply", roundTrip)
		assert.Equal(t, exported, other.ok("config", "export"), "export → apply → export is identical")
		assert.NotContains(t, e.ok("config", "apply", file), "+ ", "second apply changes nothing")
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPublishConcurrentGoroutines publishes 50 builds from 50 goroutines of
// one process on each real store.
func TestPublishConcurrentGoroutines(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		env := map[string]string{}
		for _, kv := range e.environ {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		st, err := storeurl.Open(ctx, e.store, func(k string) string { return env[k] })
		require.NoError(t, err)
		reg := registry.New(st)
		ch, err := reg.AddChannel(ctx, "dev", "")
		require.NoError(t, err)
		const n = 50
		ids := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := maestro.Build{Repository: fmt.Sprintf("https://github.com/o/r%d", i%5), Branch: "main", Commit: sha(i),
					AzureDevOpsAccount: "dnceng", AzureDevOpsProject: "internal", AzureDevOpsBuildID: 9000 + i}
				for j := range 10 {
					b.Assets = append(b.Assets, maestro.Asset{Name: fmt.Sprintf("P%d.N%d", i%5, j), Version: fmt.Sprintf("1.0.%d", i)})
				}
				res, err := reg.PublishBuild(ctx, b, registry.PublishOptions{Channels: []int{ch.ID}})
				assert.NoError(t, err)
				ids[i] = res.Build.ID
			}()
		}
		wg.Wait()
		seen := map[int]bool{}
		for _, id := range ids {
			assert.False(t, seen[id], "duplicate id %d", id)
			seen[id] = true
			b, err := reg.Build(ctx, id)
			require.NoError(t, err)
			assert.Len(t, b.Assets, 10)
		}
		inChannel, err := reg.Builds(ctx, registry.BuildFilter{ChannelID: ch.ID, Limit: 100})
		require.NoError(t, err)
		assert.Len(t, inChannel, n)
	})
}

// TestRegistryIsMadeOnPurpose: every command on a store without a registry
// exits 2 with the way to make one and creates nothing (no folder, no
// container); `registry init` or `publish --create` makes it, once.
func TestRegistryIsMadeOnPurpose(t *testing.T) {
	dir := t.TempDir()
	m := writeFile(t, dir, "m.xml", manifestSpec{repo: "https://github.com/o/r", branch: "main", commit: sha(3), azdoBuildID: 3, packages: []string{"A@1.0.0"}}.xml())
	stores(t, func(t *testing.T, e *env) {
		missing := *e
		if e.azurite != nil {
			missing.store = "azblob://nothing-here"
		} else {
			missing.store = "file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "nonexistent", "x"))
		}
		exists := func() bool {
			if e.azurite == nil {
				_, err := os.Stat(filepath.Dir(strings.TrimPrefix(missing.store, "file://")))
				return err == nil
			}
			// A container Open finds: storeurl.Open creates nothing.
			env := map[string]string{"AZURE_STORAGE_CONNECTION_STRING": e.azurite.ConnectionString()}
			_, err := storeurl.Open(context.Background(), missing.store, func(k string) string { return env[k] })
			return err == nil
		}
		want := "maestro: no registry at " + missing.store + "; `maestro registry init --store " + missing.store + "` creates one\n"
		for _, args := range [][]string{
			{"channel", "list"},
			{"build", "list"},
			{"subscription", "list"},
			{"publish", "--manifest", m},
		} {
			r := missing.run(args...)
			assert.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
			assert.Equal(t, want, r.stderr, "%v", args)
			assert.Empty(t, r.stdout, "%v", args)
			assert.False(t, exists(), "%v created the store", args)
		}
		// Bad input with --create creates nothing either.
		r := missing.run("publish", "--create", "--manifest", filepath.Join(dir, "none-*.xml"))
		assert.Equal(t, 2, r.code, r.stderr)
		assert.False(t, exists(), "a bad publish --create created the store")

		var b maestro.Build
		missing.okJSON(&b, "publish", "--create", "--manifest", m)
		assert.True(t, exists())
		var again maestro.Build
		missing.okJSON(&again, "build", "show", "--id", strconv.Itoa(b.ID))
		assert.Equal(t, b.Commit, again.Commit)
		out := missing.ok("registry", "init")
		assert.Equal(t, "a registry exists at "+missing.store+" already (format version 2); nothing changed\n", out)
	})
}

// TestSubscriptionAddRace16Processes: 16 identical `subscription add`
// processes at once record exactly one subscription; the others exit 4.
func TestSubscriptionAddRace16Processes(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		e.ok("channel", "add", "--name", "race")
		for round := range 2 {
			target := fmt.Sprintf("https://github.com/dotnet/target%d", round)
			var wg sync.WaitGroup
			codes := make([]int, 16)
			for i := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := e.run("subscription", "add", "--channel", "race", "--source-repo", "https://github.com/dotnet/arcade",
						"--target-repo", target, "--target-branch", "main")
					codes[i] = r.code
					assert.Contains(t, []int{0, 4}, r.code, r.stderr)
				}()
			}
			wg.Wait()
			var subs []maestro.Subscription
			e.okJSON(&subs, "subscription", "list", "--target-repo", target)
			assert.Len(t, subs, 1, "round %d: exactly one subscription", round)
			assert.Equal(t, 1, countOf(codes, 0), "round %d: exactly one add succeeded: %v", round, codes)
		}
		// Deleted, the key is free again at once.
		var subs []maestro.Subscription
		e.okJSON(&subs, "subscription", "list", "--target-repo", "https://github.com/dotnet/target0")
		require.Len(t, subs, 1)
		e.ok("subscription", "delete", "--id", subs[0].ID)
		e.ok("subscription", "add", "--channel", "race", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", "https://github.com/dotnet/target0", "--target-branch", "main")
		r := e.run("subscription", "add", "--channel", "race", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", "https://github.com/dotnet/target0", "--target-branch", "main")
		assert.Equal(t, 4, r.code, r.stderr)
		assert.Contains(t, r.stderr, "already flows channel")
	})
}

func countOf(xs []int, v int) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

// TestChannelDeleteRacesAdds: `channel delete` racing `subscription add` and
// `default-channel add` on the same channel, as separate processes, never
// leaves a subscription or default channel naming a deleted channel.
func TestChannelDeleteRacesAdds(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		deleted := 0
		defer func() { t.Logf("the channel was deleted in %d of 6 rounds", deleted) }()
		for round := range 6 {
			name := fmt.Sprintf("doomed%d", round)
			e.ok("channel", "add", "--name", name)
			var wg sync.WaitGroup
			run := func(args ...string) {
				defer wg.Done()
				r := e.run(args...)
				// An add that resolves the name after the delete finds no
				// channel (--channel: exit 2, or 3 when it went between name
				// and id); one that meets the delete is a conflict (4), as is
				// a delete that meets a reference.
				assert.Contains(t, []int{0, 2, 3, 4}, r.code, "%v: %s", args, r.stderr)
			}
			for i := range 4 {
				wg.Add(2)
				go run("subscription", "add", "--channel", name, "--source-repo", "https://github.com/dotnet/arcade",
					"--target-repo", fmt.Sprintf("https://github.com/dotnet/t%d", i), "--target-branch", "main")
				go run("default-channel", "add", "--repository", fmt.Sprintf("https://github.com/dotnet/r%d", i), "--branch", "main", "--channel", name)
			}
			wg.Add(1)
			go run("channel", "delete", "--name", name)
			wg.Wait()

			var chans []maestro.Channel
			e.okJSON(&chans, "channel", "list")
			if !slices.ContainsFunc(chans, func(c maestro.Channel) bool { return c.Name == name }) {
				deleted++
			}
			live := map[int]bool{}
			for _, c := range chans {
				live[c.ID] = true
			}
			var subs []maestro.Subscription
			e.okJSON(&subs, "subscription", "list")
			for _, s := range subs {
				assert.True(t, live[s.ChannelID], "round %d: subscription %s names deleted channel %d", round, s.ID, s.ChannelID)
			}
			var dcs []maestro.DefaultChannel
			e.okJSON(&dcs, "default-channel", "list")
			for _, dc := range dcs {
				assert.True(t, live[dc.ChannelID], "round %d: default channel %d names deleted channel %d", round, dc.ID, dc.ChannelID)
			}
			e.ok("registry", "check")
		}
	})
}

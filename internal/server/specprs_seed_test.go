package server_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/local"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// specTreeSeed is what seedSpecTrees made: three trees of speculative pull
// requests on local repositories r[0..3].
type specTreeSeed struct {
	r [4]string
	// rootA is the flow's pull request of Arcade into r[0], merged, its
	// mainline build published: a[1] (r[1]) moved to it, gate passed;
	// a[2] (r[2]) and a[3] (r[3]), below a[1], open, gate waiting.
	rootA string
	a     [4]maestro.PullRequest
	// rootB, a person's pull request into r[0], closed; the tick closed
	// b1 (r[1]) below it.
	rootB string
	b1    maestro.PullRequest
	// rootC, closed after the last tick: c1 (r[1]) below it is still open
	// and its gate failed.
	rootC string
	c1    maestro.PullRequest
}

// specRepo makes a bare git repository dir/name.git on main whose
// Version.Details.xml takes package pkg from repository uri.
func specRepo(t testing.TB, dir, name, pkg, uri string) string {
	t.Helper()
	work, bare := t.TempDir(), filepath.Join(dir, name+".git")
	require.NoError(t, os.MkdirAll(filepath.Join(work, "eng"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(work, "eng", "Version.Details.xml"), fmt.Appendf(nil, `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="%s" Version="1.0.0">
      <Uri>%s</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
  </ToolsetDependencies>
</Dependencies>
`, pkg, uri), 0o644))
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", work},
		{"-C", work, "add", "."},
		{"-C", work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init"},
		{"clone", "-q", "--bare", work, bare},
	} {
		out, err := exec.Command("git", args...).CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	return bare
}

func gitHead(t testing.TB, bare, branch string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", bare, "rev-parse", "refs/heads/"+branch).Output()
	require.NoError(t, err, "%s %s", bare, branch)
	return strings.TrimSpace(string(out))
}

// seedSpecTrees builds three trees of speculative pull requests through
// the flow service on the local platform, as `maestro publish
// --speculative` and `flow tick` build them (docs/speculative.md): Arcade
// flows to r[0] by a normal subscription, r[0] → r[1] → r[2] and r[1] →
// r[3] opt in to speculative flow. Each pull request's CI is played by
// publishing a speculative build of it, which the service flows on. The
// repositories are folders of dir ("": a new temporary one).
func seedSpecTrees(t testing.TB, reg *registry.Registry, dir string) specTreeSeed {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	ctx := t.Context()
	var s specTreeSeed
	ch, err := reg.AddChannel(ctx, "speculative flow", "dev")
	require.NoError(t, err)
	s.r[0] = specRepo(t, dir, "r0", "Microsoft.DotNet.Arcade.Sdk", "https://github.com/dotnet/arcade")
	for i := 1; i < 4; i++ {
		up := s.r[1]
		if i == 1 {
			up = s.r[0]
		}
		s.r[i] = specRepo(t, dir, fmt.Sprintf("r%d", i), "Pkg", up)
	}
	subs := [][2]string{{"https://github.com/dotnet/arcade", s.r[0]}, {s.r[0], s.r[1]}, {s.r[1], s.r[2]}, {s.r[1], s.r[3]}}
	var sub0 maestro.Subscription
	for i, sr := range subs {
		sub, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, SourceRepository: sr[0], TargetRepository: sr[1],
			TargetBranch: "main", Enabled: true, ExcludedAssets: []string{}, Speculative: i > 0,
			Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
		require.NoError(t, err)
		if i == 0 {
			sub0 = sub
		}
	}
	svc := wire.Env{Getenv: func(string) string { return "" }, Now: time.Now}.Service(reg)
	host := local.New(reg, git.Runner{Author: git.Identity{Name: "Dev", Email: "dev@example.com"}})
	n := 0
	// ci publishes a speculative build of pull request pr of repository
	// repo (package Pkg) and flows it, as `maestro publish --speculative`.
	ci := func(repo string, pr maestro.PullRequest) {
		t.Helper()
		n++
		head := gitHead(t, repo, pr.HeadBranch)
		res, err := reg.PublishSpeculative(ctx, maestro.Build{Repository: repo, Branch: pr.HeadBranch, Commit: head,
			DateProduced: time.Now(), Assets: []maestro.Asset{{Name: "Pkg", Version: fmt.Sprintf("2.0.0-ci.%d", n),
				Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.example.com/feed/index.json"}}}}},
			registry.SpeculativeOptions{PullRequest: &maestro.BuildPullRequest{URL: pr.URL, HeadCommit: head, TargetBranch: "main"}, Channels: []int{ch.ID}})
		require.NoError(t, err)
		for _, tr := range svc.FlowSpeculative(ctx, res.Build) {
			require.NoError(t, tr.Err)
		}
	}
	// below is the one speculative pull request of repository repo whose
	// parent is parent.
	below := func(repo, parent string) maestro.PullRequest {
		t.Helper()
		all, err := reg.SpeculativePullRequests(ctx)
		require.NoError(t, err)
		for _, sp := range all {
			if sp.TargetRepository == repo && sp.Parent == parent && sp.Number != 0 {
				pr, err := host.PullRequest(ctx, repo, sp.Number)
				require.NoError(t, err)
				return pr
			}
		}
		t.Fatalf("no speculative pull request of %s below %s", repo, parent)
		return maestro.PullRequest{}
	}
	// A person's pull request into r[0] from a branch of its own.
	person := func(branch string) maestro.PullRequest {
		t.Helper()
		out, err := exec.Command("git", "-C", s.r[0], "branch", branch, "main").CombinedOutput()
		require.NoError(t, err, string(out))
		pr, err := host.CreatePullRequest(ctx, maestro.PullRequest{Repository: s.r[0], HeadBranch: branch, BaseBranch: "main", Title: "Change " + branch})
		require.NoError(t, err)
		return pr
	}

	// Tree A: Arcade's build opens the flow's pull request into r[0].
	_, err = reg.PublishBuild(ctx, maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "main",
		Commit: "2222222222222222222222222222222222222222", DateProduced: time.Now(),
		Assets: []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "2.0.0",
			Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.example.com/feed/index.json"}}}}},
		registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	out, err := svc.Trigger(ctx, service.TriggerRequest{SubscriptionID: sub0.ID})
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, out.Result, out.Message)
	s.rootA = out.PullRequestURL
	_, number, err := repourl.PullRequest(s.rootA)
	require.NoError(t, err)
	s.a[0], err = host.PullRequest(ctx, s.r[0], number)
	require.NoError(t, err)
	ci(s.r[0], s.a[0])
	s.a[1] = below(s.r[1], s.rootA)
	ci(s.r[1], s.a[1])
	s.a[2], s.a[3] = below(s.r[2], s.a[1].URL), below(s.r[3], s.a[1].URL)

	// Trees B and C: people's pull requests into r[0]; B closes.
	b, c := person("feature-b"), person("feature-c")
	s.rootB, s.rootC = b.URL, c.URL
	ci(s.r[0], b)
	ci(s.r[0], c)
	s.b1, s.c1 = below(s.r[1], s.rootB), below(s.r[1], s.rootC)
	require.NoError(t, host.Close(ctx, b))

	// A merges; its mainline build is published; the tick moves a[1] to
	// it and closes b1.
	require.NoError(t, host.Merge(ctx, s.a[0], platform.MergeOptions{Head: gitHead(t, s.r[0], s.a[0].HeadBranch), Message: s.a[0].Title}))
	merged, err := host.PullRequest(ctx, s.r[0], s.a[0].Number)
	require.NoError(t, err)
	require.NotEmpty(t, merged.MergeCommit)
	_, err = reg.PublishBuild(ctx, maestro.Build{Repository: s.r[0], Branch: "main", Commit: merged.MergeCommit, DateProduced: time.Now(),
		Assets: []maestro.Asset{{Name: "Pkg", Version: "2.0.0",
			Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.example.com/feed/index.json"}}}}},
		registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	_, err = svc.TickSpeculative(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)

	// C closes after the tick: its descendant's gate fails, its record
	// still open.
	require.NoError(t, host.Close(ctx, c))
	return s
}

package updater_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/local"
	"github.com/maestroplusplus/maestro/internal/prbody"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	"github.com/maestroplusplus/maestro/internal/updater"
	"github.com/maestroplusplus/maestro/test/testenv"
)

const arcade = "https://github.com/dotnet/arcade"

var bot = git.Runner{Author: git.Identity{Name: "dotnet-maestro[bot]", Email: "bot@maestro.local"}}

type fixture struct {
	t       *testing.T
	ctx     context.Context
	reg     *registry.Registry
	plat    *local.Platform
	target  string // bare repository
	sub     maestro.Subscription
	upd     *updater.Updater
	nextID  int
	azdoSeq int
}

// newFixture makes a bare target repository holding the before/ files of a
// real production update, and a subscription from dotnet/arcade into it.
func newFixture(t *testing.T, caseName string) *fixture {
	ctx := context.Background()
	f := &fixture{t: t, ctx: ctx, reg: registry.New(mem.New())}
	f.plat = local.New(f.reg, bot)
	root := t.TempDir()
	f.target = filepath.Join(root, "target.git")
	require.NoError(t, bot.Init(ctx, f.target, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, exec.Command("cp", "-r", filepath.Join(testenv.Shared(t, "fixtures", "maestro-updates", "cases"), caseName, "before"), seed).Run())
	require.NoError(t, bot.Init(ctx, seed, false))
	_, err := bot.CommitAll(ctx, seed, "initial")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, seed, f.target, "HEAD", "main", ""))

	ch, err := f.reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	f.sub, err = f.reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, SourceRepository: arcade,
		TargetRepository: f.target, TargetBranch: "main", Enabled: true,
		Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryBuild}})
	require.NoError(t, err)
	f.upd = &updater.Updater{
		Registry: f.reg,
		Platform: func(string) (platform.Platform, error) { return f.plat, nil },
		Now:      func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
		NewID:    func() string { f.nextID++; return fmt.Sprint(f.nextID) },
		BotEmail: bot.Author.Email,
	}
	return f
}

// publish records an arcade build of the SDK at version from commit.
func (f *fixture) publish(version, commit string) maestro.Build {
	f.azdoSeq++
	res, err := f.reg.PublishBuild(f.ctx, maestro.Build{Repository: arcade, Branch: "main", Commit: commit,
		AzureDevOpsBuildNumber: fmt.Sprintf("2019091%d.1", f.azdoSeq),
		Assets:                 []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: version}}}, registry.PublishOptions{})
	require.NoError(f.t, err)
	return res.Build
}

func (f *fixture) show(rev, path string) string {
	data, err := bot.Show(f.ctx, f.target, rev, path)
	require.NoError(f.t, err)
	return string(data)
}

func TestApplyOpensUpdatesAndReopensPullRequests(t *testing.T) {
	const c = "sourcelink-0074a21d83"
	f := newFixture(t, c)
	after := filepath.Join(testenv.Shared(t, "fixtures", "maestro-updates", "cases"), c, "after")

	b1 := f.publish("1.0.0-beta.19463.3", "7b731032220c21a3ed0021c72757b1f3122579b2")
	o, err := f.upd.Apply(f.ctx, f.sub.ID, b1.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	prs, err := f.reg.PullRequests(f.ctx, f.target)
	require.NoError(t, err)
	require.Len(t, prs, 1)
	pr := prs[0]
	assert.Equal(t, "darc-main-1", pr.HeadBranch)
	assert.Equal(t, "[main] Update dependencies from dotnet/arcade", pr.Title)
	assert.Contains(t, pr.Body, "[marker]: <> (Begin:"+f.sub.ID+")")
	for _, file := range []string{"eng/Version.Details.xml", "eng/Versions.props", "global.json"} {
		want, err := os.ReadFile(filepath.Join(after, file))
		require.NoError(t, err)
		assert.Equal(t, string(want), f.show("darc-main-1", file), "%s byte for byte as the production bot", file)
	}
	msg, err := exec.Command("git", "-C", f.target, "log", "-1", "--format=%an%n%B", "darc-main-1").Output()
	require.NoError(t, err)
	assert.Contains(t, string(msg), "Update dependencies from https://github.com/dotnet/arcade build 20190911.1")
	assert.Contains(t, string(msg), "From Version 1.0.0-beta.19462.5 -> To Version 1.0.0-beta.19463.3")

	// A newer build updates the open pull request in place.
	b2 := f.publish("1.0.0-beta.19464.1", "1111111111111111111111111111111111111111")
	o, err = f.upd.Apply(f.ctx, f.sub.ID, b2.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	prs, err = f.reg.PullRequests(f.ctx, f.target)
	require.NoError(t, err)
	require.Len(t, prs, 1, "one pull request")
	assert.Equal(t, 1, strings.Count(prs[0].Body, "(Begin:"+f.sub.ID+")"))
	assert.Contains(t, prs[0].Body, fmt.Sprintf("BAR build %d", b2.ID))
	assert.NotContains(t, prs[0].Body, fmt.Sprintf("BAR build %d)", b1.ID))
	assert.Contains(t, f.show("darc-main-1", "global.json"), "1.0.0-beta.19464.1")

	// Merged: the subscription records the build and the next update opens a new pull request.
	st, err := f.plat.Status(f.ctx, prs[0])
	require.NoError(t, err)
	require.NoError(t, f.plat.Merge(f.ctx, prs[0], platform.MergeOptions{Head: st.HeadCommit, Message: "merge"}))
	b3 := f.publish("1.0.0-beta.19465.1", "2222222222222222222222222222222222222222")
	o, err = f.upd.Apply(f.ctx, f.sub.ID, b3.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	s, err := f.reg.Subscription(f.ctx, f.sub.ID)
	require.NoError(t, err)
	assert.Equal(t, b2.ID, s.LastAppliedBuildID)
	assert.Contains(t, f.show("main", "global.json"), "1.0.0-beta.19464.1", "the merge reached main")
	assert.Contains(t, f.show("darc-main-2", "global.json"), "1.0.0-beta.19465.1")

	// Closed unmerged: the branch goes, a new pull request comes.
	prs, err = f.reg.PullRequests(f.ctx, f.target)
	require.NoError(t, err)
	require.NoError(t, f.plat.Close(f.ctx, prs[0]))
	b4 := f.publish("1.0.0-beta.19466.1", "3333333333333333333333333333333333333333")
	o, err = f.upd.Apply(f.ctx, f.sub.ID, b4.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultUpdated, o.Result)
	_, err = bot.RevParse(f.ctx, f.target, "refs/heads/darc-main-2")
	assert.Error(t, err, "the closed pull request's branch is deleted")
	assert.Contains(t, f.show("darc-main-3", "global.json"), "1.0.0-beta.19466.1")

	// Someone else pushes to the pull request branch: never overwritten.
	work := filepath.Join(t.TempDir(), "alice")
	alice := git.Runner{Author: git.Identity{Name: "Alice", Email: "alice@example.com"}}
	require.NoError(t, alice.Clone(f.ctx, f.target, work, "darc-main-3"))
	require.NoError(t, os.WriteFile(filepath.Join(work, "README.md"), []byte("fix\n"), 0o644))
	_, err = alice.CommitAll(f.ctx, work, "manual fix")
	require.NoError(t, err)
	require.NoError(t, alice.Push(f.ctx, work, "origin", "HEAD", "darc-main-3", ""))
	b5 := f.publish("1.0.0-beta.19467.1", "4444444444444444444444444444444444444444")
	o, err = f.upd.Apply(f.ctx, f.sub.ID, b5.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultConflict, o.Result)
	assert.Contains(t, o.Message, "alice@example.com")
	assert.NotContains(t, f.show("darc-main-3", "global.json"), "1.0.0-beta.19467.1")
	prs, err = f.reg.PullRequests(f.ctx, f.target)
	require.NoError(t, err)
	assert.Contains(t, prs[0].Body, "did not push the newer update", "the pull request got a comment")

	history, err := f.reg.Outcomes(f.ctx, registry.OutcomeFilter{SubscriptionID: f.sub.ID})
	require.NoError(t, err)
	var results []maestro.FlowResult
	for _, h := range history {
		results = append(results, h.Result)
	}
	assert.Equal(t, []maestro.FlowResult{"updated", "updated", "updated", "updated", "conflict"}, results)
}

// pendingChecks is the local platform with a check that never finishes.
type pendingChecks struct{ *local.Platform }

func (pendingChecks) Checks(context.Context, maestro.PullRequest) ([]platform.Check, error) {
	return []platform.Check{{Name: "build", State: platform.CheckPending}}, nil
}

func TestApplyReschedulesWhilePoliciesPending(t *testing.T) {
	f := newFixture(t, "sourcelink-0074a21d83")
	b1 := f.publish("1.0.0-beta.19463.3", "7b731032220c21a3ed0021c72757b1f3122579b2")
	_, err := f.upd.Apply(f.ctx, f.sub.ID, b1.ID)
	require.NoError(t, err)
	f.upd.Platform = func(string) (platform.Platform, error) { return pendingChecks{f.plat}, nil }
	b2 := f.publish("1.0.0-beta.19464.1", "1111111111111111111111111111111111111111")
	o, err := f.upd.Apply(f.ctx, f.sub.ID, b2.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultRescheduled, o.Result)
	assert.Contains(t, o.Message, "pending checks (build)")
	assert.NotContains(t, f.show("darc-main-1", "global.json"), "1.0.0-beta.19464.1", "nothing pushed")
}

// ownPolicyPending is the local platform with Maestro++'s own policy
// reports pending, as GitHub lists them while a policy is pending.
type ownPolicyPending struct{ *local.Platform }

func (ownPolicyPending) Checks(context.Context, maestro.PullRequest) ([]platform.Check, error) {
	return []platform.Check{
		{Name: platform.PolicyCheckPrefix + maestro.PolicyAllChecksSuccessful, State: platform.CheckPending},
		{Name: platform.PolicyStatusGenre + "/" + maestro.PolicyNoExtraCommits, State: platform.CheckPending},
		{Name: "build", State: platform.CheckSuccess},
	}, nil
}

// TestOwnPolicyReportsNeverHoldAnUpdateBack: our policy check runs and
// statuses are pending while a policy is pending (waiting for CI on the
// head); were they counted, no update would ever be pushed to the pull
// request again.
func TestOwnPolicyReportsNeverHoldAnUpdateBack(t *testing.T) {
	f := newFixture(t, "sourcelink-0074a21d83")
	b1 := f.publish("1.0.0-beta.19463.3", "7b731032220c21a3ed0021c72757b1f3122579b2")
	_, err := f.upd.Apply(f.ctx, f.sub.ID, b1.ID)
	require.NoError(t, err)
	f.upd.Platform = func(string) (platform.Platform, error) { return ownPolicyPending{f.plat}, nil }
	b2 := f.publish("1.0.0-beta.19464.1", "1111111111111111111111111111111111111111")
	o, err := f.upd.Apply(f.ctx, f.sub.ID, b2.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	assert.Contains(t, f.show("darc-main-1", "global.json"), "1.0.0-beta.19464.1")
}

func TestApplyNoUpdate(t *testing.T) {
	f := newFixture(t, "sourcelink-0074a21d83")
	b := f.publish("1.0.0-beta.19462.5", "6003ee189f456c92a18b097f226d4927309def27")
	o, err := f.upd.Apply(f.ctx, f.sub.ID, b.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultNoUpdate, o.Result)
	assert.Contains(t, o.Message, "already at this version")
	s, err := f.reg.Subscription(f.ctx, f.sub.ID)
	require.NoError(t, err)
	assert.Equal(t, b.ID, s.LastAppliedBuildID)
	prs, err := f.reg.PullRequests(f.ctx, f.target)
	require.NoError(t, err)
	assert.Empty(t, prs)
}

func TestApplyBatchesIntoOnePullRequest(t *testing.T) {
	ctx := context.Background()
	reg := registry.New(mem.New())
	plat := local.New(reg, bot)
	root := t.TempDir()
	target := filepath.Join(root, "target.git")
	require.NoError(t, bot.Init(ctx, target, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, os.MkdirAll(filepath.Join(seed, "eng"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "eng", "Version.Details.xml"), []byte(`<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.NETCore.App.Ref" Version="9.0.0">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>aaaa</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.1">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>bbbb</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "eng", "Versions.props"), []byte(`<Project>
  <PropertyGroup>
    <MicrosoftNETCoreAppRefVersion>9.0.0</MicrosoftNETCoreAppRefVersion>
  </PropertyGroup>
</Project>
`), 0o644))
	require.NoError(t, bot.Init(ctx, seed, false))
	_, err := bot.CommitAll(ctx, seed, "initial")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, seed, target, "HEAD", "main", ""))

	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	var subs []maestro.Subscription
	for _, src := range []string{arcade, "https://github.com/dotnet/runtime"} {
		s, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, SourceRepository: src, TargetRepository: target,
			TargetBranch: "main", Enabled: true, Policy: maestro.SubscriptionPolicy{Batchable: true, UpdateFrequency: maestro.FrequencyEveryBuild}})
		require.NoError(t, err)
		subs = append(subs, s)
	}
	n := 0
	upd := &updater.Updater{Registry: reg, Platform: func(string) (platform.Platform, error) { return plat, nil },
		Now: time.Now, NewID: func() string { n++; return fmt.Sprint(n) }, BotEmail: bot.Author.Email}
	publish := func(repo, name, version string) maestro.Build {
		res, err := reg.PublishBuild(ctx, maestro.Build{Repository: repo, Branch: "main", Commit: strings.Repeat("c", 40),
			Assets: []maestro.Asset{{Name: name, Version: version}}}, registry.PublishOptions{})
		require.NoError(t, err)
		return res.Build
	}
	b1 := publish(arcade, "Microsoft.DotNet.Arcade.Sdk", "10.0.0-beta.1")
	b2 := publish("https://github.com/dotnet/runtime", "Microsoft.NETCore.App.Ref", "10.0.0")
	o, err := upd.Apply(ctx, subs[0].ID, b1.ID)
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	o, err = upd.Apply(ctx, subs[1].ID, b2.ID)
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)

	prs, err := reg.PullRequests(ctx, target)
	require.NoError(t, err)
	require.Len(t, prs, 1, "batched subscriptions share one pull request")
	assert.Equal(t, "[main] Update dependencies from dotnet/arcade, dotnet/runtime", prs[0].Title)
	assert.Contains(t, prs[0].Body, "(Begin:"+subs[0].ID+")")
	assert.Contains(t, prs[0].Body, "(Begin:"+subs[1].ID+")")
	details, err := bot.Show(ctx, target, prs[0].HeadBranch, "eng/Version.Details.xml")
	require.NoError(t, err)
	assert.Contains(t, string(details), `Version="10.0.0-beta.1"`)
	assert.Contains(t, string(details), `Version="10.0.0"`)
}

// TestApplyTruncatesLongBodies: a body over the host's limit is cut to fit
// and links the full list on that host; the next update rewrites the cut
// section in place (one section, the newer build, one note).
func TestApplyTruncatesLongBodies(t *testing.T) {
	tests := []struct {
		name  string
		limit prbody.Limit
		link  string // after the target repository, less ".git"
	}{
		{"azure repos, bytes", prbody.Limit{Max: 500, Unit: prbody.Bytes, FullList: prbody.AzureReposCompareURL}, ".git/branchCompare?baseVersion=GBmain&targetVersion=GBdarc-main-1"},
		{"github, characters", prbody.Limit{Max: 500, Unit: prbody.Characters, FullList: prbody.GitHubCompareURL}, "/compare/main...darc-main-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "sourcelink-0074a21d83")
			f.upd.BodyLimit = func(repo string) prbody.Limit {
				assert.Equal(t, f.target, repo)
				return tt.limit
			}
			b := f.publish("1.0.0-beta.19463.3", "7b731032220c21a3ed0021c72757b1f3122579b2")
			_, err := f.upd.Apply(f.ctx, f.sub.ID, b.ID)
			require.NoError(t, err)
			prs, err := f.reg.PullRequests(f.ctx, f.target)
			require.NoError(t, err)
			require.Len(t, prs, 1)
			body := prs[0].Body
			assert.True(t, tt.limit.Fits(body), "%d > %d", tt.limit.Len(body), tt.limit.Max)
			assert.Contains(t, body, "the full list of updates is at "+strings.TrimSuffix(f.target, ".git")+tt.link)
			assert.Contains(t, body, "(End:"+f.sub.ID+")", "the cut section is closed")

			b2 := f.publish("1.0.0-beta.19464.1", "1111111111111111111111111111111111111111")
			o, err := f.upd.Apply(f.ctx, f.sub.ID, b2.ID)
			require.NoError(t, err)
			require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
			prs, err = f.reg.PullRequests(f.ctx, f.target)
			require.NoError(t, err)
			require.Len(t, prs, 1)
			body = prs[0].Body
			assert.True(t, tt.limit.Fits(body))
			assert.Equal(t, 1, strings.Count(body, "(Begin:"+f.sub.ID+")"), body)
			assert.Equal(t, 1, strings.Count(body, "the full list of updates is at"), body)
			assert.Contains(t, body, fmt.Sprintf("(BAR build %d)", b2.ID))
		})
	}
}

// TestApplyCoherentChildCarriedByTheBuild: on the real Version.Details.xml of
// dotnet/sourcelink, an Arcade build that also carries an asset named like the
// coherent child Microsoft.DotNet.XliffTasks moves the child only through the
// coherency pass: the commit message and the pull request list it once, from
// its old version to the one Arcade's build depended on, never as a change and
// its reversal.
func TestApplyCoherentChildCarriedByTheBuild(t *testing.T) {
	f := newFixture(t, "sourcelink-75a65b1632")
	publish := func(b maestro.Build) maestro.Build {
		res, err := f.reg.PublishBuild(f.ctx, b, registry.PublishOptions{})
		require.NoError(t, err)
		return res.Build
	}
	xliff := publish(maestro.Build{Repository: "https://github.com/dotnet/xliff-tasks", Branch: "main", Commit: "4234ffac87e305da80597cb46dc0d4a87fc4f7c2",
		AzureDevOpsBuildNumber: "20230612.2", Assets: []maestro.Asset{{Name: "Microsoft.DotNet.XliffTasks", Version: "1.0.0-beta.23312.2"}}})
	sourcelink := publish(maestro.Build{Repository: "https://github.com/dotnet/sourcelink", Branch: "main", Commit: "47c52dd2ebf9edfd40abdcff999c13eb461f6ce2",
		AzureDevOpsBuildNumber: "20230418.3", Assets: []maestro.Asset{{Name: "Microsoft.SourceLink.GitHub", Version: "8.0.0-beta.23218.3"}}})
	b := publish(maestro.Build{Repository: arcade, Branch: "main", Commit: "e2334b2be36919347923d0ec872a46acddb1e385", AzureDevOpsBuildNumber: "20230616.6",
		Dependencies: []maestro.BuildDependency{{BuildID: xliff.ID}, {BuildID: sourcelink.ID}},
		Assets: []maestro.Asset{
			{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "8.0.0-beta.23316.6"},
			{Name: "Microsoft.DotNet.XliffTasks", Version: "9.9.9-arcade"},
		}})

	o, err := f.upd.Apply(f.ctx, f.sub.ID, b.ID)
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	prs, err := f.reg.PullRequests(f.ctx, f.target)
	require.NoError(t, err)
	require.Len(t, prs, 1)
	msg, err := exec.Command("git", "-C", f.target, "log", "-1", "--format=%B", prs[0].HeadBranch).Output()
	require.NoError(t, err)
	for name, text := range map[string]string{"commit message": string(msg), "pull request body": prs[0].Body} {
		assert.NotContains(t, text, "9.9.9-arcade", name)
		assert.Equal(t, 1, strings.Count(text, "Microsoft.DotNet.XliffTasks"), "%s lists the child once:\n%s", name, text)
		assert.Contains(t, text, "1.0.0-beta.23312.2", name)
	}
	assert.Contains(t, f.show(prs[0].HeadBranch, "eng/Version.Details.xml"), `Name="Microsoft.DotNet.XliffTasks" Version="1.0.0-beta.23312.2"`)
}

// TestApplyAgainWhileThePullRequestCarriesTheBuild: triggering a build that
// the open pull request already carries says so, names the pull request, and
// does not count the build as applied while the target branch is still at
// the old version.
func TestApplyAgainWhileThePullRequestCarriesTheBuild(t *testing.T) {
	f := newFixture(t, "sourcelink-0074a21d83")
	b := f.publish("1.0.0-beta.19463.3", "7b731032220c21a3ed0021c72757b1f3122579b2")
	o, err := f.upd.Apply(f.ctx, f.sub.ID, b.ID)
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	first := o.PullRequestURL

	o, err = f.upd.Apply(f.ctx, f.sub.ID, b.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultNoUpdate, o.Result)
	assert.Equal(t, first, o.PullRequestURL)
	assert.Contains(t, o.Message, "the update is in open pull request #1")
	assert.NotContains(t, o.Message, "already at this version")
	s, err := f.reg.Subscription(f.ctx, f.sub.ID)
	require.NoError(t, err)
	assert.Zero(t, s.LastAppliedBuildID, "not applied until the pull request merges")
}

// TestApplyLosesAPushRace: someone pushes to the pull request branch after
// the update cloned it and before it pushed. The push is leased on the head
// the update read, so it is refused: the outcome is a conflict, the pull
// request says why, and the other push stays.
func TestApplyLosesAPushRace(t *testing.T) {
	f := newFixture(t, "sourcelink-0074a21d83")
	b1 := f.publish("1.0.0-beta.19463.3", "7b731032220c21a3ed0021c72757b1f3122579b2")
	o, err := f.upd.Apply(f.ctx, f.sub.ID, b1.ID)
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)

	// Alice's commit is ready; a post-commit hook pushes it at the moment
	// the update has committed and not yet pushed.
	root := t.TempDir()
	alice := git.Runner{Author: git.Identity{Name: "Alice", Email: "alice@example.com"}}
	race := filepath.Join(root, "alice")
	require.NoError(t, alice.Clone(f.ctx, f.target, race, "darc-main-1"))
	require.NoError(t, os.WriteFile(filepath.Join(race, "fix.txt"), []byte("fix\n"), 0o644))
	_, err = alice.CommitAll(f.ctx, race, "Fix the build")
	require.NoError(t, err)
	theirs, err := alice.RevParse(f.ctx, race, "HEAD")
	require.NoError(t, err)
	hooks := filepath.Join(root, "hooks")
	require.NoError(t, os.MkdirAll(hooks, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(hooks, "post-commit"), []byte("#!/bin/sh\n"+
		"[ -n \"$MAESTRO_TEST_RACE\" ] || exit 0\n"+
		"cd \"$MAESTRO_TEST_RACE\" && exec git -c core.hooksPath=/dev/null push --quiet origin HEAD:refs/heads/darc-main-1\n"), 0o755))
	config := filepath.Join(root, "gitconfig")
	require.NoError(t, os.WriteFile(config, []byte("[core]\n\thooksPath = "+hooks+"\n"), 0o644))
	t.Setenv("GIT_CONFIG_GLOBAL", config)
	t.Setenv("MAESTRO_TEST_RACE", race)

	b2 := f.publish("1.0.0-beta.19464.1", "1111111111111111111111111111111111111111")
	o, err = f.upd.Apply(f.ctx, f.sub.ID, b2.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultConflict, o.Result, o.Message)
	assert.Contains(t, o.Message, "moved while Maestro++ prepared this dependency update")
	assert.NotEmpty(t, o.PullRequestURL)
	head, err := bot.RevParse(f.ctx, f.target, "darc-main-1")
	require.NoError(t, err)
	assert.Equal(t, theirs, head, "the other push stays")
	assert.Contains(t, f.show("darc-main-1", "global.json"), "1.0.0-beta.19463.3")
	pr, err := f.reg.PullRequest(f.ctx, f.target, 1)
	require.NoError(t, err)
	assert.Contains(t, pr.Body, "moved while Maestro++ prepared this dependency update", "the pull request says why")
	history, err := f.reg.Outcomes(f.ctx, registry.OutcomeFilter{SubscriptionID: f.sub.ID, BuildID: b2.ID})
	require.NoError(t, err)
	require.Len(t, history, 1)
	assert.Equal(t, maestro.ResultConflict, history[0].Result)
}

// TestApplyRepairsAnUnfinishedClaim: an update that died after claiming its
// branch (a tracked record without a pull request number) is finished by the
// next one: it adopts the pull request opened from that branch, or, when
// none opened, deletes the branch and starts afresh.
func TestApplyRepairsAnUnfinishedClaim(t *testing.T) {
	for _, opened := range []bool{true, false} {
		t.Run(fmt.Sprintf("pull request opened %v", opened), func(t *testing.T) {
			f := newFixture(t, "sourcelink-0074a21d83")
			seed := filepath.Join(t.TempDir(), "seed")
			require.NoError(t, bot.Clone(f.ctx, f.target, seed, "main"))
			require.NoError(t, os.WriteFile(filepath.Join(seed, "half.txt"), []byte("half\n"), 0o644))
			_, err := bot.CommitAll(f.ctx, seed, "an update that died")
			require.NoError(t, err)
			require.NoError(t, bot.PushLeased(f.ctx, seed, "origin", "HEAD", "darc-main-dead", ""))
			head, err := bot.RevParse(f.ctx, seed, "HEAD")
			require.NoError(t, err)
			_, err = f.reg.Track(f.ctx, f.target, "main", f.sub.ID, maestro.TrackedPullRequest{
				PullRequest: maestro.PullRequest{Repository: f.target, HeadBranch: "darc-main-dead", BaseBranch: "main"}, HeadCommit: head}, "")
			require.NoError(t, err)
			var adopted maestro.PullRequest
			if opened {
				adopted, err = f.plat.CreatePullRequest(f.ctx, maestro.PullRequest{Repository: f.target, Title: "t", Body: "b", HeadBranch: "darc-main-dead", BaseBranch: "main"})
				require.NoError(t, err)
			}

			b := f.publish("1.0.0-beta.19463.3", "7b731032220c21a3ed0021c72757b1f3122579b2")
			o, err := f.upd.Apply(f.ctx, f.sub.ID, b.ID)
			require.NoError(t, err)
			require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
			prs, err := f.reg.PullRequests(f.ctx, f.target)
			require.NoError(t, err)
			require.Len(t, prs, 1)
			tracked, _, err := f.reg.TrackedPullRequest(f.ctx, f.target, "main", f.sub.ID)
			require.NoError(t, err)
			require.NotNil(t, tracked)
			assert.Equal(t, prs[0].Number, tracked.PullRequest.Number)
			if opened {
				assert.Equal(t, adopted.Number, prs[0].Number, "the open pull request is adopted")
				assert.Equal(t, "darc-main-dead", prs[0].HeadBranch)
				assert.Contains(t, f.show("darc-main-dead", "global.json"), "1.0.0-beta.19463.3")
			} else {
				assert.Equal(t, "darc-main-1", prs[0].HeadBranch, "a fresh branch")
				_, err := bot.RevParse(f.ctx, f.target, "refs/heads/darc-main-dead")
				assert.ErrorIs(t, err, git.ErrNotFound, "the claimed branch is deleted")
			}
		})
	}
}

// TestApplyNothingForThisSubscriptionBesideABatchedPullRequest: a batched
// pull request that does not carry this subscription's part is not where its
// update is: a build already on the target branch is a plain no-update.
func TestApplyNothingForThisSubscriptionBesideABatchedPullRequest(t *testing.T) {
	ctx := context.Background()
	reg := registry.New(mem.New())
	plat := local.New(reg, bot)
	root := t.TempDir()
	target := filepath.Join(root, "target.git")
	require.NoError(t, bot.Init(ctx, target, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, os.MkdirAll(filepath.Join(seed, "eng"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "eng", "Version.Details.xml"), []byte(`<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
    <Dependency Name="Microsoft.NETCore.App.Ref" Version="9.0.0">
      <Uri>https://github.com/dotnet/runtime</Uri>
      <Sha>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</Sha>
    </Dependency>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.1">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>bbbb</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`), 0o644))
	require.NoError(t, bot.Init(ctx, seed, false))
	_, err := bot.CommitAll(ctx, seed, "initial")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, seed, target, "HEAD", "main", ""))
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	var subs []maestro.Subscription
	for _, src := range []string{arcade, "https://github.com/dotnet/runtime"} {
		s, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, SourceRepository: src, TargetRepository: target,
			TargetBranch: "main", Enabled: true, Policy: maestro.SubscriptionPolicy{Batchable: true, UpdateFrequency: maestro.FrequencyEveryBuild}})
		require.NoError(t, err)
		subs = append(subs, s)
	}
	upd := &updater.Updater{Registry: reg, Platform: func(string) (platform.Platform, error) { return plat, nil },
		Now: time.Now, NewID: func() string { return "1" }, BotEmail: bot.Author.Email}
	publish := func(repo, commit, name, version string) maestro.Build {
		res, err := reg.PublishBuild(ctx, maestro.Build{Repository: repo, Branch: "main", Commit: commit,
			Assets: []maestro.Asset{{Name: name, Version: version}}}, registry.PublishOptions{})
		require.NoError(t, err)
		return res.Build
	}
	o, err := upd.Apply(ctx, subs[0].ID, publish(arcade, strings.Repeat("c", 40), "Microsoft.DotNet.Arcade.Sdk", "10.0.0-beta.1").ID)
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)

	// The runtime build brings what main has already; the pull request has
	// no part of the runtime subscription.
	b := publish("https://github.com/dotnet/runtime", strings.Repeat("a", 40), "Microsoft.NETCore.App.Ref", "9.0.0")
	o, err = upd.Apply(ctx, subs[1].ID, b.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultNoUpdate, o.Result)
	assert.Contains(t, o.Message, "already at this version")
	assert.NotContains(t, o.Message, "open pull request")
	s, err := reg.Subscription(ctx, subs[1].ID)
	require.NoError(t, err)
	assert.Equal(t, b.ID, s.LastAppliedBuildID)
}

// meddling is the local platform with another writer of the tracked record
// stepping in at one point of an update (as an update that lost the lock
// would): once the update read the record and asked where to clone from, or
// after it updated the pull request.
type meddling struct {
	*local.Platform
	afterCloneURL, afterUpdate func()
}

func (m meddling) CloneURL(repo string) (string, error) {
	u, err := m.Platform.CloneURL(repo)
	if m.afterCloneURL != nil {
		m.afterCloneURL()
	}
	return u, err
}

func (m meddling) UpdatePullRequest(ctx context.Context, pr maestro.PullRequest) error {
	err := m.Platform.UpdatePullRequest(ctx, pr)
	if m.afterUpdate != nil {
		m.afterUpdate()
	}
	return err
}

// TestApplyRacesAreRetryable: every race an update can lose reaches Retry as
// updater.ErrRace — the lock held too long by another update, the record
// changed before the push (then nothing is pushed) — and without Retry it is
// a conflict, not a failure.
func TestApplyRacesAreRetryable(t *testing.T) {
	f := newFixture(t, "sourcelink-0074a21d83")
	b1 := f.publish("1.0.0-beta.19463.3", "7b731032220c21a3ed0021c72757b1f3122579b2")
	o, err := f.upd.Apply(f.ctx, f.sub.ID, b1.ID)
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	b2 := f.publish("1.0.0-beta.19464.1", "1111111111111111111111111111111111111111")
	var seen []error
	f.upd.Retry = func(err error) (string, bool) { seen = append(seen, err); return "again later", true }

	t.Run("lock held", func(t *testing.T) {
		seen = nil
		_, lock, err := f.reg.LockTracked(f.ctx, f.target, "main", f.sub.ID, time.Second)
		require.NoError(t, err)
		defer lock.Unlock()
		f.upd.LockWait = 50 * time.Millisecond
		defer func() { f.upd.LockWait = 0 }()
		o, err := f.upd.Apply(f.ctx, f.sub.ID, b2.ID)
		require.NoError(t, err)
		assert.Equal(t, maestro.ResultRescheduled, o.Result, o.Message)
		require.Len(t, seen, 1)
		assert.ErrorIs(t, seen[0], updater.ErrRace)
	})

	t.Run("record changed before the push", func(t *testing.T) {
		seen = nil
		before, err := bot.RevParse(f.ctx, f.target, "darc-main-1")
		require.NoError(t, err)
		f.upd.Platform = func(string) (platform.Platform, error) {
			return meddling{Platform: f.plat, afterCloneURL: func() {
				cur, v, err := f.reg.TrackedPullRequest(f.ctx, f.target, "main", f.sub.ID)
				require.NoError(t, err)
				cur.PullRequest.Title = "changed by another update"
				_, err = f.reg.Track(f.ctx, f.target, "main", f.sub.ID, *cur, v)
				require.NoError(t, err)
			}}, nil
		}
		defer func() { f.upd.Platform = func(string) (platform.Platform, error) { return f.plat, nil } }()
		o, err := f.upd.Apply(f.ctx, f.sub.ID, b2.ID)
		require.NoError(t, err)
		assert.Equal(t, maestro.ResultRescheduled, o.Result, o.Message)
		require.Len(t, seen, 1)
		assert.ErrorIs(t, seen[0], updater.ErrRace)
		assert.Contains(t, seen[0].Error(), "nothing was pushed")
		after, err := bot.RevParse(f.ctx, f.target, "darc-main-1")
		require.NoError(t, err)
		assert.Equal(t, before, after, "nothing pushed")

		f.upd.Retry = nil
		defer func() {
			f.upd.Retry = func(err error) (string, bool) { seen = append(seen, err); return "again later", true }
		}()
		o, err = f.upd.Apply(f.ctx, f.sub.ID, b2.ID)
		require.NoError(t, err)
		assert.Equal(t, maestro.ResultConflict, o.Result, "a race nobody retries: %s", o.Message)
	})
}

// TestApplyMergesItsPartWhenTheRecordChangesAfterThePush: the record changes
// after the update pushed and updated the pull request (another update that
// lost the lock wrote its part). The final write does not give up — the
// commit is on the branch and the pull request's text changed — but merges
// this subscription's part into the record it finds.
func TestApplyMergesItsPartWhenTheRecordChangesAfterThePush(t *testing.T) {
	f := newFixture(t, "sourcelink-0074a21d83")
	b1 := f.publish("1.0.0-beta.19463.3", "7b731032220c21a3ed0021c72757b1f3122579b2")
	o, err := f.upd.Apply(f.ctx, f.sub.ID, b1.ID)
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	first, _, err := f.reg.TrackedPullRequest(f.ctx, f.target, "main", f.sub.ID)
	require.NoError(t, err)
	require.Len(t, first.Updates, 1)
	require.Len(t, first.Updates[0].Dependencies, 1, "the record says what the update moved")
	moved := first.Updates[0].Dependencies[0]
	assert.Equal(t, "1.0.0-beta.19463.3", moved.ToVersion)
	other := maestro.SubscriptionUpdate{SubscriptionID: "00000000-0000-0000-0000-000000000042", BuildID: 42, SourceRepository: "https://github.com/dotnet/other"}
	f.upd.Platform = func(string) (platform.Platform, error) {
		return meddling{Platform: f.plat, afterUpdate: func() {
			cur, v, err := f.reg.TrackedPullRequest(f.ctx, f.target, "main", f.sub.ID)
			require.NoError(t, err)
			cur.Updates = append(cur.Updates, other)
			_, err = f.reg.Track(f.ctx, f.target, "main", f.sub.ID, *cur, v)
			require.NoError(t, err)
		}}, nil
	}
	b2 := f.publish("1.0.0-beta.19464.1", "1111111111111111111111111111111111111111")
	o, err = f.upd.Apply(f.ctx, f.sub.ID, b2.ID)
	require.NoError(t, err)
	require.Equal(t, maestro.ResultUpdated, o.Result, o.Message)
	tracked, _, err := f.reg.TrackedPullRequest(f.ctx, f.target, "main", f.sub.ID)
	require.NoError(t, err)
	require.NotNil(t, tracked)
	// The dependency moves from the target's version, which the first part
	// recorded, to b2's.
	moved.ToVersion = "1.0.0-beta.19464.1"
	assert.ElementsMatch(t, []maestro.SubscriptionUpdate{other, {SubscriptionID: f.sub.ID, BuildID: b2.ID, SourceRepository: arcade,
		Dependencies: []maestro.DependencyUpdate{moved}}}, tracked.Updates)
	head, err := bot.RevParse(f.ctx, f.target, "darc-main-1")
	require.NoError(t, err)
	assert.Equal(t, head, tracked.HeadCommit, "the record names the pushed head")
	assert.Equal(t, 1, tracked.PullRequest.Number)
}

// TestApplyLosingTheClaimPushesNothing: another update claims the target's
// new pull request while this one prepares its branch. The claim comes
// before the push, so the loser leaves no orphan branch, and its attempt is
// a race to retry.
func TestApplyLosingTheClaimPushesNothing(t *testing.T) {
	f := newFixture(t, "sourcelink-0074a21d83")
	theirs := maestro.TrackedPullRequest{PullRequest: maestro.PullRequest{Repository: f.target, HeadBranch: "darc-main-theirs", BaseBranch: "main"}}
	f.upd.Platform = func(string) (platform.Platform, error) {
		return meddling{Platform: f.plat, afterCloneURL: func() {
			_, err := f.reg.Track(f.ctx, f.target, "main", f.sub.ID, theirs, "")
			require.NoError(t, err)
		}}, nil
	}
	var seen []error
	f.upd.Retry = func(err error) (string, bool) { seen = append(seen, err); return "again later", true }
	b := f.publish("1.0.0-beta.19463.3", "7b731032220c21a3ed0021c72757b1f3122579b2")
	o, err := f.upd.Apply(f.ctx, f.sub.ID, b.ID)
	require.NoError(t, err)
	assert.Equal(t, maestro.ResultRescheduled, o.Result, o.Message)
	require.Len(t, seen, 1)
	assert.ErrorIs(t, seen[0], updater.ErrRace)
	out, err := exec.Command("git", "-C", f.target, "for-each-ref", "--format=%(refname)", "refs/heads/").Output()
	require.NoError(t, err)
	assert.Equal(t, "refs/heads/main\n", string(out), "no orphan branch")
	got, _, err := f.reg.TrackedPullRequest(f.ctx, f.target, "main", f.sub.ID)
	require.NoError(t, err)
	assert.Equal(t, &theirs, got, "the winner's claim stays")
}

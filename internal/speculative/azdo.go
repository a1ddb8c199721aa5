package speculative

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/manifest"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/service"
)

// The queue-time variables a product build through Azure DevOps sets on
// the builds it queues (docs/pipelines.md, "Speculative product builds"),
// and the triggerInfo entry that marks them.
const (
	// VariableUpdate carries the repository's update file (docs/update-file.md),
	// as compact JSON: the pipeline applies it (`maestro deps update
	// --from-file`) before it builds.
	VariableUpdate = "MaestroSpeculativeUpdate"
	// VariableProductBuild carries the product build's id: a pipeline that
	// sees it does not publish (the product build publishes what it built
	// as a speculative build).
	VariableProductBuild = "MaestroProductBuild"
	// TriggerInfoProductBuild is the triggerInfo entry naming the product
	// build, which the Builds API returns with the build: `maestro serve`'s
	// publish trigger leaves such a build alone.
	TriggerInfoProductBuild = "maestro.productBuild"
)

// AzureDevOps runs product builds through Azure DevOps: for each
// repository it computes the update file from the speculative builds of its
// upstream repositories (the update every subscription applies, planned on
// a clone of the repository at its commit), queues the pipeline of its
// official builds (Plan's Definition) at that commit with the update file
// and the product build's id as queue-time variables, polls the Builds API
// with back-off until the build completes, downloads its AssetManifests
// artifact and publishes the manifests as a speculative build (no channel),
// as `maestro serve`'s publish trigger publishes a build (service.PipelineBuild
// with the job's variables read back from the Builds API).
type AzureDevOps struct {
	Registry *registry.Registry
	// Connect connects to the organization of an Azure DevOps account (a
	// build's azureDevOpsAccount) and returns the organization's URL.
	Connect func(account string) (*azuredevops.Connection, string, error)
	// Platform is the platform that clones a repository (its dependency
	// files are read to plan its update).
	Platform func(repo string) (platform.Platform, error)
	// Parallel bounds the repositories built at once (0: 4).
	Parallel int
	Now      func() time.Time
	// PollFirst is the wait before the first look at a queued build (0:
	// 2 s); each wait doubles it, up to PollMax (0: 30 s).
	PollFirst, PollMax time.Duration
	// Timeout bounds the wait for one build (0: 6 h): a build still
	// running then fails its repository.
	Timeout time.Duration
}

// Run builds plan p (made by MakePlanOn with PlatformAzureDevOps) and
// returns its report, recorded in the registry. A build that fails (or is
// cancelled, or does not complete within Timeout) fails its repository and
// skips its downstream, with the reason; a partially succeeded build (its
// tests failed) is published and makes its repository partially
// succeeded, and the run goes on. The error is about the run itself.
func (a *AzureDevOps) Run(ctx context.Context, p *Plan) (maestro.ProductBuild, error) {
	work, err := os.MkdirTemp("", "maestro-speculative-")
	if err != nil {
		return maestro.ProductBuild{}, fmt.Errorf("make a scratch folder for the product build: %w", err)
	}
	defer os.RemoveAll(work)
	now := clock(a.Now)
	return run(ctx, a.Registry, p, PlatformAzureDevOps, a.Parallel, now, func(ctx context.Context, runID string, i int, n Node, st *state, ups []*state) {
		a.build(ctx, runID, filepath.Join(work, fmt.Sprint(i)), n, st, ups, now)
	})
}

func (a *AzureDevOps) build(ctx context.Context, runID, dir string, n Node, st *state, ups []*state, now func() time.Time) {
	fail := func(format string, args ...any) {
		st.entry.Result, st.entry.Reason = maestro.SpeculativeFailed, fmt.Sprintf(format, args...)
	}
	d := n.Definition
	u, depsOn, err := a.updateFile(ctx, dir, n, ups)
	if err != nil {
		fail("%v", err)
		return
	}
	data, err := json.Marshal(u)
	if err != nil {
		fail("encode its update file: %v", err)
		return
	}
	conn, org, err := a.Connect(d.Account)
	if err != nil {
		fail("connect to Azure DevOps account %s: %v", d.Account, err)
		return
	}
	req := azdo.BuildRequest{
		Project: d.Project, DefinitionID: d.ID, SourceBranch: n.Branch, SourceVersion: n.Commit,
		Parameters:  [][2]string{{VariableUpdate, string(data)}, {VariableProductBuild, runID}},
		TriggerInfo: map[string]string{TriggerInfoProductBuild: runID},
	}
	q, err := azdo.QueueBuild(ctx, conn, req)
	if err != nil {
		fail("queue definition %d of %s/%s (recorded with build %d): %v", d.ID, d.Account, d.Project, d.FromBuild, err)
		return
	}
	st.entry.AzureDevOpsBuildID, st.entry.AzureDevOpsBuildURL = q.ID, q.URL
	b, err := a.wait(ctx, conn, d.Project, q)
	if err != nil {
		fail("%v", err)
		return
	}
	what := fmt.Sprintf("Azure DevOps build %s (id %d)", deref(b.BuildNumber), q.ID)
	result := deref(b.Result)
	switch result {
	case build.BuildResultValues.Succeeded:
		st.entry.Result = maestro.SpeculativeSucceeded
	case build.BuildResultValues.PartiallySucceeded:
		st.entry.Result, st.entry.Reason = maestro.SpeculativePartiallySucceeded, fmt.Sprintf("%s partially succeeded (a test or another step that may fail failed): %s", what, q.URL)
	default:
		fail("%s %s: %s", what, orNone(string(result)), q.URL)
		return
	}
	files, err := azdo.ArtifactFiles(ctx, conn, d.Project, q.ID, azdo.AssetManifestsArtifact)
	if err != nil {
		fail("%v", err)
		return
	}
	var ms []*manifest.Manifest
	for _, f := range files {
		if !strings.EqualFold(path.Ext(f.Path), ".xml") {
			continue
		}
		m, err := manifest.Parse(f.Data, azdo.AssetManifestsArtifact+"/"+f.Path)
		if err != nil {
			fail("%s: %v", what, err)
			return
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		fail("artifact %s of %s holds no manifest (*.xml)", azdo.AssetManifestsArtifact, what)
		return
	}
	vars := azdo.JobVariables(org, b)
	rec, err := service.PipelineBuild(ms, func(k string) string { return vars[k] }, maestro.Build{Repository: n.Repository, Branch: n.Branch, Commit: n.Commit}, now())
	if err != nil {
		fail("%s: %v", what, err)
		return
	}
	if rec.AzureDevOpsBuildID != q.ID {
		fail("the manifests of %s name Azure DevOps build %d", what, rec.AzureDevOpsBuildID)
		return
	}
	if !repourl.SameRepository(rec.Repository, n.Repository) {
		fail("the manifests of %s are of repository %s, not %s", what, rec.Repository, n.Repository)
		return
	}
	rec.Repository, rec.Branch = n.Repository, n.Branch
	rec.Dependencies = depsOn
	rec.ProductBuild = runID
	res, err := a.Registry.PublishSpeculative(ctx, rec, registry.SpeculativeOptions{NoDefaultChannels: true})
	if err != nil {
		fail("publish %s as a speculative build: %v", what, err)
		return
	}
	st.build, st.entry.BuildID = res.Build, res.Build.ID
}

// updateFile is the update that the speculative builds of ups make to n:
// planned, for each of them, as a subscription's update would be
// (flow.PlanUpdate) against n's dependency files at its commit, and tried
// on them (a dry run), so that an update the pipeline could not apply
// fails here, before anything is queued.
func (a *AzureDevOps) updateFile(ctx context.Context, dir string, n Node, ups []*state) (deps.UpdateFile, []maestro.BuildDependency, error) {
	u := deps.UpdateFile{Updates: []deps.Update{}}
	var depsOn []maestro.BuildDependency
	if len(ups) == 0 {
		return u, nil, nil
	}
	p, err := a.Platform(n.Repository)
	if err != nil {
		return u, nil, fmt.Errorf("clone %s: %w", n.Repository, err)
	}
	url, err := p.CloneURL(n.Repository)
	if err != nil {
		return u, nil, fmt.Errorf("clone %s: %w", n.Repository, err)
	}
	src := filepath.Join(dir, "src")
	if err := p.Git().Clone(ctx, url, src, n.Branch); err != nil {
		return u, nil, fmt.Errorf("clone %s: %w", n.Branch, err)
	}
	if err := p.Git().ResetHard(ctx, src, n.Commit); err != nil {
		return u, nil, fmt.Errorf("check out %s: %w", n.Commit, err)
	}
	listing, err := deps.List(src)
	if err != nil {
		return u, nil, fmt.Errorf("read its dependency files at %s: %w", n.Commit, err)
	}
	seen := map[string]bool{}
	for _, us := range ups {
		s := maestro.Subscription{SourceRepository: us.entry.Repository, TargetRepository: n.Repository, TargetBranch: n.Branch}
		plan := flow.PlanUpdate(us.build, s, listing)
		for _, up := range plan.Update.Updates {
			if k := strings.ToLower(up.Name); !seen[k] {
				seen[k] = true
				u.Updates = append(u.Updates, up)
			}
		}
		if u.DotnetSdk == nil {
			u.DotnetSdk = plan.Update.DotnetSdk
		}
		for feed, ids := range plan.Update.FeedPackages {
			if u.FeedPackages == nil {
				u.FeedPackages = map[string][]string{}
			}
			u.FeedPackages[feed] = append(u.FeedPackages[feed], ids...)
		}
		depsOn = append(depsOn, maestro.BuildDependency{BuildID: us.build.ID, IsProduct: true})
	}
	if _, err := deps.ApplyUpdateFile(ctx, src, u, deps.Options{DryRun: true, Coherency: registry.Lookup{Reg: a.Registry}}); err != nil {
		return u, nil, fmt.Errorf("the update from the builds upstream does not apply at %s: %w", n.Commit, err)
	}
	return u, depsOn, nil
}

// wait polls the Builds API for build q until it completes: first after
// PollFirst, then after twice the last wait, up to PollMax, for at most
// Timeout; ctx ends it early.
func (a *AzureDevOps) wait(ctx context.Context, conn *azuredevops.Connection, project string, q azdo.Queued) (*build.Build, error) {
	first, most, limit := a.PollFirst, a.PollMax, a.Timeout
	if first <= 0 {
		first = 2 * time.Second
	}
	if most <= 0 {
		most = 30 * time.Second
	}
	if limit <= 0 {
		limit = 6 * time.Hour
	}
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	errs := 0
	for d := first; ; d = min(2*d, most) {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("stopped waiting for Azure DevOps build %d (%s): %w", q.ID, q.URL, context.Cause(ctx))
		case <-deadline.C:
			t.Stop()
			return nil, fmt.Errorf("Azure DevOps build %d did not complete within %s: %s", q.ID, limit, q.URL)
		case <-t.C:
		}
		b, err := azdo.Build(ctx, conn, project, q.ID)
		if err != nil {
			// The service not answering once is no reason to give up on
			// the build; three times in a row, or a build it lost, is.
			if errs++; errs < 3 && maestro.KindOf(err) != maestro.KindNotFound {
				continue
			}
			return nil, fmt.Errorf("read Azure DevOps build %d: %w", q.ID, err)
		}
		errs = 0
		if deref(b.Status) == build.BuildStatusValues.Completed {
			return b, nil
		}
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func orNone(s string) string {
	if s == "" {
		return "completed without a result"
	}
	return s
}

package policy_test

import (
	"fmt"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/props"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/policy"
)

// bigState is a large product repository's pull request: 150 dependencies
// from 30 repositories (every fifth a coherent child of the next repository's), their builds with
// product dependencies on each other, 20 checks, 5 reviews, 3 commits and
// an update of 40 dependencies.
func bigState() policy.PullRequestState {
	var ds, before []dep
	var gen []props.GenDependency
	var builds []maestro.Build
	var moved []maestro.DependencyUpdate
	for r := range 30 {
		uri := fmt.Sprintf("https://github.com/dotnet/repo%02d", r)
		sha := fmt.Sprintf("%040x", r+1)
		b := maestro.Build{ID: 1000 + r, Repository: uri, Commit: sha}
		if r > 0 {
			b.Dependencies = []maestro.BuildDependency{{BuildID: 1000 + r - 1, IsProduct: true}}
		}
		for i := range 5 {
			name := fmt.Sprintf("Microsoft.Repo%02d.Package%d", r, i)
			d := dep{name: name, version: "10.0.0-preview.1.25101.1", uri: uri, sha: sha}
			if i == 4 && r < 29 {
				// Follows the next repository's build, which was built
				// with this one's.
				d.parent = fmt.Sprintf("Microsoft.Repo%02d.Package0", r+1)
			}
			ds = append(ds, d)
			old := d
			old.version = "10.0.0-preview.1.25100.9"
			before = append(before, old)
			gen = append(gen, props.GenDependency{Name: name, Version: d.version, URI: uri})
			b.Assets = append(b.Assets, maestro.Asset{Name: name, Version: d.version})
			if len(moved) < 40 {
				moved = append(moved, move(name, "10.0.0-preview.1.25100.9", d.version))
			}
		}
		builds = append(builds, b)
	}
	var checks []maestro.Check
	for i := range 20 {
		checks = append(checks, maestro.Check{Name: fmt.Sprintf("ci-%d", i), State: maestro.CheckSuccess})
	}
	head := "3f1c2a9d8b7e6f5a4c3b2a1908f7e6d5c4b3a291"
	return policy.PullRequestState{
		Host: platform.Status{HeadCommit: head, Checks: checks,
			Reviews: []platform.Review{{Reviewer: "a", State: platform.ReviewApproved}, {Reviewer: "b", State: platform.ReviewCommented}},
			Commits: []platform.Commit{{SHA: head, AuthorEmail: bot}, {SHA: head, AuthorEmail: bot}, {SHA: head, AuthorEmail: bot}}},
		BotEmails: []string{bot},
		Updates:   updates(moved...),
		Head: policy.Files{policy.VersionDetailsXMLPath: details(ds...), policy.VersionsPropsPath: []byte(versionsProps),
			policy.VersionDetailsPropsPath: props.Generate(gen, "\n")},
		Target: policy.Files{policy.VersionDetailsXMLPath: details(before...)},
		Builds: builds,
	}
}

// BenchmarkEvaluateStandard: every policy on a large pull request, with the
// files parsed afresh each time (no platform call is made here: the state is
// what one Platform.Status read and the caller's file reads return).
func BenchmarkEvaluateStandard(b *testing.B) {
	s := bigState()
	std := []maestro.MergePolicy{{Name: maestro.PolicyStandard}}
	if res := policy.Evaluate(std, s); !res.AllSucceeded {
		b.Fatalf("the benchmark's pull request should pass: %+v", res.Policies)
	}
	b.ReportAllocs()
	for b.Loop() {
		policy.Evaluate(std, s)
	}
}

// BenchmarkCacheKey: the key a cached decisive result is looked up by.
func BenchmarkCacheKey(b *testing.B) {
	std := []maestro.MergePolicy{{Name: maestro.PolicyStandard, Properties: map[string]any{"ignoreChecks": []any{"flaky"}}}}
	b.ReportAllocs()
	for b.Loop() {
		policy.CacheKey(std, "3f1c2a9d8b7e6f5a4c3b2a1908f7e6d5c4b3a291")
	}
}

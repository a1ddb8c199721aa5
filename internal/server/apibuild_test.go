package server_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/local"
)

// TestAPIBuildOfAnyID: GET /api/builds/{id} on the local store answers an
// official build, a speculative build (speculative, its pull request, the
// mainline build it was promoted to), the mainline build promoted from it
// and a speculative build of a branch, as `maestro build show` shows them
// (registry.AnyBuild); an unknown id, official or speculative, is 404 with
// a message. Every answer is checked against the OpenAPI document.
func TestAPIBuildOfAnyID(t *testing.T) {
	ctx := t.Context()
	const repo = "https://github.com/dotnet/arcade"
	st, err := local.Open(t.TempDir())
	require.NoError(t, err)
	reg := registry.New(st)
	_, _, err = reg.Init(ctx)
	require.NoError(t, err)
	ch, err := reg.AddChannel(ctx, ".NET 10", "product")
	require.NoError(t, err)
	_, err = reg.AddDefaultChannel(ctx, maestro.DefaultChannel{Repository: repo, Branch: "main", ChannelID: ch.ID, Enabled: true})
	require.NoError(t, err)
	official := publish(t, reg, "1111111111111111111111111111111111111111", "2.0.0", ch.ID)

	specBuild := func(commit, branch, version string) maestro.Build {
		return maestro.Build{Repository: repo, Branch: branch, Commit: commit,
			DateProduced: time.Date(2026, 12, 5, 11, 0, 0, 0, time.UTC),
			Assets: []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: version,
				Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.example.com/feed/index.json"}}}}}
	}
	pr := &maestro.BuildPullRequest{URL: repo + "/pull/7", HeadCommit: "4444444444444444444444444444444444444444", TargetBranch: "main"}
	res, err := reg.PublishSpeculative(ctx, specBuild("3333333333333333333333333333333333333333", "refs/pull/7/merge", "3.0.0-pr.7"),
		registry.SpeculativeOptions{PullRequest: pr})
	require.NoError(t, err)
	fromPR := res.Build
	spec, err := reg.Speculative(ctx)
	require.NoError(t, err)
	withAssets, err := spec.Build(ctx, fromPR.ID)
	require.NoError(t, err)
	res, err = reg.Promote(ctx, withAssets, registry.PromoteOptions{Branch: "main"})
	require.NoError(t, err)
	promoted := res.Build
	res, err = reg.PublishSpeculative(ctx, specBuild("5555555555555555555555555555555555555555", "feature/x", "3.0.0-x"),
		registry.SpeculativeOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	fromBranch := res.Build

	base, _ := apiServer(t, reg, "")
	c := client{t: t, url: base, token: readToken, doc: openAPI(t), cov: &coverage{}}
	id := func(n int) string { return strconv.Itoa(n) }
	twin := []any{map[string]any{"id": float64(registry.SpeculativeTwinID(ch.ID)), "name": ".NET 10 (speculative)", "classification": "product"}}
	for _, tc := range []struct {
		name string
		id   int
		code int
		// want holds fields of the answer; absent, a field absent from it.
		want   map[string]any
		absent []string
	}{
		{name: "official", id: official.ID, code: 200,
			want:   map[string]any{"commit": official.Commit, "branch": "main"},
			absent: []string{"speculative", "pullRequest", "promotable", "promotedFrom", "promotedTo"}},
		{name: "speculative of a pull request, promoted", id: fromPR.ID, code: 200,
			want: map[string]any{"commit": fromPR.Commit, "speculative": true, "branch": "refs/pull/7/merge",
				"pullRequest": map[string]any{"url": pr.URL, "headCommit": pr.HeadCommit, "targetBranch": "main"},
				"promotable":  map[string]any{"shipping": []any{[]any{float64(0), float64(0)}}},
				"promotedTo":  float64(promoted.ID), "channels": twin},
			absent: []string{"promotedFrom"}},
		{name: "promoted from a speculative build", id: promoted.ID, code: 200,
			want:   map[string]any{"commit": fromPR.Commit, "branch": "main", "promotedFrom": float64(fromPR.ID)},
			absent: []string{"speculative", "pullRequest", "promotable", "promotedTo"}},
		{name: "speculative of a branch", id: fromBranch.ID, code: 200,
			want:   map[string]any{"commit": fromBranch.Commit, "speculative": true, "branch": "feature/x", "channels": twin},
			absent: []string{"pullRequest", "promotable", "promotedFrom", "promotedTo"}},
		{name: "unknown official", id: promoted.ID + 1, code: 404},
		{name: "unknown speculative", id: fromBranch.ID + 1, code: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			code, body := c.do("GET", "/api/builds/"+id(tc.id), nil)
			require.Equal(t, tc.code, code, "%s", body)
			var got map[string]any
			require.NoError(t, json.Unmarshal(body, &got), "%s", body)
			if tc.code != 200 {
				assert.Equal(t, map[string]any{"message": "build " + id(tc.id) + " does not exist; `maestro build list` shows the builds"}, got)
				return
			}
			assert.Equal(t, float64(tc.id), got["id"])
			for k, v := range tc.want {
				assert.Equal(t, v, got[k], "%s in %s", k, body)
			}
			for _, k := range tc.absent {
				assert.NotContains(t, got, k, "%s", body)
			}
			// The JSON `maestro build show --id N --output json` prints.
			shown, err := reg.AnyBuild(ctx, tc.id)
			require.NoError(t, err)
			want, err := json.Marshal(shown)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(body))
		})
	}
}

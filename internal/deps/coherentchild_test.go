package deps_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/deps/coherency/memregistry"
	"github.com/maestroplusplus/maestro/internal/deps/internal/sharedfixtures"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// The real eng/Version.Details.xml of dotnet/sourcelink before a production
// update: Microsoft.DotNet.XliffTasks and Microsoft.SourceLink.GitHub carry
// CoherentParentDependency="Microsoft.DotNet.Arcade.Sdk".
const coherentCase = "sourcelink-75a65b1632"

var (
	arcadeSha = strings.Repeat("a", 40)
	xliffSha  = "4234ffac87e305da80597cb46dc0d4a87fc4f7c2"
)

// carryingBuild is an Arcade build that produced the Arcade SDK and, under
// the same name as the coherent child, its own Microsoft.DotNet.XliffTasks;
// it depended on an xliff-tasks build, which is where the child must go.
func carryingBuild() (maestro.Build, *memregistry.Registry) {
	xliff := &maestro.Build{ID: 1, Repository: "https://github.com/dotnet/xliff-tasks", Commit: xliffSha,
		Assets: []maestro.Asset{{Name: "Microsoft.DotNet.XliffTasks", Version: "1.0.0-beta.23312.2"}}}
	sourcelink := &maestro.Build{ID: 2, Repository: "https://github.com/dotnet/sourcelink", Commit: "47c52dd2ebf9edfd40abdcff999c13eb461f6ce2",
		Assets: []maestro.Asset{{Name: "Microsoft.SourceLink.GitHub", Version: "8.0.0-beta.23218.3"}}}
	arcade := &maestro.Build{ID: 3, Repository: "https://github.com/dotnet/arcade", Commit: arcadeSha,
		Dependencies: []maestro.BuildDependency{{BuildID: 1}, {BuildID: 2}},
		Assets: []maestro.Asset{
			{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "8.0.0-beta.23316.6"},
			{Name: "Microsoft.DotNet.XliffTasks", Version: "9.9.9-arcade"},
		}}
	return *arcade, &memregistry.Registry{Builds: []*maestro.Build{xliff, sourcelink, arcade}}
}

func coherentRepo(t *testing.T) string {
	dir := t.TempDir()
	copyTree(t, filepath.Join(sharedfixtures.Dir(t, "maestro-updates"), "cases", coherentCase, "before"), dir)
	return dir
}

// TestCoherentChildNotMatchedByName: a build that carries an asset named like
// a coherent child does not move the child by name; the child follows its
// parent's build, and the change list names it once.
func TestCoherentChildNotMatchedByName(t *testing.T) {
	b, reg := carryingBuild()
	dir := coherentRepo(t)
	l, err := deps.List(dir)
	require.NoError(t, err)

	u := deps.UpdateFromBuild(l, b)
	require.Len(t, u.Updates, 1, "only the Arcade SDK is matched by name")
	assert.Equal(t, "Microsoft.DotNet.Arcade.Sdk", u.Updates[0].Name)
	carried := deps.CoherentCarried(l, b)
	require.Len(t, carried, 1)
	assert.Equal(t, "Microsoft.DotNet.XliffTasks", carried[0].Name)

	res, err := deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{Coherency: reg})
	require.NoError(t, err)
	var xliff []deps.Change
	for _, c := range res.Changed {
		if c.Name == "Microsoft.DotNet.XliffTasks" {
			xliff = append(xliff, c)
		}
	}
	require.Len(t, xliff, 1, "one change, no reversal: %+v", res.Changed)
	assert.Equal(t, deps.Change{Name: "Microsoft.DotNet.XliffTasks", FromVersion: "1.0.0-beta.23261.1", ToVersion: "1.0.0-beta.23312.2",
		FromSha: "a0391b3beff0696561189b5881f8af3b651d64ac", ToSha: xliffSha, ToURI: "https://github.com/dotnet/xliff-tasks",
		CoherentParent: "Microsoft.DotNet.Arcade.Sdk"}, xliff[0])
	vdx := string(readFile(t, dir, "eng/Version.Details.xml"))
	assert.NotContains(t, vdx, "9.9.9-arcade")
	assert.Contains(t, vdx, `Name="Microsoft.DotNet.XliffTasks" Version="1.0.0-beta.23312.2"`)
}

// TestUpdateFileCoherentChildFromParentsBuild: an update file (`deps update
// --from-file`) that moves a coherent child to the same build as its
// parent's update was matched by name, which production never does: the
// child is skipped, says whom it follows, and its version stays. A child
// update from another build — what the coherency pass and the production
// bot's update files hold — still applies.
func TestUpdateFileCoherentChildFromParentsBuild(t *testing.T) {
	b, _ := carryingBuild()
	tests := []struct {
		name     string
		child    deps.Update
		skipped  bool
		wantVers string
	}{
		{"same build as the parent", deps.Update{Name: "Microsoft.DotNet.XliffTasks", Version: "9.9.9-arcade", Sha: arcadeSha, URI: b.Repository}, true, "1.0.0-beta.23261.1"},
		{"the build the parent's build depended on", deps.Update{Name: "Microsoft.DotNet.XliffTasks", Version: "1.0.0-beta.23312.2", Sha: xliffSha, URI: "https://github.com/dotnet/xliff-tasks"}, false, "1.0.0-beta.23312.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := coherentRepo(t)
			u := deps.UpdateFile{Updates: []deps.Update{
				{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "8.0.0-beta.23316.6", Sha: arcadeSha, URI: b.Repository},
				tt.child,
			}}
			res, err := deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{})
			require.NoError(t, err)
			var skip []deps.Skip
			for _, s := range res.Skipped {
				if s.Name == tt.child.Name {
					skip = append(skip, s)
				}
			}
			if tt.skipped {
				require.Len(t, skip, 1)
				assert.Contains(t, skip[0].Reason, "follows Microsoft.DotNet.Arcade.Sdk")
			} else {
				assert.Empty(t, skip)
			}
			assert.Contains(t, string(readFile(t, dir, "eng/Version.Details.xml")), `Name="Microsoft.DotNet.XliffTasks" Version="`+tt.wantVers+`"`)
		})
	}
}

// TestCoherentChildMovesOnce: when an update file moves a coherent child and
// the coherency pass then moves it again, the result lists one change from
// the file's old version to the final one.
func TestCoherentChildMovesOnce(t *testing.T) {
	b, reg := carryingBuild()
	dir := coherentRepo(t)
	u := deps.UpdateFile{Updates: []deps.Update{
		{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "8.0.0-beta.23316.6", Sha: arcadeSha, URI: b.Repository},
		{Name: "Microsoft.DotNet.XliffTasks", Version: "1.0.0-beta.23300.1", Sha: strings.Repeat("e", 40), URI: "https://github.com/dotnet/xliff-tasks"},
	}}
	res, err := deps.ApplyUpdateFile(context.Background(), dir, u, deps.Options{Coherency: reg})
	require.NoError(t, err)
	var names []string
	for _, c := range res.Changed {
		names = append(names, c.Name)
		if c.Name == "Microsoft.DotNet.XliffTasks" {
			assert.Equal(t, "1.0.0-beta.23261.1", c.FromVersion)
			assert.Equal(t, "1.0.0-beta.23312.2", c.ToVersion)
		}
	}
	assert.Equal(t, 1, strings.Count(strings.Join(names, ","), "Microsoft.DotNet.XliffTasks"), "%v", names)
}

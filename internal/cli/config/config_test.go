package config_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/config"
	domain "github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
)

type result struct {
	out, errOut string
	err         error
}

// maestro runs `maestro args...` with the registry in the local store at dir.
func maestro(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &cmdutil.Factory{
		IO: cmdutil.IO{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut},
		Getenv: func(k string) string {
			if k == "MAESTRO_STORE" {
				return "file://" + filepath.ToSlash(dir)
			}
			return ""
		},
		Now:         func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) },
		OpenStore:   storeurl.Open,
		CreateStore: storeurl.Create,
	}
	app := &cli.App{
		Name: "maestro", Writer: &out, ErrWriter: &errOut,
		ExitErrHandler: func(*cli.Context, error) {},
		Commands:       []*cli.Command{config.NewCmd(f)},
	}
	err := app.RunContext(context.Background(), append([]string{"maestro"}, args...))
	return result{out.String(), errOut.String(), err}
}

// newRegistry returns the folder of a new, empty registry.
func newRegistry(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := local.Open(dir)
	require.NoError(t, err)
	_, _, err = registry.New(st).Init(context.Background())
	require.NoError(t, err)
	return dir
}

// snapshot returns every object file of the local store at dir with a hash of its content.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	files := map[string][32]byte{}
	err := filepath.WalkDir(filepath.Join(dir, "data"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		files[path] = sha256.Sum256(data)
		return err
	})
	require.NoError(t, err)
	return files
}

const example = "testdata/maestro.yaml"

func TestApplyExportRoundTrip(t *testing.T) {
	dir, other := newRegistry(t), newRegistry(t)
	r := maestro(t, dir, "", "config", "apply", example)
	require.NoError(t, r.err, r.errOut)
	assert.Contains(t, r.out, `+ channel ".NET 10"`)
	assert.Contains(t, r.out, "Plan: 8 to add, 0 to change, 0 to delete.\n")
	assert.Contains(t, r.out, "created subscription 5b0b0bd6-69f6-4a3a-b5d2-1f0b0fb7a001: \".NET 10\" https://github.com/dotnet/runtime → https://github.com/dotnet/aspnetcore@main\n")
	assert.Equal(t, 3, strings.Count(r.out, "created subscription "))
	assert.True(t, strings.HasSuffix(r.out, "Applied: 8 added, 0 changed, 0 deleted.\n"), r.out)

	exported := filepath.Join(t.TempDir(), "exported.yaml")
	r = maestro(t, dir, "", "config", "export", "--file", exported)
	require.NoError(t, r.err, r.errOut)
	assert.Empty(t, r.out)
	first, err := os.ReadFile(exported)
	require.NoError(t, err)

	r = maestro(t, other, "", "config", "apply", exported)
	require.NoError(t, r.err, r.errOut)
	assert.NotContains(t, r.out, "+ subscription (new)", "exported subscriptions keep their ids")
	r = maestro(t, other, "", "config", "export")
	require.NoError(t, r.err, r.errOut)
	assert.Equal(t, string(first), r.out, "export → apply to an empty registry → export changed the bytes")

	for _, file := range []string{example, exported} {
		r = maestro(t, dir, "", "config", "apply", "--prune", file)
		require.NoError(t, r.err, r.errOut)
		assert.Equal(t, "No changes: the registry matches "+file+".\n", r.out)
	}
}

func TestApplyDryRunWritesNothing(t *testing.T) {
	dir := newRegistry(t)
	require.NoError(t, maestro(t, dir, "", "config", "apply", example).err)
	before := snapshot(t, dir)
	require.NotEmpty(t, before)

	changed := strings.Replace(mustRead(t, example), "updateFrequency: everyWeek", "updateFrequency: everyBuild", 1)
	changed = strings.Replace(changed, "    enabled: false\n", "", 1)
	r := maestro(t, dir, changed, "config", "apply", "--dry-run", "--prune", "-")
	require.NoError(t, r.err, r.errOut)
	assert.Contains(t, r.out, `~ default channel https://github.com/dotnet/runtime@-regex:^release/10\.0(\.\d+xx)?$ → ".NET 10": enabled: false → true`)
	assert.Regexp(t, `~ subscription [0-9a-f-]{36}: updateFrequency: everyWeek → everyBuild\n`, r.out)
	assert.True(t, strings.HasSuffix(r.out, "Plan: 0 to add, 2 to change, 0 to delete.\nDry run: nothing was written.\n"), r.out)
	assert.Equal(t, before, snapshot(t, dir), "--dry-run wrote to the store")

	r = maestro(t, dir, changed, "config", "apply", "-")
	require.NoError(t, r.err, r.errOut)
	assert.NotEqual(t, before, snapshot(t, dir))
	r = maestro(t, dir, changed, "config", "apply", "-")
	require.NoError(t, r.err, r.errOut)
	assert.Equal(t, "No changes: the registry matches <stdin>.\n", r.out)
}

func TestApplyPrune(t *testing.T) {
	dir := newRegistry(t)
	require.NoError(t, maestro(t, dir, "", "config", "apply", example).err)
	small := "channels:\n  - name: .NET Eng - Latest\n    classification: tools\n"

	r := maestro(t, dir, small, "config", "apply", "-")
	require.NoError(t, r.err, r.errOut)
	assert.Equal(t, "No changes: the registry matches <stdin>.\n7 registry object(s) that <stdin> does not list are left alone; --prune deletes them.\n", r.out)

	r = maestro(t, dir, small, "config", "apply", "--prune", "-")
	require.NoError(t, r.err, r.errOut)
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	require.Len(t, lines, 9, r.out)
	for i, prefix := range []string{"- subscription", "- subscription", "- subscription", "- repository policy", "- default channel", "- default channel", "- channel \".NET 10\"", "Plan: 0 to add, 0 to change, 7 to delete.", "Applied: 0 added, 0 changed, 7 deleted."} {
		assert.True(t, strings.HasPrefix(lines[i], prefix), "line %d: %q, want prefix %q", i, lines[i], prefix)
	}
	r = maestro(t, dir, "", "config", "export")
	require.NoError(t, r.err)
	assert.Equal(t, small, r.out)
}

func TestApplyBadFile(t *testing.T) {
	dir := newRegistry(t)
	require.NoError(t, maestro(t, dir, "", "config", "apply", example).err)
	before := snapshot(t, dir)
	bad := `channels:
  - name: .NET 11
subscriptions:
  - channel: .NET 12
    sourceRepository: https://github.com/dotnet/arcade
    targetRepository: https://github.com/dotnet/sdk
    targetBranch: main
    updateFrequency: hourly
    batchable: true
    mergePolicies: [{name: Standard}]
  - id: 5b0b0bd6-69f6-4a3a-b5d2-1f0b0fb7a001
    channel: .NET 10
    sourceRepository: https://github.com/dotnet/runtime
    targetRepository: https://github.com/dotnet/aspnetcore
    targetBranch: release/10.0
    batchable: true
`
	r := maestro(t, dir, bad, "config", "apply", "-")
	require.Error(t, r.err)
	assert.Equal(t, cmdutil.ExitInvalid, cmdutil.ExitCode(r.err))
	assert.Equal(t, "<stdin>: 4 problem(s), listed above; nothing was written", r.err.Error())
	assert.Equal(t, `<stdin>:4: subscriptions[0].channel: unknown channel ".NET 12": it is neither under channels in this file nor in the registry; add it under channels
<stdin>:8: subscriptions[0].updateFrequency: unknown update frequency "hourly"; valid ones: none, everyBuild, twiceDaily, everyDay, everyWeek, everyTwoWeeks, everyMonth
<stdin>:10: subscriptions[0].mergePolicies: a batchable subscription takes no merge policies of its own; list them under repositoryPolicies for https://github.com/dotnet/sdk@main instead
<stdin>:15: subscriptions[1].targetBranch: subscription 5b0b0bd6-69f6-4a3a-b5d2-1f0b0fb7a001 targets branch main in the registry; the target branch cannot change after creation (leave id out to create a new subscription)
`, r.errOut)
	assert.Empty(t, r.out, "no plan for a bad file")
	assert.Equal(t, before, snapshot(t, dir))

	r = maestro(t, dir, "channels:\n  - name: x\n    clasification: y\n", "config", "apply", "-")
	assert.Equal(t, cmdutil.ExitInvalid, cmdutil.ExitCode(r.err))
	assert.Equal(t, "<stdin>:3: channels[0].clasification: unknown key; channels[0] takes name, classification\n", r.errOut)
	assert.Equal(t, before, snapshot(t, dir))
}

// TestApplyNeedsRegistry: without a registry, apply exits 2 naming the way
// to make one and creates nothing; --create makes it once the file is good,
// and never with --dry-run or a bad file.
func TestApplyNeedsRegistry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reg")
	r := maestro(t, dir, "", "config", "apply", example)
	require.Error(t, r.err)
	assert.Equal(t, cmdutil.ExitInvalid, cmdutil.ExitCode(r.err))
	want := "no registry at file://" + filepath.ToSlash(dir) + "; `maestro registry init --store file://" + filepath.ToSlash(dir) + "` creates one"
	assert.Equal(t, want, r.err.Error())
	assertMissing(t, dir)

	r = maestro(t, dir, "", "config", "apply", "--create", "--dry-run", example)
	require.NoError(t, r.err, r.errOut)
	assert.Contains(t, r.out, "Plan: 8 to add")
	assertMissing(t, dir)

	r = maestro(t, dir, "channels:\n  - name: x\n    clasification: y\n", "config", "apply", "--create", "-")
	require.Error(t, r.err)
	assertMissing(t, dir)

	r = maestro(t, dir, "", "config", "apply", "--create", example)
	require.NoError(t, r.err, r.errOut)
	assert.Contains(t, r.out, "Created a registry at file://"+filepath.ToSlash(dir)+".")
	assert.Contains(t, r.out, "Applied: 8 added")
	r = maestro(t, dir, "", "config", "apply", example)
	require.NoError(t, r.err, r.errOut)
	assert.Equal(t, "No changes: the registry matches "+example+".\n", r.out)
}

func assertMissing(t *testing.T, dir string) {
	t.Helper()
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "%s was created: %v", dir, err)
}

// TestApplyPruneKeepsChannelsWithBuilds: --prune refuses to delete a channel
// that holds builds, naming it, unless --delete-channels-with-builds.
func TestApplyPruneKeepsChannelsWithBuilds(t *testing.T) {
	dir := newRegistry(t)
	require.NoError(t, maestro(t, dir, "", "config", "apply", example).err)
	st, err := local.Open(dir)
	require.NoError(t, err)
	reg := registry.New(st)
	ch, err := reg.ChannelByName(context.Background(), ".NET 10")
	require.NoError(t, err)
	_, err = reg.PublishBuild(context.Background(), domain.Build{Repository: "https://github.com/dotnet/other", Branch: "main",
		Commit: strings.Repeat("a", 40), Assets: []domain.Asset{{Name: "A", Version: "1.0.0"}}}, registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	before := snapshot(t, dir)
	small := "channels:\n  - name: .NET Eng - Latest\n    classification: tools\n"

	r := maestro(t, dir, small, "config", "apply", "--prune", "-")
	require.Error(t, r.err)
	assert.Equal(t, cmdutil.ExitInvalid, cmdutil.ExitCode(r.err))
	assert.Equal(t, "<stdin>: channels: channel \".NET 10\" (id 1) holds builds and is not listed, so --prune would delete it; list it under channels, or pass --delete-channels-with-builds\n", r.errOut)
	assert.Equal(t, before, snapshot(t, dir), "nothing written")

	r = maestro(t, dir, small, "config", "apply", "--delete-channels-with-builds", "-")
	assert.Equal(t, cmdutil.ExitInvalid, cmdutil.ExitCode(r.err), "only with --prune")

	r = maestro(t, dir, small, "config", "apply", "--prune", "--delete-channels-with-builds", "-")
	require.NoError(t, r.err, r.errOut)
	assert.Contains(t, r.out, `- channel ".NET 10"`)
	assert.Contains(t, r.out, "7 deleted")
}

func TestApplyUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"config", "apply"}, "config apply takes one FILE argument; got 0"},
		{"two files", []string{"config", "apply", "a.yaml", "b.yaml"}, "config apply takes one FILE argument; got 2"},
		{"missing file", []string{"config", "apply", filepath.Join(dir, "nope.yaml")}, "read configuration: open " + filepath.Join(dir, "nope.yaml") + ": no such file or directory"},
		{"export argument", []string{"config", "export", "out.yaml"}, `config export takes no arguments; got "out.yaml" (use --file)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := maestro(t, dir, "", tt.args...)
			require.Error(t, r.err)
			assert.Equal(t, tt.want, r.err.Error())
			assert.Equal(t, cmdutil.ExitInvalid, cmdutil.ExitCode(r.err))
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

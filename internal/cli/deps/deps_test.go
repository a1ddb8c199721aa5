package deps_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	depscmd "github.com/maestroplusplus/maestro/internal/cli/deps"
	"github.com/maestroplusplus/maestro/internal/deps"
)

// capture returns a run function that records the options it is given.
func capture[O any](got *any) func(*cli.Context, *O) error {
	return func(_ *cli.Context, o *O) error { *got = o; return nil }
}

// parse runs `maestro deps ARGS...` with run functions that capture the
// options instead of doing the work.
func parse(args ...string) (clitest.Result, any) {
	var got any
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("deps",
			depscmd.NewCmdUpdate(f, capture[depscmd.UpdateOptions](&got)),
			depscmd.NewCmdList(f, capture[depscmd.ListOptions](&got)),
			depscmd.NewCmdVerify(f, capture[depscmd.VerifyOptions](&got)),
			depscmd.NewCmdAdd(f, capture[depscmd.AddOptions](&got)))
	}, append([]string{"deps"}, args...)...)
	return res, got
}

func TestParse(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		args []string
		want any
	}{
		{[]string{"list"}, &depscmd.ListOptions{Dir: "."}},
		{[]string{"list", "--dir", "/src/app", "--output", "json"}, &depscmd.ListOptions{Dir: "/src/app", JSON: true}},
		{[]string{"verify", "--dir", "/src/app"}, &depscmd.VerifyOptions{Dir: "/src/app"}},
		{[]string{"update", "--from-file", "u.json"}, &depscmd.UpdateOptions{Dir: ".", Mode: depscmd.FromFile, FromFile: "u.json"}},
		{[]string{"update", "--dir", "r", "--build", "12", "--exclude-asset", "Microsoft.*", "--exclude-asset", "x",
			"--arcade-checkout", "/src/arcade", "--dry-run", "--output", "json"},
			&depscmd.UpdateOptions{Dir: "r", Mode: depscmd.FromBuild, BuildID: 12, JSON: true,
				Options: deps.Options{DryRun: true, ExcludeAssets: []string{"Microsoft.*", "x"}, ArcadeCheckout: "/src/arcade"}}},
		{[]string{"update", "--coherency-only", "--store", "file:///s"}, &depscmd.UpdateOptions{Dir: ".", Mode: depscmd.CoherencyOnly}},
		{[]string{"update", "--build", "0"}, &depscmd.UpdateOptions{Dir: ".", Mode: depscmd.FromBuild}},
		{[]string{"add", "--name", "Contoso.Widgets", "--version", "2.1.0", "--sha", sha, "--uri", "https://github.com/contoso/widgets"},
			&depscmd.AddOptions{Dir: ".", Dependency: deps.NewDependency{Name: "Contoso.Widgets", Version: "2.1.0", Sha: sha, URI: "https://github.com/contoso/widgets", Type: deps.Product}}},
		{[]string{"add", "--dir", "r", "--name", "Microsoft.DotNet.Arcade.Sdk", "--version", "10.0.0-beta.1", "--sha", sha, "--uri", "u",
			"--type", "Toolset", "--pinned", "--coherent-parent", "P", "--skip-property", "--dry-run"},
			&depscmd.AddOptions{Dir: "r", DryRun: true, Dependency: deps.NewDependency{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "10.0.0-beta.1", Sha: sha, URI: "u",
				Type: deps.Toolset, Pinned: true, CoherentParent: "P", SkipProperty: true}}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res, got := parse(tt.args...)
			assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseBadInput(t *testing.T) {
	const oneMode = "deps update: give exactly one of --from-file, --build or --coherency-only"
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"list", "--output", "yaml"}, `--output "yaml": use table or json`},
		{[]string{"list", "--store", "file:///s"}, "flag provided but not defined: -store"},
		{[]string{"verify", "--output", "x"}, `--output "x"`},
		{[]string{"update"}, oneMode},
		{[]string{"update", "--from-file", "u.json", "--build", "3"}, oneMode},
		{[]string{"update", "--build", "3", "--coherency-only"}, oneMode},
		{[]string{"update", "--build", "three"}, `invalid value "three" for flag -build`},
		{[]string{"update", "--coherency-only", "--output", "yaml"}, `--output "yaml"`},
		{[]string{"add", "--name", "n", "--version", "1.0.0", "--sha", "s"}, `Required flag "uri" not set`},
		{[]string{"add", "--name", "n", "--version", "1.0.0", "--sha", "s", "--uri", "u", "--type", "library"}, `--type "library": use product or toolset`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res, got := parse(tt.args...)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Equal(t, 1, strings.Count(res.ErrOut, "\n"), "the usage error is printed once: %q", res.ErrOut)
			assert.Nil(t, got, "nothing ran")
		})
	}
}

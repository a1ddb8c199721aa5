package publishtrigger_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	maestrocli "github.com/maestroplusplus/maestro/internal/cli"
	"github.com/maestroplusplus/maestro/internal/cli/clitest"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/publishtrigger"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

func capture[O any](got *any) func(*cli.Context, *O) error {
	return func(_ *cli.Context, o *O) error { *got = o; return nil }
}

func parse(args ...string) (clitest.Result, any) {
	var got any
	res := clitest.Run(func(f *cmdutil.Factory) *cli.Command {
		return clitest.Noun("publish-trigger",
			publishtrigger.NewCmdSet(f, capture[publishtrigger.PipelineOptions](&got)),
			publishtrigger.NewCmdList(f, capture[publishtrigger.ListOptions](&got)),
			publishtrigger.NewCmdRemove(f, capture[publishtrigger.PipelineOptions](&got)))
	}, append([]string{"publish-trigger"}, args...)...)
	return res, got
}

const pipelineURL = "https://dev.azure.com/dnceng/internal/_build?definitionId=679"

func TestParse(t *testing.T) {
	want := maestro.PublishTrigger{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 679}
	prs := want
	prs.PullRequests = true
	tests := []struct {
		args []string
		want any
	}{
		{[]string{"set", "--pipeline", pipelineURL}, &publishtrigger.PipelineOptions{Trigger: want}},
		{[]string{"set", "--pipeline", "https://dnceng.visualstudio.com/internal/_build?definitionId=679"}, &publishtrigger.PipelineOptions{Trigger: want}},
		{[]string{"remove", "--pipeline", pipelineURL}, &publishtrigger.PipelineOptions{Trigger: want}},
		{[]string{"set", "--pull-requests", "--pipeline", pipelineURL}, &publishtrigger.PipelineOptions{Trigger: prs}},
		{[]string{"remove", "--pipeline", pipelineURL, "--pull-requests"}, &publishtrigger.PipelineOptions{Trigger: prs}},
		{[]string{"list"}, &publishtrigger.ListOptions{}},
		{[]string{"list", "--output", "json"}, &publishtrigger.ListOptions{JSON: true}},
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
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"set"}, `Required flag "pipeline" not set`},
		{[]string{"set", "--pipeline", "https://dev.azure.com/dnceng/internal/_build"}, "--pipeline: pipeline URL"},
		{[]string{"set", "--pipeline", "https://u:p@dev.azure.com/dnceng/internal/_build?definitionId=1"}, "remove the user name and password"},
		{[]string{"set", "--pipeline", pipelineURL, "extra"}, `takes no arguments; got "extra"`},
		{[]string{"remove"}, `Required flag "pipeline" not set`},
		{[]string{"list", "--output", "x"}, `--output "x"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res, got := parse(tt.args...)
			assert.Equal(t, cmdutil.ExitInvalid, res.Code)
			assert.Contains(t, res.ErrOut, tt.wantErr)
			assert.Nil(t, got, "nothing ran")
		})
	}
}

func runOn(t *testing.T, st store.Store, env map[string]string, args ...string) clitest.Result {
	t.Helper()
	f, out, errOut := clitest.Factory()
	f.Getenv = func(k string) string { return env[k] }
	f.OpenStore = func(context.Context, string, func(string) string) (store.Store, error) { return st, nil }
	app := maestrocli.NewApp(f)
	app.Commands = []*cli.Command{publishtrigger.NewCmd(f)}
	code := maestrocli.RunApp(context.Background(), app, append([]string{"maestro", "publish-trigger"}, args...), f)
	return clitest.Result{Code: code, Out: out.String(), ErrOut: errOut.String()}
}

// TestSetListRemove runs the commands on a registry: set twice keeps one,
// list shows it in text and JSON, remove removes it and a second remove is
// not found; an organization no token would be sent to is refused and
// writes nothing.
func TestSetListRemove(t *testing.T) {
	st := mem.New()
	_, _, err := registry.New(st).Init(context.Background())
	require.NoError(t, err)
	ok := func(args ...string) string {
		t.Helper()
		r := runOn(t, st, nil, args...)
		require.Equal(t, cmdutil.ExitOK, r.Code, r.ErrOut)
		return r.Out
	}
	assert.Equal(t, "publish trigger set for definition 679 of https://dev.azure.com/dnceng/internal\n", ok("set", "--pipeline", pipelineURL))
	assert.Equal(t, "definition 679 of https://dev.azure.com/dnceng/internal was opted in already\n", ok("set", "--pipeline", pipelineURL))
	// The pipeline's pull request builds opt in apart.
	assert.Equal(t, "publish trigger set for the pull request builds of definition 679 of https://dev.azure.com/dnceng/internal\n", ok("set", "--pipeline", pipelineURL, "--pull-requests"))
	assert.Equal(t, "the pull request builds of definition 679 of https://dev.azure.com/dnceng/internal was opted in already\n", ok("set", "--pipeline", pipelineURL, "--pull-requests"))
	assert.Equal(t, ""+
		"ORGANIZATION                  PROJECT   DEFINITION  BUILDS\n"+
		"https://dev.azure.com/dnceng  internal  679         official\n"+
		"https://dev.azure.com/dnceng  internal  679         pull requests\n", ok("list"))
	var ts []maestro.PublishTrigger
	require.NoError(t, json.Unmarshal([]byte(ok("list", "--output", "json")), &ts))
	assert.Equal(t, []maestro.PublishTrigger{{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 679},
		{Organization: "https://dev.azure.com/dnceng", Project: "internal", DefinitionID: 679, PullRequests: true}}, ts)
	assert.Contains(t, ok("list", "--output", "json"), `"definitionId": 679`)
	assert.Equal(t, "publish trigger removed for the pull request builds of definition 679 of https://dev.azure.com/dnceng/internal\n", ok("remove", "--pull-requests", "--pipeline", pipelineURL))

	r := runOn(t, st, nil, "set", "--pipeline", "https://tfs.example.com/tfs/internal/_build?definitionId=3")
	assert.Equal(t, cmdutil.ExitInvalid, r.Code)
	assert.Contains(t, r.ErrOut, "MAESTRO_AZDO_SERVER_URLS")
	r = runOn(t, st, map[string]string{"MAESTRO_AZDO_SERVER_URLS": "https://tfs.example.com/tfs"}, "set", "--pipeline", "https://tfs.example.com/tfs/internal/_build?definitionId=3")
	assert.Equal(t, cmdutil.ExitOK, r.Code, "a configured Azure DevOps Server: %s", r.ErrOut)
	ok("remove", "--pipeline", "https://tfs.example.com/tfs/internal/_build?definitionId=3")

	assert.Equal(t, "publish trigger removed for definition 679 of https://dev.azure.com/dnceng/internal\n", ok("remove", "--pipeline", pipelineURL))
	r = runOn(t, st, nil, "remove", "--pipeline", pipelineURL)
	assert.Equal(t, cmdutil.ExitNotFound, r.Code, r.ErrOut)
	assert.Contains(t, r.ErrOut, "no publish trigger for definition 679")
	r = runOn(t, st, nil, "remove", "--pipeline", pipelineURL, "--pull-requests")
	assert.Equal(t, cmdutil.ExitNotFound, r.Code, r.ErrOut)
	assert.Contains(t, r.ErrOut, "no publish trigger for the pull request builds of definition 679")
	assert.Equal(t, "ORGANIZATION  PROJECT  DEFINITION  BUILDS\n", ok("list"))
}

package server_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/mem"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
	"github.com/maestroplusplus/maestro/test/proctest"
)

// TestEventWorkIsBounded: an Azure DevOps organization that takes the
// request and never answers does not hold the event for good. The attempt
// ends after eventTimeout as a failure that is retried, so the worker, the
// event's claim and the repository's later events are free again (the
// outgoing clients have no timeout of their own).
func TestEventWorkIsBounded(t *testing.T) {
	reg := newRegistry(t)
	hang := proctest.Silent(t)
	org := hang.URL + "/dnceng"
	ghs := githubdouble.NewServer(t)
	repo := ghs.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"a.txt": "1\n"}})
	require.NoError(t, reg.AddMirror(t.Context(), maestro.Mirror{SourceRepository: ghs.URL() + "/dotnet/runtime", TargetRepository: org + "/internal/_git/dotnet-runtime",
		Branches: []maestro.MirrorBranch{{Pattern: "main", Mode: maestro.MirrorFastForward}},
		Pipeline: maestro.UpdatePipeline{Organization: org, Project: "internal", PipelineID: 7}}))
	file := filepath.Join(t.TempDir(), "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte("eventTimeout: 2s\n"), 0o600))
	a := startRoutes(t, reg, routes{github: true, config: file,
		env: map[string]string{"MAESTRO_AZDO_TOKEN": azdoPAT, wire.EnvAzdoServerURLs: org, wire.EnvAllowHTTPLoopback: "true"}})
	repo.AddHook(githubdouble.HookSpec{URL: a.url + "/webhooks/github", Secret: secret, Events: []string{"push"}})
	start := time.Now()
	repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"a.txt": "2\n"}})
	pushes := deliveriesOf(ghs.WaitDeliveries(), "push", 0)
	require.Len(t, pushes, 1)
	require.Equal(t, http.StatusAccepted, pushes[0].StatusCode, string(pushes[0].Response))
	var ev registry.Event
	require.Eventually(t, func() bool {
		var err error
		ev, _, err = reg.Event(t.Context(), "github", pushes[0].GUID)
		return err == nil && ev.LastError != ""
	}, 20*time.Second, 20*time.Millisecond, "the attempt on the silent organization ends")
	assert.GreaterOrEqual(t, time.Since(start), 2*time.Second, "not before eventTimeout")
	assert.Contains(t, ev.LastError, "deadline exceeded")
	assert.Contains(t, ev.LastError, "took longer than eventTimeout (2s)")
	assert.Equal(t, registry.EventQueued, ev.State, "queued for another attempt")
	assert.Nil(t, ev.Claim, "the claim is given up")
}

// TestSchedulerTickIsBounded: a tick whose flow meets a host (the target's git) that takes
// the request and never answers ends after eventTimeout, so the leader
// keeps ticking; before, the tick hung for good while the lease was
// renewed, and no replica ran the schedules again. The flow cut short is
// rescheduled, as one whose host timed out.
func TestSchedulerTickIsBounded(t *testing.T) {
	hang := proctest.Silent(t)
	reg := registry.New(mem.New())
	ctx := t.Context()
	_, _, err := reg.Init(ctx)
	require.NoError(t, err)
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	_, err = reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, Enabled: true,
		SourceRepository: "https://github.com/dotnet/runtime", TargetRepository: hang.URL + "/dotnet/target",
		TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryDay}})
	require.NoError(t, err)
	_, err = reg.PublishBuild(ctx, maestro.Build{Repository: "https://github.com/dotnet/runtime", Branch: "main", Commit: strings.Repeat("2", 40),
		Assets: []maestro.Asset{{Name: "Microsoft.NETCore.App.Ref", Version: "10.0.0"}}}, registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)

	file := filepath.Join(t.TempDir(), "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte("eventTimeout: 2s\n"), 0o600))
	env := envOf(map[string]string{wire.EnvGitHubURL: hang.URL, "GITHUB_TOKEN": "ghp_0123456789abcdef0123456789abcdef0123", wire.EnvAllowHTTPLoopback: "true"})
	cfg, err := server.LoadConfig(file, env, server.Flags{Listen: "127.0.0.1:0", Scheduler: new(true),
		LeasePeriod: server.MinLeasePeriod, TickInterval: time.Second})
	require.NoError(t, err)
	logs := &syncBuffer{}
	srv, err := server.New(cfg, wire.Env{Getenv: env, Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	run, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(run, ln) }()
	t.Cleanup(func() { cancel(); assert.NoError(t, <-done) })

	require.Eventually(t, func() bool { return strings.Count(logs.String(), `msg="scheduler: tick" at=`) >= 2 }, 15*time.Second, 50*time.Millisecond,
		"the leader keeps ticking past a silent host:\n%s", logs)
	outs, err := reg.Outcomes(t.Context(), registry.OutcomeFilter{})
	require.NoError(t, err)
	require.Len(t, outs, 1, "the attempt cut short is recorded once")
	// git killed at the bound says so (context deadline exceeded), which
	// the flow retries later, as a host that timed out (service.Retryable).
	assert.Equal(t, maestro.ResultRescheduled, outs[0].Result, outs[0].Message)
	assert.Contains(t, outs[0].Message, "git clone stopped: context deadline exceeded")
	host := strings.TrimPrefix(hang.URL, "http://") + "/"
	require.Eventually(t, func() bool { return len(proctest.Running(t, host)) == 0 }, 2*time.Second, 20*time.Millisecond,
		"the tick's git is killed with its helpers: %v", proctest.Running(t, host))
}

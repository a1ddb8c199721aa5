package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

var defaultScheduler = server.SchedulerConfig{LeasePeriod: server.DefaultLeasePeriod, TickInterval: server.DefaultTickInterval}

func TestLoadSchedulerConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "serve.yaml")
	require.NoError(t, os.WriteFile(file, []byte("scheduler:\n  enabled: true\n  leasePeriod: 45s\n  tickInterval: 5m\n"), 0o600))
	tests := []struct {
		name  string
		file  string
		flags server.Flags
		want  server.SchedulerConfig
	}{
		{"defaults: off", "", server.Flags{}, defaultScheduler},
		{"flags", "", server.Flags{Scheduler: new(true), LeasePeriod: 20 * time.Second, TickInterval: time.Second},
			server.SchedulerConfig{Enabled: true, LeasePeriod: 20 * time.Second, TickInterval: time.Second}},
		{"file", file, server.Flags{}, server.SchedulerConfig{Enabled: true, LeasePeriod: 45 * time.Second, TickInterval: 5 * time.Minute}},
		{"flags over file", file, server.Flags{Scheduler: new(false), TickInterval: 30 * time.Second},
			server.SchedulerConfig{Enabled: false, LeasePeriod: 45 * time.Second, TickInterval: 30 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := server.LoadConfig(tt.file, envOf(nil), tt.flags)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Scheduler)
		})
	}
}

func TestLoadSchedulerConfigRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("scheduler:\n  leasePeriod: long\n"), 0o600))
	short := filepath.Join(dir, "short.yaml")
	require.NoError(t, os.WriteFile(short, []byte("scheduler:\n  tickInterval: 10ms\n"), 0o600))
	tests := []struct {
		name    string
		file    string
		flags   server.Flags
		wantErr string
	}{
		{"lease period too short", "", server.Flags{LeasePeriod: 19 * time.Second}, "scheduler lease period 19s: use 20s to 1m0s"},
		{"lease period too long", "", server.Flags{LeasePeriod: 61 * time.Second}, "scheduler lease period 1m1s: use 20s to 1m0s"},
		{"tick interval too short", short, server.Flags{}, "scheduler tick interval 10ms: use 1s to 24h0m0s"},
		{"tick interval too long", "", server.Flags{TickInterval: 25 * time.Hour}, "scheduler tick interval 25h0m0s: use 1s to 24h0m0s"},
		{"not a duration", bad, server.Flags{}, `scheduler.leasePeriod "long": a duration like 30s`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := server.LoadConfig(tt.file, envOf(nil), tt.flags)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
		})
	}
}

// scheduling is one replica started with the scheduler on.
type scheduling struct {
	replica
	stop func() // stops it gracefully (SIGTERM) and waits
}

// startScheduling runs a replica with the scheduler on reg (ticking every
// second, with the shortest lease period) until stop or the end of the test.
func startScheduling(t *testing.T, reg *registry.Registry) *scheduling {
	t.Helper()
	cfg, err := server.LoadConfig("", envOf(nil), server.Flags{Listen: "127.0.0.1:0", Scheduler: new(true),
		LeasePeriod: server.MinLeasePeriod, TickInterval: time.Second})
	require.NoError(t, err)
	logs := &syncBuffer{}
	srv, err := server.New(cfg, wire.Env{Getenv: envOf(nil), Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	var stopped atomic.Bool
	s := &scheduling{replica: replica{url: "http://" + ln.Addr().String(), log: logs}}
	s.stop = func() {
		if stopped.CompareAndSwap(false, true) {
			cancel()
			assert.NoError(t, <-done)
		}
	}
	t.Cleanup(s.stop)
	return s
}

// role is what the replica's /healthz says of its scheduler ("" if it does
// not answer).
func (r replica) role(t *testing.T) string {
	resp, err := http.Get(r.url + "/healthz")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var h struct{ Scheduler string }
	if !assert.NoError(t, json.NewDecoder(resp.Body).Decode(&h)) {
		return ""
	}
	return h.Scheduler
}

// leaders returns the replicas whose /healthz says leader.
func leaders(t *testing.T, rs ...*scheduling) []*scheduling {
	var out []*scheduling
	for _, r := range rs {
		if r.role(t) == "leader" {
			out = append(out, r)
		}
	}
	return out
}

// dueRegistry is a registry on st with one everyDay subscription due now
// and a build of its source in its channel. Its target has no credentials,
// so every attempt at it is a failure outcome that leaves the build
// unapplied: a due time attempted twice shows as two outcomes.
func dueRegistry(t *testing.T, st store.Store) (*registry.Registry, string) {
	ctx := t.Context()
	reg := registry.New(st)
	_, _, err := reg.Init(ctx)
	require.NoError(t, err)
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	sub, err := reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, Enabled: true,
		SourceRepository: "https://github.com/dotnet/arcade", TargetRepository: "https://github.com/dotnet/target",
		TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryDay}})
	require.NoError(t, err)
	_, err = reg.PublishBuild(ctx, maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "main", Commit: strings.Repeat("1", 40),
		AzureDevOpsAccount: "dnceng", AzureDevOpsProject: "internal", AzureDevOpsBuildID: 1, AzureDevOpsBuildNumber: "2026.1",
		Assets: []maestro.Asset{{Name: "Microsoft.DotNet.Arcade.Sdk", Version: "10.0.0-beta.1"}}}, registry.PublishOptions{Channels: []int{ch.ID}})
	require.NoError(t, err)
	return reg, sub.ID
}

func outcomes(t *testing.T, reg *registry.Registry, id string) []maestro.FlowOutcome {
	os, err := reg.Outcomes(context.Background(), registry.OutcomeFilter{SubscriptionID: id})
	require.NoError(t, err)
	return os
}

// TestOneReplicaSchedules: of three replicas with the scheduler on, one
// leads and ticks; the due subscription is attempted once, whatever the
// number of replicas and ticks; when the leader stops, it releases the
// lease and another takes over at once.
func TestOneReplicaSchedules(t *testing.T) {
	reg, sub := dueRegistry(t, mem.New())
	rs := []*scheduling{startScheduling(t, reg), startScheduling(t, reg), startScheduling(t, reg)}
	require.Eventually(t, func() bool { return len(leaders(t, rs...)) == 1 }, 5*time.Second, 20*time.Millisecond)
	leader := leaders(t, rs...)[0]
	require.Eventually(t, func() bool { return len(outcomes(t, reg, sub)) > 0 }, 5*time.Second, 20*time.Millisecond)
	// Several ticks later: still one leader, one attempt, and only the leader ticked.
	require.Eventually(t, func() bool { return strings.Count(leader.log.String(), "msg=\"scheduler: tick\"") >= 3 }, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, []*scheduling{leader}, leaders(t, rs...))
	os := outcomes(t, reg, sub)
	require.Len(t, os, 1, "one attempt for one due time")
	assert.Equal(t, maestro.ResultFailure, os[0].Result)
	for _, r := range rs {
		if r != leader {
			assert.Equal(t, "follower", r.role(t))
			assert.NotContains(t, r.log.String(), "scheduler: tick", "a follower ticked")
		}
	}

	leader.stop()
	assert.Contains(t, leader.log.String(), "scheduler: released the lease")
	var rest []*scheduling
	for _, r := range rs {
		if r != leader {
			rest = append(rest, r)
		}
	}
	start := time.Now()
	require.Eventually(t, func() bool { return len(leaders(t, rest...)) == 1 }, 5*time.Second, 20*time.Millisecond)
	assert.Less(t, time.Since(start), 3*time.Second, "a released lease is taken within a second or so")
	next := leaders(t, rest...)[0]
	require.Eventually(t, func() bool { return strings.Contains(next.log.String(), "scheduler: tick") }, 5*time.Second, 20*time.Millisecond)
	assert.Len(t, outcomes(t, reg, sub), 1, "the new leader does not attempt the due time again")
}

// failingLeases fails AcquireLease and RenewLease with ErrUnavailable once
// fail is set: a store that stops answering the leader.
type failingLeases struct {
	store.Store
	fail atomic.Bool
}

func (f *failingLeases) AcquireLease(ctx context.Context, key string, d time.Duration) (string, error) {
	if f.fail.Load() {
		return "", fmt.Errorf("lease %s: %w", key, store.ErrUnavailable)
	}
	return f.Store.AcquireLease(ctx, key, d)
}

func (f *failingLeases) RenewLease(ctx context.Context, key, id string) error {
	if f.fail.Load() {
		return fmt.Errorf("renew %s: %w", key, store.ErrUnavailable)
	}
	return f.Store.RenewLease(ctx, key, id)
}

// TestLeaderThatCannotRenewStopsBeforeTakeover: a leader whose renewals
// fail stops scheduling before its lease can expire, and the other replica
// takes over after that, within the lease period of the last renewal: the
// two never lead at once.
func TestLeaderThatCannotRenewStopsBeforeTakeover(t *testing.T) {
	base := mem.New()
	reg, _ := dueRegistry(t, base)
	flaky := &failingLeases{Store: base}
	a := startScheduling(t, registry.New(flaky))
	require.Eventually(t, func() bool { return a.role(t) == "leader" }, 5*time.Second, 20*time.Millisecond)
	b := startScheduling(t, reg)
	time.Sleep(2 * time.Second)
	require.Equal(t, "follower", b.role(t))

	flaky.fail.Store(true)
	failed := time.Now()
	var steppedDown, tookOver time.Duration
	for time.Since(failed) < server.MinLeasePeriod+5*time.Second && (steppedDown == 0 || tookOver == 0) {
		ra, rb := a.role(t), b.role(t)
		if ra == "leader" && rb == "leader" {
			t.Fatalf("two leaders %s after the renewals began to fail", time.Since(failed))
		}
		if steppedDown == 0 && ra == "follower" {
			steppedDown = time.Since(failed)
		}
		if tookOver == 0 && rb == "leader" {
			tookOver = time.Since(failed)
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NotZero(t, steppedDown, "the leader that cannot renew never stepped down\n%s", a.log.String())
	require.NotZero(t, tookOver, "the other replica never took over\n%s", b.log.String())
	assert.Less(t, steppedDown, tookOver)
	assert.LessOrEqual(t, tookOver, server.MinLeasePeriod, "takeover within the lease period")
	assert.Contains(t, a.log.String(), "could not renew the lease before it might expire")
	t.Logf("stepped down %s and taken over %s after the renewals began to fail", steppedDown, tookOver)
}

// TestBrokenLeaseDeposesTheLeader: an operator who breaks the lease
// (store.BreakLease) hands it to another replica at once; the old leader
// learns it at its next renewal (within a third of the lease) and stops.
func TestBrokenLeaseDeposesTheLeader(t *testing.T) {
	reg, sub := dueRegistry(t, mem.New())
	a := startScheduling(t, reg)
	require.Eventually(t, func() bool { return a.role(t) == "leader" }, 5*time.Second, 20*time.Millisecond)
	b := startScheduling(t, reg)
	require.NoError(t, reg.Store().BreakLease(t.Context(), "server/locks/scheduler"))
	require.Eventually(t, func() bool { return b.role(t) == "leader" }, 5*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return a.role(t) == "follower" }, server.MinLeasePeriod/3+2*time.Second, 50*time.Millisecond)
	assert.Contains(t, a.log.String(), "scheduler: lost the lease")
	assert.Len(t, outcomes(t, reg, sub), 1, "both ticked for a while, and the due time was attempted once")
	_, err := reg.Store().AcquireLease(t.Context(), "server/locks/scheduler", store.MinLeaseDuration)
	assert.True(t, errors.Is(err, store.ErrLeased), "b holds the lease: %v", err)
}

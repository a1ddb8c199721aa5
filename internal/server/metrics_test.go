package server_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// scrape reads url's /metrics as Prometheus parses it.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// sample finds the metric of family name whose labels include labels; nil
// when there is none.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		for k, v := range labels {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return m
	}
	return nil
}

func counter(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	m := sample(fams, name, labels)
	if m == nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

func histogramCount(fams map[string]*dto.MetricFamily, name string, labels map[string]string) uint64 {
	m := sample(fams, name, labels)
	if m == nil {
		return 0
	}
	return m.GetHistogram().GetSampleCount()
}

// startMeasured runs a replica with the GitHub route whose registry store
// is measured by its metrics, as `maestro serve` wires it.
func startMeasured(t *testing.T) (replica, *registry.Registry) {
	t.Helper()
	cfg, err := server.LoadConfig("", envOf(map[string]string{server.EnvGitHubWebhookSecret: secret, server.EnvAzureDevOpsHookSecret: secret}),
		server.Flags{Listen: "127.0.0.1:0", GitHubWebhooks: new(true), AzureDevOpsHooks: new(true)})
	require.NoError(t, err)
	metrics := server.NewMetrics()
	reg := registry.New(metrics.InstrumentStore(mem.New()))
	_, _, err = reg.Init(t.Context())
	require.NoError(t, err)
	logs := &syncBuffer{}
	srv, err := server.New(cfg, wire.Env{Getenv: envOf(nil), Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(logs, nil)), server.WithMetrics(metrics))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	return replica{url: "http://" + ln.Addr().String(), log: logs}, reg
}

// TestMetricsAfterRealWork: after a real delivery, its duplicate and a
// forged one, /metrics counts each by type and result, the queue's latency
// and depth, the event's processing, and the store requests they made.
func TestMetricsAfterRealWork(t *testing.T) {
	a, reg := startMeasured(t)
	before := scrape(t, a.url)
	assert.Zero(t, counter(before, "maestro_events_received_total", map[string]string{"result": "accepted"}))
	require.NotNil(t, sample(before, "maestro_scheduler_leader", nil))
	assert.Zero(t, sample(before, "maestro_scheduler_leader", nil).GetGauge().GetValue(), "the scheduler is off")
	require.NotNil(t, sample(before, "maestro_intake_burst", nil))
	assert.Zero(t, sample(before, "maestro_intake_burst", nil).GetGauge().GetValue(), "no burst (burst_internal_test.go sees one)")

	d := delivery(t, a.url) // the GitHub double's own delivery (and its ping)
	require.Equal(t, http.StatusAccepted, d.StatusCode, string(d.Response))
	waitDone(t, reg, d.GUID)
	req, err := d.NewRequest(t.Context(), a.url+"/webhooks/github")
	require.NoError(t, err)
	code, _ := send(t, req)
	require.Equal(t, http.StatusOK, code)
	forged, err := d.NewRequest(t.Context(), a.url+"/webhooks/github")
	require.NoError(t, err)
	forged.Header.Set("X-Hub-Signature-256", "sha256="+hmacHex("not-the-secret", d.Body))
	code, _ = send(t, forged)
	require.Equal(t, http.StatusUnauthorized, code)
	unauthorized, err := http.NewRequest(http.MethodPost, a.url+"/webhooks/azure-devops", strings.NewReader(`{"eventType": "build.complete"}`))
	require.NoError(t, err)
	unauthorized.Header.Set("Content-Type", "application/json")
	code, _ = send(t, unauthorized)
	require.Equal(t, http.StatusUnauthorized, code)

	var fams map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		fams = scrape(t, a.url)
		depth := sample(fams, "maestro_event_queue_depth", nil)
		return histogramCount(fams, "maestro_event_processing_seconds", map[string]string{"outcome": "done"}) == 1 &&
			depth != nil && depth.GetGauge().GetValue() == 0
	}, 5*time.Second, 50*time.Millisecond, "one event processed and none queued")
	events := func(typ, result string) float64 {
		return counter(fams, "maestro_events_received_total", map[string]string{"source": "github", "type": typ, "result": result})
	}
	assert.Equal(t, 1.0, events("status", "accepted"))
	assert.Equal(t, 1.0, events("status", "duplicate"))
	assert.Equal(t, 1.0, events("unknown", "rejected"), "a forged delivery's type is not trusted")
	assert.Equal(t, 1.0, events("ping", "ignored"))
	assert.Zero(t, events("status", "failed"))
	assert.Equal(t, 1.0, counter(fams, "maestro_events_received_total", map[string]string{"source": "azdo", "type": "unknown", "result": "rejected"}),
		"the Azure DevOps route counts into the same metric")
	assert.Equal(t, uint64(1), histogramCount(fams, "maestro_event_queue_latency_seconds", nil))

	// The intake read the event (absent) and appended its batch to the
	// intake log; the worker listed the queue, created the event's record
	// with its claim and finished it (the segment stays: this replica
	// appends to it).
	storeOps := func(op, result string) uint64 {
		return histogramCount(fams, "maestro_store_request_duration_seconds", map[string]string{"operation": op, "result": result})
	}
	assert.GreaterOrEqual(t, storeOps("get", "not-exist"), uint64(1))
	assert.GreaterOrEqual(t, storeOps("append", "ok"), uint64(1), "the batch")
	assert.GreaterOrEqual(t, storeOps("put", "ok"), uint64(2), "claim, finish")
	assert.GreaterOrEqual(t, storeOps("list", "ok"), uint64(1))
	assert.Zero(t, storeOps("put", "error"))
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		assert.Contains(t, fams, name, "the runtime and process collectors")
	}
}

// TestMetricsRegistryIsPrivate: two servers count apart (no global
// registry), so one's deliveries never show in the other's /metrics.
func TestMetricsRegistryIsPrivate(t *testing.T) {
	a, _ := startMeasured(t)
	b, _ := startMeasured(t)
	d := delivery(t, a.url)
	require.Equal(t, http.StatusAccepted, d.StatusCode)
	assert.Equal(t, 1.0, counter(scrape(t, a.url), "maestro_events_received_total", map[string]string{"type": "status", "result": "accepted"}))
	assert.Zero(t, counter(scrape(t, b.url), "maestro_events_received_total", map[string]string{"type": "status", "result": "accepted"}))
	resp, err := http.Get(b.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"), resp.Header.Get("Content-Type"))
}

// TestSchedulerMetrics: the leader's /metrics says it leads and counts its
// ticks and the flow outcomes they made; a follower's says neither.
func TestSchedulerMetrics(t *testing.T) {
	reg, sub := dueRegistry(t, mem.New())
	a := startScheduling(t, reg)
	require.Eventually(t, func() bool { return a.role(t) == "leader" }, 5*time.Second, 20*time.Millisecond)
	b := startScheduling(t, reg)
	require.Eventually(t, func() bool { return len(outcomes(t, reg, sub)) == 1 }, 5*time.Second, 20*time.Millisecond)
	var fa map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		fa = scrape(t, a.url)
		return counter(fa, "maestro_scheduler_ticks_total", map[string]string{"result": "ok"}) >= 2
	}, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, 1.0, sample(fa, "maestro_scheduler_leader", nil).GetGauge().GetValue())
	assert.Equal(t, 1.0, counter(fa, "maestro_flow_outcomes_total", map[string]string{"result": "failure"}))
	fb := scrape(t, b.url)
	assert.Zero(t, sample(fb, "maestro_scheduler_leader", nil).GetGauge().GetValue())
	assert.Zero(t, counter(fb, "maestro_scheduler_ticks_total", map[string]string{"result": "ok"}))
}

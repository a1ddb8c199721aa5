package bench_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/google/uuid"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/server"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/local"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// The load generator of the `maestro serve` goals (docs/performance.md):
// loadClients concurrent clients on keep-alive loopback connections send a
// bounded number of requests (b.N) to a real server in the same process;
// the benchmark reports throughput and latency percentiles. Both share the
// machine's cores, as a server and its callers would not: the figures are
// a lower bound for the server alone.
const loadClients = 16

const (
	apiBenchToken   = "bench-read-token-0123456789"
	hookBenchSecret = "bench-webhook-secret"
)

// loadResult is what one run of the load generator measured.
type loadResult struct {
	latencies []time.Duration
	elapsed   time.Duration
	codes     map[int]int
	// cpu is the CPU time (user and system) the whole process — server,
	// workers and load generator — spent during the run.
	cpu time.Duration
}

// report adds the run's figures to the benchmark's output.
func (r loadResult) report(b *testing.B) {
	slices.Sort(r.latencies)
	pct := func(p float64) float64 {
		return float64(r.latencies[int(float64(len(r.latencies)-1)*p)]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(len(r.latencies))/r.elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(r.cpu)/float64(time.Millisecond)/float64(len(r.latencies)), "cpu-ms/req")
}

// cpuTime is the CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// load sends n requests from loadClients goroutines; send(i) sends request
// i and returns its status code after reading the whole answer.
func load(b *testing.B, n int, send func(i int) (int, error)) loadResult {
	b.Helper()
	var next atomic.Int64
	lat := make([]time.Duration, n)
	codes := make([]int, n)
	var failed atomic.Value
	var wg sync.WaitGroup
	cpu0 := cpuTime(b)
	start := time.Now()
	for range loadClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				code, err := send(i)
				lat[i] = time.Since(t0)
				codes[i] = code
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	res := loadResult{latencies: lat, elapsed: time.Since(start), codes: map[int]int{}, cpu: cpuTime(b) - cpu0}
	if err, ok := failed.Load().(error); ok {
		b.Fatalf("load: %v", err)
	}
	for _, c := range codes {
		res.codes[c]++
	}
	return res
}

// benchClient is an HTTP client that keeps a connection per load client.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: loadClients, MaxIdleConnsPerHost: loadClients, DisableCompression: true}}
}

// serve runs a server on reg with cfg's environment until the benchmark ends.
func serve(b *testing.B, reg *registry.Registry, env map[string]string, flags server.Flags) string {
	b.Helper()
	flags.Listen = "127.0.0.1:0"
	cfg, err := server.LoadConfig("", func(k string) string { return env[k] }, flags)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(cfg, wire.Env{Getenv: func(string) string { return "" }, Now: time.Now}.Service(reg), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	return "http://" + ln.Addr().String()
}

// localRegistry opens a registry on a new local store (fsync on, as
// `maestro serve --store file://DIR` runs) after fill has populated it
// through a store without fsync.
func localRegistry(b *testing.B, fill func(reg *registry.Registry)) *registry.Registry {
	b.Helper()
	dir := b.TempDir()
	fast, err := local.Open(dir, local.WithoutSync())
	if err != nil {
		b.Fatal(err)
	}
	setup := registry.New(fast)
	if _, _, err := setup.Init(context.Background()); err != nil {
		b.Fatal(err)
	}
	if fill != nil {
		fill(setup)
	}
	st, err := local.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	return registry.New(st)
}

// BenchmarkServeLatestBuild is GET /api/builds/latest (with a read token)
// of a repository with 200 builds of 100 assets each in a channel, on the
// local store. Goal: ≥ 2,000 requests/s at p99 ≤ 20 ms.
func BenchmarkServeLatestBuild(b *testing.B) {
	const repo = "https://github.com/dotnet/runtime"
	var latest int
	var channel int
	reg := localRegistry(b, func(reg *registry.Registry) {
		ctx := context.Background()
		ch, err := reg.AddChannel(ctx, ".NET 10", "product")
		if err != nil {
			b.Fatal(err)
		}
		channel = ch.ID
		for i := range 200 {
			bl := maestro.Build{Repository: repo, Branch: "main", Commit: fmt.Sprintf("%040x", i+1), DateProduced: time.Now().UTC()}
			for a := range 100 {
				bl.Assets = append(bl.Assets, maestro.Asset{Name: fmt.Sprintf("Microsoft.NETCore.Component%03d", a), Version: fmt.Sprintf("10.0.0-preview.1.%d", i),
					Locations: []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet10/nuget/v3/index.json"}}})
			}
			res, err := reg.PublishBuild(ctx, bl, registry.PublishOptions{Channels: []int{ch.ID}})
			if err != nil {
				b.Fatal(err)
			}
			latest = res.Build.ID
		}
	})
	base := serve(b, reg, map[string]string{server.EnvAPIReadToken: apiBenchToken}, server.Flags{})
	target := base + "/api/builds/latest?repository=" + url.QueryEscape(repo) + fmt.Sprintf("&channelId=%d", channel)
	client := benchClient()
	wantPrefix := fmt.Appendf(nil, `{"id":%d,`, latest)
	send := func(int) (int, error) {
		req, err := http.NewRequest(http.MethodGet, target, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+apiBenchToken)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return resp.StatusCode, err
		}
		// A cheap check that the answer is the newest build with its
		// assets: decoding it whole would cost the client more than the
		// server spends answering.
		if resp.StatusCode == http.StatusOK && (!bytes.HasPrefix(body, wantPrefix) || bytes.Count(body, []byte(`"locations":`)) != 100) {
			return resp.StatusCode, fmt.Errorf("got %.200s..., want build %d with 100 assets", body, latest)
		}
		return resp.StatusCode, nil
	}
	load(b, 100, send) // warm the connections
	b.ResetTimer()
	res := load(b, b.N, send)
	b.StopTimer()
	if res.codes[http.StatusOK] != b.N {
		b.Fatalf("statuses %v, want %d × 200", res.codes, b.N)
	}
	res.report(b)
}

// BenchmarkServeWebhookIntake is POST /webhooks/github of signed status
// deliveries (a payload the GitHub double sent and validated against
// GitHub's webhook schema), each with a new X-GitHub-Delivery, on the local
// store, while the server's workers process what it accepts. Goal: ≥ 5,000
// deliveries/s with p99 ≤ 20 ms, none lost: afterwards the store holds
// every accepted delivery.
func BenchmarkServeWebhookIntake(b *testing.B) {
	reg := localRegistry(b, nil)
	base := serve(b, reg, map[string]string{server.EnvGitHubWebhookSecret: hookBenchSecret}, server.Flags{GitHubWebhooks: new(true)})
	d := statusDelivery(b)
	mac := hmac.New(sha256.New, []byte(hookBenchSecret))
	mac.Write(d.Body)
	signature := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	client := benchClient()
	ids := make([]string, b.N+100)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	send := func(ids []string) func(int) (int, error) {
		return func(i int) (int, error) {
			req, err := http.NewRequest(http.MethodPost, base+"/webhooks/github", strings.NewReader(string(d.Body)))
			if err != nil {
				return 0, err
			}
			req.Header = d.Header.Clone()
			req.Header.Set("X-Hub-Signature-256", signature)
			req.Header.Set("X-GitHub-Delivery", ids[i])
			resp, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode, nil
		}
	}
	load(b, 100, send(ids[b.N:])) // warm the connections
	b.ResetTimer()
	res := load(b, b.N, send(ids[:b.N]))
	b.StopTimer()
	if res.codes[http.StatusAccepted] != b.N {
		b.Fatalf("statuses %v, want %d × 202", res.codes, b.N)
	}
	res.report(b)
	// Each delivery is in a queued batch, or its record exists (a worker
	// took it).
	queued, err := reg.QueuedEvents(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	inBatch := make(map[string]bool, len(queued))
	for _, q := range queued {
		inBatch[q.Delivery] = true
	}
	lost := 0
	for _, id := range ids[:b.N] {
		if inBatch[id] {
			continue
		}
		if _, _, err := reg.Event(context.Background(), "github", id); err != nil {
			lost++
		}
	}
	if lost > 0 {
		b.Fatalf("%d of %d accepted deliveries are not in the store", lost, b.N)
	}
}

// statusDelivery has the GitHub double deliver one status event and
// returns it.
func statusDelivery(b *testing.B) githubdouble.Delivery {
	b.Helper()
	srv := githubdouble.NewServer(b)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "# runtime\n"}})
	repo.AddHook(githubdouble.HookSpec{URL: "http://127.0.0.1:1/webhooks/github", Secret: hookBenchSecret, Events: []string{"status"}})
	repo.AddStatus(repo.Branch("main"), ghStatus("success", "ci/build"))
	ds := srv.WaitDeliveries()
	for _, d := range ds {
		if d.Event == "status" {
			return d
		}
	}
	b.Fatalf("no status delivery among %d", len(ds))
	return githubdouble.Delivery{}
}

func ghStatus(state, context string) gh.RepoStatus {
	return gh.RepoStatus{State: gh.String(state), Context: gh.String(context)}
}

// BenchmarkServeIntakeFloor is the floor of webhook intake on the local
// store: b.N create-only writes of a delivery-sized document (3 KB, fsync
// on) to new keys, from loadClients goroutines, with nothing else running —
// what intake cost when it wrote each delivery (twice: a queue marker and
// the event) before group commit.
func BenchmarkServeIntakeFloor(b *testing.B) {
	st, err := local.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	doc := []byte(strings.Repeat("x", 3000))
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	b.ResetTimer()
	res := load(b, b.N, func(i int) (int, error) {
		_, err := st.Put(context.Background(), "events/github/"+ids[i]+".json", doc, store.Condition{CreateOnly: true})
		return 0, err
	})
	b.StopTimer()
	res.report(b)
}

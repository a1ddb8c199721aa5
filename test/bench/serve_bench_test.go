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
	"strconv"
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
	// cpu is the CPU time (user and system) the benchmark's process spent
	// during the run: the server and its workers, and the load generator
	// when it ran in the process (load), not when it ran apart (loadApart).
	cpu time.Duration
	// senderCPU is the CPU time of a load generator that ran apart.
	senderCPU time.Duration
}

// report adds the run's figures to the benchmark's output.
func (r loadResult) report(b *testing.B) {
	slices.Sort(r.latencies)
	pct := func(p float64) float64 {
		return float64(r.latencies[int(float64(len(r.latencies)-1)*p)]) / float64(time.Millisecond)
	}
	perReq := func(d time.Duration) float64 {
		return float64(d) / float64(time.Millisecond) / float64(len(r.latencies))
	}
	b.ReportMetric(float64(len(r.latencies))/r.elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(perReq(r.cpu), "cpu-ms/req")
	if r.senderCPU > 0 {
		b.ReportMetric(perReq(r.senderCPU), "loadgen-cpu-ms/req")
	}
}

// processCPU is the CPU time the process has used.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// cpuTime is processCPU for a benchmark.
func cpuTime(b *testing.B) time.Duration {
	cpu, err := processCPU()
	if err != nil {
		b.Fatal(err)
	}
	return cpu
}

// loadRun records the requests of one run of the load generator.
type loadRun struct {
	lat     []time.Duration
	codes   []int
	failed  atomic.Value
	started time.Time
}

func newLoadRun(n int) *loadRun {
	return &loadRun{lat: make([]time.Duration, n), codes: make([]int, n), started: time.Now()}
}

// send sends request i, timed from since, and reports whether it went
// without error.
func (r *loadRun) send(i int, since time.Time, send func(i int) (int, error)) bool {
	code, err := send(i)
	r.lat[i] = time.Since(since)
	r.codes[i] = code
	if err != nil {
		r.failed.Store(err)
	}
	return err == nil
}

// result is what the run measured, or the error of a request that failed.
func (r *loadRun) result() (loadResult, error) {
	res := loadResult{latencies: r.lat, elapsed: time.Since(r.started), codes: map[int]int{}}
	if err, ok := r.failed.Load().(error); ok {
		return res, fmt.Errorf("load: %w", err)
	}
	for _, c := range r.codes {
		res.codes[c]++
	}
	return res, nil
}

// load sends n requests from loadClients goroutines in the benchmark's
// process; send(i) sends request i and returns its status code after
// reading the whole answer.
func load(b *testing.B, n int, send func(i int) (int, error)) loadResult {
	b.Helper()
	cpu0 := cpuTime(b)
	res, err := closedLoop(n, send)
	if err != nil {
		b.Fatal(err)
	}
	res.cpu = cpuTime(b) - cpu0
	return res
}

// closedLoop sends n requests from loadClients goroutines, each sending
// the next request when the last was answered.
func closedLoop(n int, send func(i int) (int, error)) (loadResult, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	run := newLoadRun(n)
	for range loadClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || !run.send(i, time.Now(), send) {
					return
				}
			}
		})
	}
	wg.Wait()
	return run.result()
}

// paced sends n requests at rate per second: request i is due at start +
// i/rate and goes as soon as one of rateMaxInFlight senders is free,
// whether or not earlier requests were answered (an open loop, as webhooks
// arrive). A request's latency counts from when it was due, not from when
// it went, so a server that falls behind is charged for the requests that
// waited (no coordinated omission); the run's rate is n ÷ the time until
// the last answer.
func paced(n, rate int, send func(i int) (int, error)) (loadResult, error) {
	due := make(chan int, n)
	var wg sync.WaitGroup
	run := newLoadRun(n)
	at := func(i int) time.Time { return run.started.Add(time.Duration(i) * time.Second / time.Duration(rate)) }
	for range rateMaxInFlight {
		wg.Go(func() {
			for i := range due {
				run.send(i, at(i), send)
			}
		})
	}
	// The pacer releases every request due by now, each millisecond.
	tick := time.NewTicker(time.Millisecond)
	for next := 0; next < n; {
		now := <-tick.C
		for ; next < n && !at(next).After(now); next++ {
			due <- next
		}
	}
	tick.Stop()
	close(due)
	wg.Wait()
	return run.result()
}

// benchClient is an HTTP client that keeps a connection per request in
// flight (at most rateMaxInFlight).
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: rateMaxInFlight, MaxIdleConnsPerHost: rateMaxInFlight, DisableCompression: true}}
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
// store, while the server's workers process what it accepts, from
// loadClients clients that each send the next delivery when the last is
// answered. It reports what 16 senders waiting on each other get; a closed
// loop cannot send faster than loadClients ÷ mean latency, whatever the
// server could take (BenchmarkServeWebhookIntakeRate measures that).
// Afterwards the store must hold every accepted delivery.
func BenchmarkServeWebhookIntake(b *testing.B) {
	in := newIntakeBench(b)
	load(b, 100, in.send(in.ids[b.N:])) // warm the connections
	b.ResetTimer()
	res := load(b, b.N, in.send(in.ids[:b.N]))
	b.StopTimer()
	res.report(b)
	in.check(b, res, in.ids[:b.N])
}

// BenchmarkServeWebhookIntakeRate is the goal of webhook intake: ≥ 5,000
// deliveries/s with p99 ≤ 20 ms, none lost. It sends the deliveries of
// BenchmarkServeWebhookIntake at a constant rate, each at its
// scheduled time whether or not earlier ones were answered (as GitHub
// sends), from at most rateMaxInFlight at once, and counts each latency
// from the delivery's scheduled time: a server that falls behind is
// charged for the wait, and the run reports a lower rate than it sent at.
//
// The deliveries come from a load generator in a process of its own
// (loadApart), as a webhook's sender is; cpu-ms/req is the server's, and
// loadgen-cpu-ms/req the generator's.
//
// Its sub-benchmarks send at the goal's rate and at lower ones, to show up
// to what rate the latency holds: run `-bench 'IntakeRate/5000'` for the
// goal alone.
func BenchmarkServeWebhookIntakeRate(b *testing.B) {
	for _, rate := range intakeRates {
		b.Run(strconv.Itoa(rate), func(b *testing.B) {
			in := newIntakeBench(b)
			spec := in.spec
			spec.IDs, spec.Warm, spec.Rate = append(slices.Clone(in.ids[b.N:]), in.ids[:b.N]...), len(in.ids)-b.N, rate
			b.ResetTimer()
			res := loadApart(b, spec)
			b.StopTimer()
			res.report(b)
			in.check(b, res, in.ids[:b.N])
		})
	}
}

// intakeRates are the rates of deliveries BenchmarkServeWebhookIntakeRate
// sends: the goal's, 5,000 per second, and lower ones.
var intakeRates = []int{5000, 4000, 3000, 2000}

const (
	// rateMaxInFlight bounds the requests paced has open at once.
	rateMaxInFlight = 256
)

// intakeBench is a server taking webhooks on a new local store, and what
// its deliveries need.
type intakeBench struct {
	reg    *registry.Registry
	poster *rawPoster
	spec   loadgenSpec // the deliveries, for a load generator apart
	ids    []string    // b.N for the run, then 100 to warm up
}

func newIntakeBench(b *testing.B) *intakeBench {
	b.Helper()
	reg := localRegistry(b, nil)
	delivery := readDeliveryFixture(b)
	base := serve(b, reg, map[string]string{server.EnvGitHubWebhookSecret: hookBenchSecret}, server.Flags{GitHubWebhooks: new(true)})
	mac := hmac.New(sha256.New, []byte(hookBenchSecret))
	mac.Write(delivery.Payload)
	header := delivery.Header.Clone()
	header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	poster, err := newRawPoster(base+"/webhooks/github", header, "X-GitHub-Delivery", delivery.Payload)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(poster.close)
	in := &intakeBench{reg: reg, poster: poster, spec: loadgenSpec{URL: base + "/webhooks/github", Header: header, Vary: "X-GitHub-Delivery", Body: delivery.Payload}}
	in.ids = make([]string, b.N+100)
	for i := range in.ids {
		in.ids[i] = uuid.NewString()
	}
	return in
}

// send returns the load generator's sender of deliveries ids[i].
func (in *intakeBench) send(ids []string) func(int) (int, error) {
	return func(i int) (int, error) { return in.poster.post(ids[i]) }
}

// check fails the benchmark unless every delivery was answered 202 and is
// in the store: in a queued batch, or its record exists (a worker took it).
func (in *intakeBench) check(b *testing.B, res loadResult, ids []string) {
	if res.codes[http.StatusAccepted] != len(ids) {
		b.Fatalf("statuses %v, want %d × 202", res.codes, len(ids))
	}
	queued, err := in.reg.QueuedEvents(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	inBatch := make(map[string]bool, len(queued))
	for _, q := range queued {
		inBatch[q.Delivery] = true
	}
	lost := 0
	for _, id := range ids {
		if inBatch[id] {
			continue
		}
		if _, _, err := in.reg.Event(context.Background(), "github", id); err != nil {
			lost++
		}
	}
	if lost > 0 {
		b.Fatalf("%d of %d accepted deliveries are not in the store", lost, len(ids))
	}
}

// statusDelivery has the GitHub double deliver one status event and
// returns it.
func statusDelivery(tb testing.TB) githubdouble.Delivery {
	tb.Helper()
	srv := githubdouble.NewServer(tb)
	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "# runtime\n"}})
	repo.AddHook(githubdouble.HookSpec{URL: "http://127.0.0.1:1/webhooks/github", Secret: hookBenchSecret, Events: []string{"status"}})
	repo.AddStatus(repo.Branch("main"), ghStatus("success", "ci/build"))
	ds := srv.WaitDeliveries()
	for _, d := range ds {
		if d.Event == "status" {
			return d
		}
	}
	tb.Fatalf("no status delivery among %d", len(ds))
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

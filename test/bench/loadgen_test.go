package bench_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The webhook intake goal's load generator runs in a process of its own,
// as a webhook's sender does: the server's heap, collections and CPU time
// are its own, and the generator's clock does not stop for the server's
// collections. The benchmark starts its own test binary again as the
// generator (TestMain): it opens its connections, says "ready", and on the
// benchmark's word sends at the paced rate through rawPoster and writes
// what it measured as JSON. The benchmark's process then holds the server
// alone, so its CPU time during the run is the server's.
//
// BenchmarkServeHTTPFloor measures what is left for the server: a handler
// that only reads the body answers at p99 4-6 ms at 5,000 requests/s,
// with the generator in the process or apart (docs/performance.md).

// loadgenEnv names the spec file of a test binary started as the load
// generator.
const loadgenEnv = "MAESTRO_BENCH_LOADGEN"

func TestMain(m *testing.M) {
	if spec := os.Getenv(loadgenEnv); spec != "" {
		if err := runLoadgen(spec, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "load generator:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// loadgenSpec is a run of the load generator: POSTs of Body to URL with
// Header, each with its own value of the header Vary, from IDs: the first
// Warm in a closed loop to open the connections, the rest at Rate per
// second (paced).
type loadgenSpec struct {
	URL    string      `json:"url"`
	Header http.Header `json:"header"`
	Vary   string      `json:"vary"`
	Body   []byte      `json:"body"`
	IDs    []string    `json:"ids"`
	Warm   int         `json:"warm"`
	Rate   int         `json:"rate"`
}

// loadgenResult is what the load generator measured of the paced run.
type loadgenResult struct {
	Latencies []time.Duration `json:"latencies"`
	Codes     map[int]int     `json:"codes"`
	Elapsed   time.Duration   `json:"elapsed"`
	CPU       time.Duration   `json:"cpu"` // the generator's own
}

// runLoadgen is the load generator's process: it reads the spec at path,
// warms the connections, writes "ready" to out, waits for a line on in,
// sends at the rate and writes the result to out as JSON.
func runLoadgen(path string, in io.Reader, out io.Writer) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var spec loadgenSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if spec.Warm < 0 || spec.Warm > len(spec.IDs) || spec.Rate <= 0 {
		return fmt.Errorf("%s: warm %d of %d ids at rate %d", path, spec.Warm, len(spec.IDs), spec.Rate)
	}
	var cpu0 time.Duration
	res, err := loadSpec(spec, func() error {
		if _, err := fmt.Fprintln(out, "ready"); err != nil {
			return err
		}
		if _, err := bufio.NewReader(in).ReadString('\n'); err != nil {
			return fmt.Errorf("wait for the word to go: %w", err)
		}
		var cerr error
		cpu0, cerr = processCPU()
		return cerr
	})
	if err != nil {
		return err
	}
	cpu, err := processCPU()
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(loadgenResult{Latencies: res.latencies, Codes: res.codes, Elapsed: res.elapsed, CPU: cpu - cpu0})
}

// loadApart runs the load generator on spec in a process of its own and
// returns what it measured, with the CPU time this process (the server)
// spent during the paced run.
func loadApart(b *testing.B, spec loadgenSpec) loadResult {
	b.Helper()
	path := filepath.Join(b.TempDir(), "loadgen.json")
	data, err := json.Marshal(spec)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadgenEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || line != "ready\n" {
		b.Fatalf("load generator: %q, %v; stderr: %s", line, err, stderr.String())
	}
	cpu0 := cpuTime(b)
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		b.Fatal(err)
	}
	var res loadgenResult
	if err := json.NewDecoder(out).Decode(&res); err != nil {
		b.Fatalf("load generator: %v; stderr: %s", err, stderr.String())
	}
	cpu := cpuTime(b) - cpu0
	if err := cmd.Wait(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		b.Fatalf("load generator: %v; stderr: %s", err, stderr.String())
	}
	return loadResult{latencies: res.Latencies, elapsed: res.Elapsed, codes: res.Codes, cpu: cpu, senderCPU: res.CPU}
}

// BenchmarkServeHTTPFloor is what the webhook intake goal's p99 can be on
// this machine: a net/http server whose handler only reads the body and
// answers 202, sent a status delivery's size of body at each rate by the
// load generator, in the process (closed loop warm-up, then paced) and
// apart (loadApart), as BenchmarkServeWebhookIntakeRate sends.
func BenchmarkServeHTTPFloor(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 9882) // the status delivery's size
	for _, where := range []string{"in-process", "apart"} {
		for _, rate := range []int{5000, 8000} {
			b.Run(where+"/"+strconv.Itoa(rate), func(b *testing.B) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if _, err := io.ReadFull(r.Body, make([]byte, r.ContentLength)); err != nil {
						http.Error(w, err.Error(), http.StatusBadRequest)
						return
					}
					w.WriteHeader(http.StatusAccepted)
				})}
				go func() { _ = srv.Serve(ln) }()
				b.Cleanup(func() { _ = srv.Close() })
				spec := loadgenSpec{URL: "http://" + ln.Addr().String() + "/webhooks/github", Header: http.Header{"Content-Type": {"application/json"}},
					Vary: "X-GitHub-Delivery", Body: body, Warm: 100, Rate: rate}
				spec.IDs = make([]string, b.N+spec.Warm)
				for i := range spec.IDs {
					spec.IDs[i] = uuid.NewString()
				}
				var res loadResult
				b.ResetTimer()
				if where == "apart" {
					res = loadApart(b, spec)
				} else {
					res = inProcess(b, spec)
				}
				b.StopTimer()
				if res.codes[http.StatusAccepted] != b.N {
					b.Fatalf("statuses %v, want %d × 202", res.codes, b.N)
				}
				res.report(b)
			})
		}
	}
}

// inProcess runs spec's load in the benchmark's process, as loadApart runs
// it apart.
func inProcess(b *testing.B, spec loadgenSpec) loadResult {
	b.Helper()
	var cpu0 time.Duration
	res, err := loadSpec(spec, func() error { cpu0 = cpuTime(b); return nil })
	if err != nil {
		b.Fatal(err)
	}
	res.cpu = cpuTime(b) - cpu0
	return res
}

// loadSpec sends spec's warm-up requests in a closed loop (opening the
// connections), calls ready, and sends the rest at spec's rate (paced).
func loadSpec(spec loadgenSpec, ready func() error) (loadResult, error) {
	poster, err := newRawPoster(spec.URL, spec.Header, spec.Vary, spec.Body)
	if err != nil {
		return loadResult{}, err
	}
	defer poster.close()
	send := func(ids []string) func(int) (int, error) {
		return func(i int) (int, error) { return poster.post(ids[i]) }
	}
	if _, err := closedLoop(spec.Warm, send(spec.IDs[:spec.Warm])); err != nil {
		return loadResult{}, fmt.Errorf("warm up: %w", err)
	}
	if err := ready(); err != nil {
		return loadResult{}, err
	}
	return paced(len(spec.IDs)-spec.Warm, spec.Rate, send(spec.IDs[spec.Warm:]))
}

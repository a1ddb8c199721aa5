// Package azurite starts a real Azurite blob service for tests: the npm
// package pinned in test/package.json, run as its azurite-blob binary on a
// free loopback port with a data folder in the test's temporary directory.
//
// On a fresh clone test/node_modules is missing; Start then runs `npm ci` in
// test/ first, holding a file lock so that test packages running in parallel
// install once. Without Node.js the tests are skipped, or fail when CI=true.
package azurite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/maestroplusplus/maestro/test/testenv"
)

// The well-known development account that Azurite serves.
const (
	AccountName = "devstoreaccount1"
	AccountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

const (
	packageName  = "azurite"
	binName      = "azurite-blob"
	readyTimeout = time.Minute
	stopTimeout  = 15 * time.Second
)

// Server is a running (or stopped) Azurite blob service.
type Server struct {
	tb      testing.TB
	main    string // the azurite-blob script
	port    int
	dataDir string

	mu      sync.Mutex
	running *process
}

type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // the process's exit status, once done is closed
}

// Start starts Azurite's blob service and stops it when the test ends. It
// fails (or skips, outside CI) the test if Azurite cannot run.
func Start(tb testing.TB) *Server {
	tb.Helper()
	testDir := filepath.Join(testenv.RepoRoot(tb), "test")
	main := install(tb, testDir)
	s := &Server{tb: tb, main: main, dataDir: tb.TempDir()}
	tb.Cleanup(s.Stop)
	var lastErr error
	for range 3 { // another process may take the free port before Azurite does
		s.port = freePort(tb)
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	tb.Fatalf("azurite: %v", lastErr)
	return nil
}

// BlobEndpoint is the account's blob service URL, like
// http://127.0.0.1:PORT/devstoreaccount1.
func (s *Server) BlobEndpoint() string {
	return fmt.Sprintf("http://127.0.0.1:%d/%s", s.port, AccountName)
}

// ConnectionString is a connection string for the development account on
// this server.
func (s *Server) ConnectionString() string {
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		AccountName, AccountKey, s.BlobEndpoint())
}

// Stop shuts Azurite down gracefully, so that it saves its data; it is a
// no-op if Azurite is not running.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.running
	if p == nil {
		return
	}
	s.running = nil
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil { // Windows has no SIGINT
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		s.tb.Errorf("azurite: did not stop within %s; killed it\n%s", stopTimeout, p.out)
	}
}

// Restart stops Azurite if it runs and starts it again on the same port with
// the same data folder, so the data written before survives.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.tb.Fatalf("azurite: restart: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running != nil {
		return errors.New("already running")
	}
	cmd := exec.Command("node", s.main,
		"--blobHost", "127.0.0.1",
		"--blobPort", strconv.Itoa(s.port),
		"--location", s.dataDir,
		"--disableTelemetry",
		"--silent",
	)
	p := &process{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	if err := startAndWait(p); err != nil {
		return fmt.Errorf("start %s: %w", s.main, err)
	}
	if err := waitReady(p, s.port); err != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("port %d: %w\n%s", s.port, err, p.out)
	}
	s.running = p
	return nil
}

// waitReady polls the blob service until it answers HTTP.
func waitReady(p *process, port int) error {
	client := &http.Client{Timeout: time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/%s?comp=list", port, AccountName)
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("azurite exited before it was ready: %v", p.err)
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if strings.HasPrefix(resp.Header.Get("Server"), "Azurite") {
				return nil
			}
			return fmt.Errorf("another server (%q) answers on the port", resp.Header.Get("Server"))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s", readyTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(tb testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("azurite: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// install makes sure test/node_modules holds the pinned Azurite, running
// `npm ci` under a file lock if it does not, and returns the path of the
// azurite-blob script.
func install(tb testing.TB, testDir string) string {
	tb.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("azurite: %s is not on PATH; install Node.js 20 or later to run the blob store tests", tool)
			if os.Getenv("CI") == "true" {
				tb.Fatal(msg)
			}
			tb.Skip(msg)
		}
	}
	want, err := pinnedVersion(testDir)
	if err != nil {
		tb.Fatalf("azurite: %v", err)
	}
	if main, ok := installed(testDir, want); ok {
		return main
	}
	lock := flock.New(filepath.Join(testDir, ".npm-ci.lock"))
	if err := lock.Lock(); err != nil {
		tb.Fatalf("azurite: lock %s: %v", lock.Path(), err)
	}
	defer lock.Unlock()
	if main, ok := installed(testDir, want); ok { // another package installed it meanwhile
		return main
	}
	tb.Logf("azurite: running npm ci in %s", testDir)
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = testDir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("azurite: npm ci in %s: %v\n%s", testDir, err, out)
	}
	main, ok := installed(testDir, want)
	if !ok {
		tb.Fatalf("azurite: npm ci in %s did not install %s %s", testDir, packageName, want)
	}
	return main
}

// pinnedVersion reads the Azurite version that test/package.json pins.
func pinnedVersion(testDir string) (string, error) {
	path := filepath.Join(testDir, "package.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	v := pkg.DevDependencies[packageName]
	if v == "" {
		v = pkg.Dependencies[packageName]
	}
	if v == "" {
		return "", fmt.Errorf("%s: no %s in devDependencies", path, packageName)
	}
	return v, nil
}

// installed reports whether node_modules holds Azurite at version want, and
// returns its azurite-blob script.
func installed(testDir, want string) (string, bool) {
	pkgDir := filepath.Join(testDir, "node_modules", packageName)
	raw, err := os.ReadFile(filepath.Join(pkgDir, "package.json"))
	if err != nil {
		return "", false
	}
	var pkg struct {
		Version string            `json:"version"`
		Bin     map[string]string `json:"bin"`
	}
	if json.Unmarshal(raw, &pkg) != nil || pkg.Version != want || pkg.Bin[binName] == "" {
		return "", false
	}
	main := filepath.Join(pkgDir, filepath.FromSlash(pkg.Bin[binName]))
	if _, err := os.Stat(main); err != nil {
		return "", false
	}
	return main, true
}

// syncBuffer collects a process's output for error messages.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/test/azurite"
)

// maestroBin is the binary under test, built once by TestMain.
var maestroBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "maestro-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	maestroBin = filepath.Join(dir, "maestro")
	build := exec.Command("go", "build", "-o", maestroBin, "github.com/maestroplusplus/maestro/cmd/maestro")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build maestro:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one store that maestro processes share, plus the environment they run with.
type env struct {
	t       *testing.T
	store   string
	environ []string
	azurite *azurite.Server
}

// newLocal returns an env on a fresh registry in a local store.
func newLocal(t *testing.T) *env {
	e := &env{t: t, store: "file://" + t.TempDir()}
	e.ok("registry", "init")
	return e
}

// newAzurite returns an env on a fresh registry in a container of a real Azurite.
func newAzurite(t *testing.T) *env {
	srv := azurite.Start(t)
	e := &env{
		t:       t,
		store:   "azblob://maestro",
		environ: []string{"AZURE_STORAGE_CONNECTION_STRING=" + srv.ConnectionString()},
		azurite: srv,
	}
	e.ok("registry", "init")
	return e
}

// stores runs fn once per store kind.
func stores(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("local", func(t *testing.T) { fn(t, newLocal(t)) })
	t.Run("azurite", func(t *testing.T) { fn(t, newAzurite(t)) })
}

type result struct {
	stdout, stderr string
	code           int
}

// command returns an unstarted maestro process with --store appended, except
// for the commands that work on a repository's files alone.
func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	if !filesOnly(args) {
		// Clipped: callers share argument slices between goroutines.
		args = append(slices.Clip(args), "--store", e.store)
	}
	cmd := exec.CommandContext(ctx, maestroBin, args...)
	cmd.Env = append(cleanEnviron(), e.environ...)
	return cmd
}

func filesOnly(args []string) bool {
	if len(args) > 1 && args[0] == "legacy" && (args[1] == "publish" || args[1] == "validate") {
		return true // a versions repository or a file, no registry
	}
	return len(args) > 1 && args[0] == "deps" && args[1] != "update"
}

// cleanEnviron is the test's environment without variables that would
// change maestro's behaviour (an agent's or a store's).
func cleanEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "BUILD_") || strings.HasPrefix(k, "SYSTEM_") || k == "TF_BUILD" || k == "MAESTRO_STORE" || strings.HasPrefix(k, "AZURE_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// run runs maestro and returns what it printed and its exit code.
func (e *env) run(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.command(ctx, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run maestro %v: %v", args, err)
	}
	return result{out.String(), errOut.String(), code}
}

// ok runs maestro and fails the test unless it succeeds.
func (e *env) ok(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("maestro %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// okJSON runs maestro with --output json and decodes its output into v.
func (e *env) okJSON(v any, args ...string) {
	e.t.Helper()
	out := e.ok(append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("maestro %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// manifestSpec describes a manifest to write.
type manifestSpec struct {
	repo, branch, commit string
	azdoBuildID          int
	packages             []string // "Id@Version"
	blobs                []string // "Id"
	nonShipping          []string // "Id@Version", NonShipping="true"
}

func (s manifestSpec) xml() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="%[1]s" BuildId="20261125.%[2]d" Branch="refs/heads/%[3]s" Commit="%[4]s" AzureDevOpsBuildId="%[2]d" AzureDevOpsBuildDefinitionId="42" AzureDevOpsAccount="dnceng" AzureDevOpsProject="internal" AzureDevOpsBuildNumber="20261125.%[2]d" AzureDevOpsRepository="%[1]s" AzureDevOpsBranch="refs/heads/%[3]s" InitialAssetsLocation="https://dev.azure.com/dnceng/internal/_apis/build/builds/%[2]d/artifacts" IsStable="false">
`, s.repo, s.azdoBuildID, s.branch, s.commit)
	for _, p := range s.packages {
		id, v, _ := strings.Cut(p, "@")
		fmt.Fprintf(&b, "  <Package Id=%q Version=%q NonShipping=\"false\" />\n", id, v)
	}
	for _, p := range s.nonShipping {
		id, v, _ := strings.Cut(p, "@")
		fmt.Fprintf(&b, "  <Package Id=%q Version=%q NonShipping=\"true\" />\n", id, v)
	}
	for _, bl := range s.blobs {
		fmt.Fprintf(&b, "  <Blob Id=%q NonShipping=\"false\" />\n", bl)
	}
	b.WriteString("</Build>\n")
	return b.String()
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func sha(n int) string { return fmt.Sprintf("%040x", n) }

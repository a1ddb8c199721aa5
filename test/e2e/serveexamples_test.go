//go:build unix

package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/test/testenv"
)

// TestServeExamples checks examples/serve (docs/getting-started.md, "maestro serve as a
// service") as far as a machine without systemd as its init and without a container engine
// allows: the unit passes systemd-analyze verify, and its ExecStart — like the container's
// ENTRYPOINT and CMD — starts a server from serve.yaml and maestro.env that answers; the
// container's go build runs as written, with the Go version of go.mod, and the files it
// copies exist. Building the image and running the unit under systemd are not tried.
func TestServeExamples(t *testing.T) {
	root := testenv.RepoRoot(t)
	dir := filepath.Join(root, "examples", "serve")
	etc := t.TempDir() // stands for /etc/maestro

	// maestro.env with the store replaced by a local registry; every variable in it is one
	// that maestro reads (README or maestro serve --help names it).
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	help, err := exec.Command(maestroBin, "serve", "--help").CombinedOutput()
	require.NoError(t, err)
	store := newLocal(t)
	var envFile strings.Builder
	vars := map[string]string{}
	for _, kv := range readEnvFile(t, filepath.Join(dir, "maestro.env")) {
		k, v := kv[0], kv[1]
		require.True(t, strings.Contains(string(readme), k) || strings.Contains(string(help), k), "maestro.env sets %s, which maestro does not read", k)
		switch {
		case k == "MAESTRO_STORE":
			v = store.store
		case strings.HasPrefix(k, "AZURE_"):
			continue
		}
		vars[k] = v
		fmt.Fprintf(&envFile, "%s=%s\n", k, v)
	}
	require.Contains(t, vars, "MAESTRO_STORE")
	require.NoError(t, os.WriteFile(filepath.Join(etc, "maestro.env"), []byte(envFile.String()), 0o600))
	serveYAML, err := os.ReadFile(filepath.Join(dir, "serve.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(etc, "serve.yaml"), serveYAML, 0o644))
	var environ []string
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	localize := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, "/usr/local/bin/maestro", maestroBin), "/etc/maestro/", etc+"/")
	}

	t.Run("systemd unit", func(t *testing.T) {
		unit, err := os.ReadFile(filepath.Join(dir, "maestro.service"))
		require.NoError(t, err)
		execStart := regexp.MustCompile(`(?m)^ExecStart=(.*)$`).FindStringSubmatch(string(unit))
		require.NotNil(t, execStart, "maestro.service has no ExecStart")
		require.Contains(t, string(unit), "\nEnvironmentFile=/etc/maestro/maestro.env\n")
		if _, err := exec.LookPath("systemd-analyze"); err == nil {
			// The unit as installed, with the binary and /etc/maestro where this test has them.
			path := filepath.Join(t.TempDir(), "maestro.service")
			require.NoError(t, os.WriteFile(path, []byte(localize(string(unit))), 0o644))
			out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
			require.NoError(t, err, "systemd-analyze verify maestro.service:\n%s", out)
			require.Empty(t, strings.TrimSpace(string(out)), "systemd-analyze verify warns")
		} else {
			t.Log("no systemd-analyze: the unit's syntax is not verified")
		}
		checkServes(t, strings.Fields(localize(execStart[1])), environ, vars)
	})

	t.Run("container", func(t *testing.T) {
		instructions := readContainerfile(t, filepath.Join(dir, "Containerfile"))
		goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
		require.NoError(t, err)
		goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(goMod)
		require.NotNil(t, goVersion)

		var froms []string
		var build, entrypoint, cmd string
		args := map[string]string{}
		var expose, user string
		for _, in := range instructions {
			op, rest, _ := strings.Cut(in, " ")
			switch strings.ToUpper(op) {
			case "FROM":
				froms = append(froms, rest)
			case "ARG":
				k, v, _ := strings.Cut(rest, "=")
				args[k] = v
			case "RUN":
				if strings.Contains(rest, "go build") {
					build = rest
				}
			case "COPY":
				if strings.HasPrefix(rest, "--from=") {
					continue
				}
				fields := strings.Fields(rest)
				for _, src := range fields[:len(fields)-1] {
					_, err := os.Stat(filepath.Join(root, src))
					require.NoError(t, err, "COPY %s: not in the repository", src)
				}
			case "EXPOSE":
				expose = rest
			case "USER":
				user = rest
			case "ENTRYPOINT":
				entrypoint = rest
			case "CMD":
				cmd = rest
			}
		}
		require.Len(t, froms, 2, "a build stage and a runtime stage")
		require.True(t, strings.HasPrefix(froms[0], "golang:"+string(goVersion[1])+"-"), "the build stage %q is not Go %s of go.mod", froms[0], goVersion[1])
		require.NotEmpty(t, user)
		require.NotEqual(t, "root", user)

		// The go build, as written, from the repository's root.
		require.NotEmpty(t, build, "no RUN go build")
		out := filepath.Join(t.TempDir(), "maestro")
		version := "getting-started-test"
		line := strings.ReplaceAll(strings.ReplaceAll(build, "${VERSION}", version), "/out/maestro", out)
		require.Contains(t, args, "VERSION")
		goBuild := exec.Command("sh", "-c", line)
		goBuild.Dir = buildContext(t, root, filepath.Join(dir, "Containerfile.dockerignore"))
		output, err := goBuild.CombinedOutput()
		require.NoError(t, err, "%s\n%s", line, output)
		printed, err := exec.Command(out, "--version").CombinedOutput()
		require.NoError(t, err)
		require.Contains(t, string(printed), version)

		// ENTRYPOINT and CMD, exec form, with the built binary.
		var argv, cmdArgs []string
		require.NoError(t, json.Unmarshal([]byte(entrypoint), &argv), "ENTRYPOINT %s is not the exec form", entrypoint)
		require.NoError(t, json.Unmarshal([]byte(cmd), &cmdArgs), "CMD %s is not the exec form", cmd)
		argv = append(argv, cmdArgs...)
		listen := slicesIndex(argv, "--listen")
		require.GreaterOrEqual(t, listen, 0, "the container's command sets no --listen")
		require.True(t, strings.HasSuffix(argv[listen+1], ":"+expose), "--listen %s, EXPOSE %s", argv[listen+1], expose)
		argv[0] = out
		for i := range argv {
			argv[i] = localize(argv[i])
		}
		checkServes(t, argv, environ, vars)
	})
}

// buildContext copies the repository at root into a new folder without what the ignore file
// excludes, as the container engine sends it: a pattern "**/NAME" excludes every file or
// folder named NAME, any other pattern the path it names (enough for the patterns
// Containerfile.dockerignore uses; a pattern of another form fails the test).
func buildContext(t *testing.T, root, ignoreFile string) string {
	t.Helper()
	data, err := os.ReadFile(ignoreFile)
	require.NoError(t, err)
	var anywhere, paths []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "**/") && !strings.ContainsAny(l[3:], "*?[/!"):
			anywhere = append(anywhere, l[3:])
		case !strings.ContainsAny(l, "*?[!"):
			paths = append(paths, strings.Trim(l, "/"))
		default:
			t.Fatalf("%s: pattern %q: this test reads only **/NAME and plain paths", ignoreFile, l)
		}
	}
	context := t.TempDir()
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if slicesIndex(paths, rel) >= 0 || slicesIndex(anywhere, d.Name()) >= 0 {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(context, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		}
		return nil // links: none that the build needs
	})
	require.NoError(t, err)
	return context
}

func slicesIndex(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// readContainerfile returns a Containerfile's instructions, continuation lines joined and
// comments dropped.
func readContainerfile(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []string
	for _, l := range joinContinuations(string(data)) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return out
}

var servingAddrRe = regexp.MustCompile(`msg=serving address=(\S+) routes="\[([^\]]*)\]"`)

// checkServes starts argv (a maestro serve command line) on a free loopback port with
// environ, waits until /readyz answers, checks the routes serve.yaml enables and that the
// API takes the read token of vars, that the replica leads the scheduler (/healthz,
// /metrics), then stops it with SIGTERM, as systemd and container
// engines do, and expects a clean exit.
func checkServes(t *testing.T, argv, environ []string, vars map[string]string) {
	t.Helper()
	require.Equal(t, "serve", argv[1])
	if i := slicesIndex(argv, "--listen"); i >= 0 {
		argv = append(argv[:i:i], argv[i+2:]...)
	}
	argv = append(argv, "--listen", "127.0.0.1:0")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(cleanEnviron(), environ...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var mu sync.Mutex
	var logs strings.Builder
	serving := make(chan []string, 1)
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := servingAddrRe.FindStringSubmatch(sc.Text()); m != nil {
				serving <- m[1:]
			}
		}
		done <- cmd.Wait()
	}()
	log := func() string { mu.Lock(); defer mu.Unlock(); return logs.String() }
	var m []string
	select {
	case m = <-serving:
	case err := <-done:
		t.Fatalf("%v exited: %v\n%s", argv, err, log())
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("%v did not start\n%s", argv, log())
	}
	url := "http://" + m[0]
	require.Equal(t, "POST /webhooks/github POST /webhooks/azure-devops", m[1], "the routes serve.yaml enables")
	require.Eventually(t, func() bool {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond)
	req, err := http.NewRequest(http.MethodGet, url+"/api/channels", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+vars["MAESTRO_API_READ_TOKEN"])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET /api/channels with maestro.env's read token")
	// serve.yaml turns the scheduler on: a replica alone leads.
	require.Eventually(t, func() bool {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var health struct{ Scheduler string }
		return json.NewDecoder(resp.Body).Decode(&health) == nil && health.Scheduler == "leader"
	}, 30*time.Second, 50*time.Millisecond, "the replica does not lead the scheduler\n%s", log())
	resp, err = http.Get(url + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Contains(t, string(metrics), "\nmaestro_scheduler_leader 1\n")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		require.NoError(t, err, "SIGTERM stops maestro serve cleanly\n%s", log())
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("maestro serve did not stop within a minute of SIGTERM\n%s", log())
	}
	for k, v := range vars {
		if strings.Contains(k, "SECRET") || strings.Contains(k, "TOKEN") {
			require.NotContains(t, log(), v, "%s in the log", k)
		}
	}
}

//go:build unix

package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/test/azurite"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// The markers of docs/getting-started.md (the page says what each means).
var (
	markerRe  = regexp.MustCompile(`^<!-- (run|output|log|not run)(?:[: ](.*?))? -->$`)
	pagePort  = "127.0.0.1:8080"
	attrRe    = regexp.MustCompile(`(\w+)=(\S+)`)
	maestroRe = regexp.MustCompile(`^(?:sudo )?maestro(?: |$)`)
)

// docBlock is one fenced block of a page.
type docBlock struct {
	line   int    // of the opening fence, 1-based
	lang   string // after the fence
	marker string // run, output, not run, or ""
	attrs  map[string]string
	body   string
}

// readBlocks returns the fenced blocks of a Markdown file, each with the marker comment on
// the line before its fence.
func readBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	var blocks []docBlock
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], "```") {
			continue
		}
		b := docBlock{line: i + 1, lang: strings.TrimPrefix(lines[i], "```"), attrs: map[string]string{}}
		if i > 0 {
			if m := markerRe.FindStringSubmatch(strings.TrimSpace(lines[i-1])); m != nil {
				b.marker = m[1]
				for _, a := range attrRe.FindAllStringSubmatch(m[2], -1) {
					b.attrs[a[1]] = a[2]
				}
			}
		}
		var body []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			body = append(body, lines[i])
		}
		require.Less(t, i, len(lines), "%s:%d: the block is not closed", path, b.line)
		b.body = strings.Join(body, "\n")
		blocks = append(blocks, b)
	}
	return blocks
}

// TestGettingStarted runs docs/getting-started.md as a new user would: its runnable blocks
// in order in one shell, its troubleshooting commands compared with what they print, and
// the maestro commands of the steps that need Azure checked against the binary's help.
func TestGettingStarted(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the page's steps use %s, which this machine lacks", tool)
		}
	}
	root := testenv.RepoRoot(t)
	page := filepath.Join(root, "docs", "getting-started.md")
	blocks := readBlocks(t, page)
	var runs, outputs, logs, notRun []docBlock
	for _, b := range blocks {
		switch {
		case b.marker == "run" && b.lang == "sh":
			runs = append(runs, b)
		case b.marker == "output" && b.lang == "text":
			outputs = append(outputs, b)
		case b.marker == "log" && b.lang == "text" && b.attrs["env"] == "serve":
			logs = append(logs, b)
		case b.marker == "not run" && b.lang == "sh":
			notRun = append(notRun, b)
		case b.lang == "sh" || b.marker != "":
			t.Errorf("getting-started.md:%d: a ```%s block marked %q; a sh block is marked <!-- run --> or <!-- not run: why -->, a ```text block after <!-- output exit=N --> is a command's output, after <!-- log env=serve --> the log of the env=serve server", b.line, b.lang, b.marker)
		}
	}
	require.NotEmpty(t, runs)
	require.NotEmpty(t, outputs)
	require.NotEmpty(t, notRun)

	srv := azurite.Start(t)
	home := t.TempDir()
	// A new user's shell: no store, no host credentials, no secrets of this machine's.
	environ := slices.DeleteFunc(cleanEnviron(), func(kv string) bool {
		return strings.HasPrefix(kv, "MAESTRO_") || strings.HasPrefix(kv, "GITHUB_")
	})
	environ = append(slices.Clip(environ),
		"HOME="+home,
		"PATH="+filepath.Dir(maestroBin)+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	port := freeLocalPort(t)

	t.Run("run", func(t *testing.T) {
		var script strings.Builder
		script.WriteString("set -euo pipefail\n")
		for _, b := range runs {
			fmt.Fprintf(&script, "echo '### docs/getting-started.md:%d' >&2\n%s\n", b.line, b.body)
		}
		env := append(slices.Clip(environ), "AZURE_STORAGE_CONNECTION_STRING="+srv.ConnectionString())
		out, code := runShell(t, home, env, strings.ReplaceAll(script.String(), pagePort, port))
		require.Equal(t, 0, code, "the page's runnable blocks (the last ### line is the block that failed):\n%s", out)
		// What the blocks claim in their comments.
		require.Contains(t, out, "No changes: the registry matches maestro.yaml.")
		require.Contains(t, out, `"routes":["POST /webhooks/github"]`)
		require.Contains(t, out, "clean: 1 builds")
		// publish-trigger list, on the registry and on the one restored from its configuration file
		require.Len(t, regexp.MustCompile(`https://dev.azure.com/contoso +engineering +42`).FindAllString(out, -1), 2, out)
	})

	t.Run("output", func(t *testing.T) {
		with := func(kv string) []string { return append(slices.Clip(environ), kv) }
		envs := map[string][]string{
			"":        environ,
			"azurite": with("AZURE_STORAGE_CONNECTION_STRING=" + srv.ConnectionString()),
			"bad-sas": with("AZURE_STORAGE_CONNECTION_STRING=BlobEndpoint=" + srv.BlobEndpoint() +
				";SharedAccessSignature=sv=2022-11-02&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00:00:00Z&spr=https,http&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"),
			"unreachable": with("AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=" + azurite.AccountName +
				";AccountKey=" + azurite.AccountKey + ";BlobEndpoint=http://127.0.0.1:1/" + azurite.AccountName + ";"),
		}
		// env=serve: a server with the GitHub and Azure DevOps routes, their secrets not the
		// ones the page sends.
		var serving *served
		for _, b := range outputs {
			if b.attrs["env"] == "serve" && serving == nil {
				e := newLocal(t)
				e.environ = append(e.environ, "MAESTRO_AZDO_HOOK_SECRET=e2e-azure-devops-hook-secret")
				serving = serve(t, e, "--github-webhooks", "--azure-devops-hooks")
			}
		}
		for _, b := range outputs {
			name := fmt.Sprintf("line %d", b.line)
			t.Run(name, func(t *testing.T) {
				cmdLine, expected, ok := strings.Cut(b.body, "\n")
				require.True(t, ok && strings.HasPrefix(cmdLine, "$ "), "line %d: an output block starts with `$ command` and has the output after it", b.line)
				cmdLine = strings.TrimPrefix(cmdLine, "$ ")
				wantCode, err := strconv.Atoi(b.attrs["exit"])
				require.NoError(t, err, "line %d: the marker needs exit=N", b.line)
				env, known := envs[b.attrs["env"]]
				if b.attrs["env"] == "serve" {
					env, known = environ, true
					cmdLine = strings.ReplaceAll(cmdLine, "http://"+pagePort, serving.url)
				}
				require.True(t, known, "line %d: unknown env=%s", b.line, b.attrs["env"])
				out, code := runShell(t, home, env, strings.ReplaceAll(cmdLine, pagePort, port))
				require.Equal(t, wantCode, code, "%s\n%s", cmdLine, out)
				requireLinesInOrder(t, expected, out)
			})
		}
		// <!-- log env=serve -->: what that server logged for the requests above.
		require.NotEmpty(t, logs)
		require.NotNil(t, serving)
		for _, b := range logs {
			requireLinesInOrder(t, b.body, serving.log())
		}
	})

	t.Run("not run", func(t *testing.T) {
		for _, b := range notRun {
			for _, line := range joinContinuations(b.body) {
				line = strings.TrimSpace(stripComment(line))
				switch {
				case maestroRe.MatchString(line):
					checkCommandExists(t, b.line, shellWords(strings.TrimPrefix(line, "sudo ")))
				case strings.HasPrefix(line, "make "):
					makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
					require.NoError(t, err)
					target := shellWords(line)[1]
					require.Contains(t, string(makefile), "\n"+target+":", "line %d: make has no target %s", b.line, target)
				}
			}
		}
	})

	t.Run("files", func(t *testing.T) {
		data, err := os.ReadFile(page)
		require.NoError(t, err)
		named := regexp.MustCompile("(?:examples|pipelines|scripts|docs)/[A-Za-z0-9_./-]*[A-Za-z0-9_]").FindAllString(string(data), -1)
		require.NotEmpty(t, named)
		for _, rel := range named {
			_, err := os.Stat(filepath.Join(root, rel))
			require.NoError(t, err, "the page names %s", rel)
		}
	})
}

// runShell runs script with bash in dir and returns its combined output and exit code. The
// script runs in a process group of its own, killed at the end, so a server it started in
// the background does not outlive it.
func runShell(t *testing.T, dir string, env []string, script string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Start()
	require.NoError(t, err)
	err = cmd.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	case err != nil:
		t.Fatalf("bash: %v\n%s", err, out.String())
	}
	return out.String(), 0
}

// requireLinesInOrder finds each line of expected, in order, as a whole line of actual
// (spaces around either trimmed); "…" in an expected line stands for any text.
func requireLinesInOrder(t *testing.T, expected, actual string) {
	t.Helper()
	lines := strings.Split(actual, "\n")
	next := 0
	for _, want := range strings.Split(strings.TrimSpace(expected), "\n") {
		parts := strings.Split(strings.TrimSpace(want), "…")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
		found := false
		for ; next < len(lines) && !found; next++ {
			found = re.MatchString(strings.TrimSpace(lines[next]))
		}
		require.True(t, found, "the page shows the line\n  %s\nwhich the command did not print (in this order):\n%s", want, actual)
	}
}

// joinContinuations joins the lines a trailing backslash continues.
func joinContinuations(body string) []string {
	var out []string
	var cur strings.Builder
	for _, l := range strings.Split(body, "\n") {
		if strings.HasSuffix(l, "\\") {
			cur.WriteString(strings.TrimSuffix(l, "\\") + " ")
			continue
		}
		cur.WriteString(l)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// stripComment removes a shell comment that starts outside quotes.
func stripComment(line string) string {
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || line[i-1] == ' '):
			return line[:i]
		}
	}
	return line
}

// shellWords splits a command line into words, honouring single and double quotes (enough
// for the page's maestro lines, which have no expansions that matter to their flags).
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// checkCommandExists checks that maestro has the command the words name (the words up to the
// first flag) and that its help lists every flag given.
func checkCommandExists(t *testing.T, line int, words []string) {
	t.Helper()
	require.Equal(t, "maestro", words[0])
	var path, flags []string
	for _, w := range words[1:] {
		switch {
		case strings.HasPrefix(w, "-"):
			name, _, _ := strings.Cut(w, "=")
			flags = append(flags, name)
		case len(flags) == 0:
			path = append(path, w)
		}
	}
	cmd := exec.Command(maestroBin, append(path, "--help")...)
	cmd.Env = cleanEnviron()
	help, err := cmd.CombinedOutput()
	require.NoError(t, err, "line %d: maestro %s --help\n%s", line, strings.Join(path, " "), help)
	require.Contains(t, string(help), "maestro "+strings.Join(path, " ")+" ", "line %d: maestro has no command %q", line, strings.Join(path, " "))
	for _, f := range flags {
		require.Regexp(t, `(^|[\s,])`+regexp.QuoteMeta(f)+`([\s,=]|$)`, string(help), "line %d: maestro %s has no flag %s", line, strings.Join(path, " "), f)
	}
}

// freeLocalPort returns a loopback address's port that was free a moment ago.
func freeLocalPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// readEnvFile reads an environment file that systemd (EnvironmentFile=) and docker run
// --env-file read alike: KEY=VALUE lines and # comments, values unquoted (docker would keep
// the quotes), in order.
func readEnvFile(t *testing.T, path string) [][2]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		require.True(t, ok, "%s: %q is not KEY=VALUE", path, l)
		require.False(t, strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "'"), "%s: %s is quoted; docker run --env-file keeps quotes in the value", path, k)
		out = append(out, [2]string{k, v})
	}
	require.NoError(t, sc.Err())
	return out
}

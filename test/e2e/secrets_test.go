package e2e_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
	"github.com/maestroplusplus/maestro/test/azurite"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
	"github.com/maestroplusplus/maestro/test/testenv"
)

// Recognisable secrets: none of them may appear in anything maestro prints.
const (
	fakeSASSignature = "MaestroSecretSig+0123456789abcdefABCDEF/xyz="
	githubSecret     = "ghp_MaestroSecretGitHubToken0123456789ab"
	azdoSecret       = "maestrosecretazdopat0123456789abcdefghijklmnopqrst"
)

var fakeAccountKey = base64.StdEncoding.EncodeToString([]byte("maestro-secret-account-key-0123456789"))

// leaks returns the secrets found in out: each as written, percent-encoded
// and inside any base64 text (a Basic credential).
func leaks(out string, secrets ...string) []string {
	var found []string
	b64 := regexp.MustCompile(`[A-Za-z0-9+/]{12,}={0,2}`)
	for _, s := range secrets {
		hit := strings.Contains(out, s) || strings.Contains(out, url.QueryEscape(s)) || strings.Contains(out, url.PathEscape(s))
		for _, m := range b64.FindAllString(out, -1) {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
				if d, err := enc.DecodeString(m); err == nil && strings.Contains(string(d), s) {
					hit = true
				}
			}
		}
		if hit {
			found = append(found, s)
		}
	}
	return found
}

// noLeak fails the test if out contains any secret.
func noLeak(t *testing.T, what, out string, secrets ...string) {
	t.Helper()
	if found := leaks(out, secrets...); len(found) > 0 {
		t.Errorf("%s shows the secrets %q:\n%s", what, found, out)
	}
}

// TestLeaksCatchesEncodings proves that the check finds each secret in
// each form the grep is meant to catch.
func TestLeaksCatchesEncodings(t *testing.T) {
	for _, out := range []string{
		"GET http://h/c?sig=" + url.QueryEscape(fakeSASSignature),
		"sig=" + fakeSASSignature,
		"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(":"+azdoSecret)),
		"token " + githubSecret + " expired",
	} {
		if len(leaks(out, fakeSASSignature, azdoSecret, githubSecret)) != 1 {
			t.Errorf("leaks(%q) did not find the secret", out)
		}
	}
}

// closedEndpoint is the blob endpoint of an address nothing listens on.
func closedEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr + "/" + azurite.AccountName
}

func sasConnectionString(endpoint, query string) string {
	return "BlobEndpoint=" + endpoint + ";SharedAccessSignature=" + query
}

func fakeSASQuery() string {
	return "sv=2021-08-06&ss=b&srt=sco&sp=rwdlac&se=2099-01-01T00:00:00Z&sig=" + url.QueryEscape(fakeSASSignature)
}

// realSASQuery is an account SAS for Azurite's development account and the
// signature in it.
func realSASQuery(t *testing.T) (query, signature string) {
	cred, err := azblob.NewSharedKeyCredential(azurite.AccountName, azurite.AccountKey)
	require.NoError(t, err)
	qp, err := sas.AccountSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    time.Now().Add(time.Hour).UTC(),
		Permissions:   (&sas.AccountPermissions{Read: true, Write: true, Delete: true, List: true, Add: true, Create: true}).String(),
		ResourceTypes: (&sas.AccountResourceTypes{Service: true, Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	require.NoError(t, err)
	return qp.Encode(), qp.Signature()
}

// TestNoSecretInStoreFailures runs store commands against unreachable
// accounts, with a SAS and with an account key, and publishes while Azurite
// stops under a command that opened it: every failure exits 5 (unreachable),
// and no output line, error or agent log command shows the secret.
func TestNoSecretInStoreFailures(t *testing.T) {
	m := writeFile(t, t.TempDir(), "m.xml", manifestSpec{repo: "https://github.com/o/r", branch: "main", commit: sha(1), azdoBuildID: 1,
		packages: []string{"P@1.0.0"}}.xml())
	unreachable := map[string]struct {
		conn    string
		secrets []string
	}{
		"SAS": {sasConnectionString(closedEndpoint(t), fakeSASQuery()), []string{fakeSASSignature}},
		"account key": {fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
			azurite.AccountName, fakeAccountKey, closedEndpoint(t)), []string{fakeAccountKey}},
	}
	for name, c := range unreachable {
		t.Run("unreachable with "+name, func(t *testing.T) {
			e := &env{t: t, store: "azblob://maestro", environ: []string{"AZURE_STORAGE_CONNECTION_STRING=" + c.conn, "TF_BUILD=True"}}
			for _, args := range [][]string{
				{"channel", "list"},
				{"build", "list", "--output", "json"},
				{"publish", "--manifest", m},
			} {
				r := e.run(args...)
				assert.Equal(t, 5, r.code, "maestro %v: %s", args, r.stderr)
				assert.Contains(t, r.stderr, "##vso[task.logissue type=error]")
				noLeak(t, fmt.Sprintf("maestro %v", args), r.stdout+r.stderr, c.secrets...)
			}
		})
	}

	srv := azurite.Start(t)
	query, sig := realSASQuery(t)
	stopped := map[string]struct {
		conn    string
		secrets []string
	}{
		"SAS":         {sasConnectionString(srv.BlobEndpoint(), query), []string{sig}},
		"account key": {srv.ConnectionString(), []string{azurite.AccountKey}},
	}
	for _, name := range []string{"SAS", "account key"} {
		c := stopped[name]
		t.Run("Azurite stopped after open with "+name, func(t *testing.T) {
			srv.Restart()
			e := &env{t: t, store: "azblob://secret" + strings.ReplaceAll(name, " ", ""), environ: []string{"AZURE_STORAGE_CONNECTION_STRING=" + c.conn}}
			e.store = strings.ToLower(e.store)
			e.ok("registry", "init")
			e.ok("channel", "add", "--name", "dev")
			dir := t.TempDir()
			spec := manifestSpec{repo: "https://github.com/o/big", branch: "main", commit: sha(7), azdoBuildID: 4242}
			for i := range 150 {
				name := fmt.Sprintf("assets/f%03d.bin", i)
				spec.blobs = append(spec.blobs, name)
				writeFile(t, filepath.Join(dir, "upload"), name, strings.Repeat("x", 64<<10))
			}
			manifest := writeFile(t, dir, "m.xml", spec.xml())
			out, code, stoppedMid := runStoppingAzurite(t, e, srv, "publish", "--manifest", manifest, "--upload", filepath.Join(dir, "upload"))
			require.True(t, stoppedMid, "publish reported no upload progress:\n%s", out)
			assert.Equal(t, 5, code, "a store outage after open exits 5:\n%s", out)
			noLeak(t, "publish while Azurite stops", out, c.secrets...)
		})
	}
}

// runStoppingAzurite runs maestro under an agent and stops Azurite at its
// first progress line; it returns everything the process printed (stdout
// and stderr) and its exit code.
func runStoppingAzurite(t *testing.T, e *env, srv *azurite.Server, args ...string) (string, int, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := e.command(ctx, args...)
	cmd.Env = append(cmd.Env, "TF_BUILD=True")
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = pw, pw
	require.NoError(t, cmd.Start())
	_ = pw.Close()
	var all strings.Builder
	stopped := false
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		all.WriteString(sc.Text() + "\n")
		if !stopped && strings.HasPrefix(sc.Text(), "##vso[task.setprogress") {
			srv.Stop()
			stopped = true
		}
	}
	_ = pr.Close()
	err = cmd.Wait()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return all.String(), code, stopped
}

// echo answers a request 401 with a body that repeats the request's
// Authorization header and URL, as a careless service might.
func echo(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintf(w, `{"$id":"1","message":"Bad credentials %s for %s","typeKey":"UnauthorizedRequestException","errorCode":0}`,
		r.Header.Get("Authorization"), r.URL.String())
}

// gitOnlyProxy serves git's smart HTTP requests from the double at target and
// answers every other request (the REST API) with echo, so that a flow gets
// as far as pushing its branch and then meets an API that refuses its token.
func gitOnlyProxy(t *testing.T, target string) *httptest.Server {
	u, err := url.Parse(target)
	require.NoError(t, err)
	git := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/info/refs") || strings.HasSuffix(r.URL.Path, "/git-upload-pack") || strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			git.ServeHTTP(w, r)
			return
		}
		echo(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNoSecretInClientFailures flows a build to a GitHub repository, an
// Azure Repos repository and an Azure DevOps update pipeline whose REST APIs
// refuse the token and echo it back (git itself works): the command output
// and the recorded flow history never show a token.
func TestNoSecretInClientFailures(t *testing.T) {
	const c = "sourcelink-0074a21d83"
	before := filepath.Join(testenv.Shared(t, "fixtures", "maestro-updates", "cases"), c, "before")
	files := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(before, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(before, p)
		files[filepath.ToSlash(rel)] = data
		return err
	}))
	strFiles := map[string]string{}
	for k, v := range files {
		strFiles[k] = string(v)
	}

	ghDouble := githubdouble.NewServer(t)
	ghDouble.AddToken("maestro", githubSecret)
	ghDouble.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "sourcelink", Files: strFiles})
	gh := gitOnlyProxy(t, ghDouble.URL())

	azDouble := azdodouble.NewServer(t, azdodouble.WithPAT(azdoSecret))
	azDouble.AddRepository(azDouble.AddProject("internal"), "dotnet-sourcelink").Commit("main", files, "initial")
	az := gitOnlyProxy(t, azDouble.URL())
	org := az.URL + strings.TrimPrefix(azDouble.OrganizationURL(), azDouble.URL())

	e := newLocal(t)
	e.environ = []string{
		"GITHUB_TOKEN=" + githubSecret, "MAESTRO_GITHUB_URL=" + gh.URL,
		"MAESTRO_AZDO_TOKEN=" + azdoSecret, "MAESTRO_AZDO_SERVER_URLS=" + org,
		"MAESTRO_ALLOW_HTTP_LOOPBACK=true", "TF_BUILD=True",
	}
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	for _, extra := range [][]string{
		{"--target-repo", gh.URL + "/dotnet/sourcelink"},
		{"--target-repo", org + "/internal/_git/dotnet-sourcelink"},
		{"--target-repo", gh.URL + "/dotnet/sdk", "--update-pipeline", org + "/internal/_build?definitionId=7"},
	} {
		e.ok(append([]string{"subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-branch", "main", "--update-frequency", "everyBuild"}, extra...)...)
	}
	m := writeFile(t, t.TempDir(), "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main",
		commit: "7b731032220c21a3ed0021c72757b1f3122579b2", azdoBuildID: 1,
		packages: []string{"Microsoft.DotNet.Arcade.Sdk@1.0.0-beta.19463.3"}}.xml())
	var all strings.Builder
	r := e.run("publish", "--manifest", m)
	all.WriteString(r.stdout + r.stderr)
	history := e.run("flow", "history", "--output", "json")
	all.WriteString(history.stdout + history.stderr)
	assert.Equal(t, 3, strings.Count(history.stdout, `"result": "failure"`), "every flow failed:\n%s", history.stdout)
	assert.Equal(t, 3, strings.Count(history.stdout, "Bad credentials"), "every flow met the refusing API:\n%s", history.stdout)
	for _, id := range regexp.MustCompile(`"subscriptionId": "([^"]+)"`).FindAllStringSubmatch(history.stdout, -1) {
		r := e.run("subscription", "trigger", "--id", id[1], "--force")
		assert.NotEqual(t, 0, r.code)
		all.WriteString(r.stdout + r.stderr)
	}
	noLeak(t, "maestro output", all.String(), githubSecret, azdoSecret)
}

package legacy_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

var bot = git.Runner{Author: git.Identity{Name: "dotnet-bot", Email: "dotnet-bot@example.com"}}

// versionsRepo returns a bare repository whose branch master holds files.
func versionsRepo(t *testing.T, files map[string][]byte) string {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	origin := filepath.Join(root, "versions.git")
	require.NoError(t, bot.Init(ctx, origin, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, bot.Init(ctx, seed, false))
	files["README.md"] = []byte("versions\n")
	for name, data := range files {
		p := filepath.Join(seed, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	_, err := bot.CommitAll(ctx, seed, "seed")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, seed, origin, "HEAD", "master", ""))
	return origin
}

// publishCases are the cases the fixture README names for its quirks, and
// every 60th case besides.
func publishCases(t *testing.T) []buildInfoCase {
	named := map[string]bool{
		"core-setup__PublishPlayground-cf9180b26d": true, "core-setup__dev_defaultintf-0008d2506d": true,
		"core-setup__master-5218ffc405": true, "cli__release_2.0.0-57e7eaed9e": true, "cli__master-3f7085081b": true,
		"cli__master-62deed5578": true, "cli__master-dffa08c0fe": true, "cli__release_2.1.1xx-13ba2d1b2a": true,
		"cli__master-13e1d280c1": true, "roslyn__dev16.0-0bb572a24f": true, "cli__master-6d63a0356c": true,
		"coreclr__release_3.1-275561fd08": true, "wcf__release_2.0.0-8aae14c4e5": true,
		"coreclr__disable_test_flag-1bda8f5fa3": true, "buildtools__master-4c8b64e5a7": true,
	}
	var out []buildInfoCase
	found := 0
	for i, c := range buildInfoCases(t) {
		if named[c.Name] {
			found++
		}
		if named[c.Name] || i%60 == 0 {
			out = append(out, c)
		}
	}
	require.Equal(t, len(named), found, "the named cases exist")
	return out
}

// TestPublishFixtures publishes each case's build onto a versions
// repository holding its before/ files and compares the pushed commit with
// the real one: the three files byte for byte, the subject, and which files
// changed (none for the fixture's empty commits).
func TestPublishFixtures(t *testing.T) {
	ctx := context.Background()
	for _, c := range publishCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			seed := map[string][]byte{}
			for name, data := range c.Before {
				seed[c.Meta.Folder+"/"+name] = data
			}
			origin := versionsRepo(t, seed)
			before, err := bot.RevParse(ctx, origin, "master")
			require.NoError(t, err)
			build, sep, err := legacy.ParsePackages("build", c.After[legacy.LastBuildPackagesFile])
			require.NoError(t, err)
			if sep == "" {
				sep = separator(c)
			}
			res, err := legacy.Publisher{Git: bot}.Publish(ctx, legacy.PublishRequest{
				Repo: origin, Branch: "master", Name: c.Meta.Name, Channel: c.Meta.Channel,
				Packages: build, Label: c.Meta.Label, Newline: sep,
			})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Attempts)
			assert.Equal(t, c.Meta.Folder, res.Folder)
			head, err := bot.RevParse(ctx, origin, "master")
			require.NoError(t, err)
			assert.Equal(t, res.Commit, head)
			for name, want := range c.After {
				got, err := bot.Show(ctx, origin, "master", c.Meta.Folder+"/"+name)
				require.NoError(t, err)
				assert.Equal(t, string(want), string(got), name)
			}
			assert.Equal(t, c.Meta.Subject, subjectOf(t, origin, head))
			diff, err := bot.Diff(ctx, origin, before, head)
			require.NoError(t, err)
			if len(c.Meta.FilesChanged) == 0 {
				assert.Empty(t, diff, "the real commit changed nothing")
			} else {
				for _, f := range c.Meta.FilesChanged {
					assert.Contains(t, diff, c.Meta.Folder+"/"+f)
				}
			}
		})
	}
}

func subjectOf(t *testing.T, repo, commit string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "log", "-1", "--format=%s", commit).Output()
	require.NoError(t, err)
	return strings.TrimSuffix(string(out), "\n")
}

// TestPublishConcurrentPublisherForcesRetry: publisher A fetches, commits
// and pushes; its push is held in the remote's pre-receive hook while
// publisher B publishes another channel and lands. A's ref update then
// loses (the branch is no longer where A read it); A fetches B's commit,
// applies its build again on top and pushes: both builds are on the branch,
// one after the other, nothing forced.
func TestPublishConcurrentPublisherForcesRetry(t *testing.T) {
	ctx := context.Background()
	origin := versionsRepo(t, map[string][]byte{
		"build-info/dotnet/coreclr/master/Latest_Packages.txt": []byte("Microsoft.NETCore.Runtime.CoreCLR 2.0.0-preview1-1\r\nMicrosoft.NETCore.ILAsm 2.0.0-preview1-1"),
	})
	gate := t.TempDir()
	hook := "#!/bin/sh\nif mkdir '" + gate + "/first' 2>/dev/null; then\n  touch '" + gate + "/entered'\n  while [ ! -e '" + gate + "/release' ]; do sleep 0.02; done\nfi\nexit 0\n"
	require.NoError(t, os.WriteFile(filepath.Join(origin, "hooks", "pre-receive"), []byte(hook), 0o755))

	var wg sync.WaitGroup
	var resA legacy.PublishResult
	var errA error
	wg.Add(1)
	go func() {
		defer wg.Done()
		resA, errA = legacy.Publisher{Git: bot}.Publish(ctx, legacy.PublishRequest{
			Repo: origin, Branch: "master", Name: "coreclr", Channel: "master",
			Packages: []legacy.Package{{ID: "Microsoft.NETCore.Runtime.CoreCLR", Version: "2.0.0-preview1-2"}},
		})
	}()
	require.Eventually(t, func() bool { _, err := os.Stat(filepath.Join(gate, "entered")); return err == nil }, 30*time.Second, 10*time.Millisecond)
	resB, err := legacy.Publisher{Git: bot}.Publish(ctx, legacy.PublishRequest{
		Repo: origin, Branch: "master", Name: "corefx", Channel: "release/2.0.0",
		Packages: []legacy.Package{{ID: "System.Memory", Version: "4.4.0-preview1-25305-02"}},
	})
	require.NoError(t, err)
	assert.Equal(t, 1, resB.Attempts)
	require.NoError(t, os.WriteFile(filepath.Join(gate, "release"), nil, 0o644))
	wg.Wait()
	require.NoError(t, errA)
	assert.Equal(t, 2, resA.Attempts, "A lost the race once and applied its build again")

	commits, err := bot.Commits(ctx, origin, resB.Commit+"^", "master")
	require.NoError(t, err)
	require.Len(t, commits, 2)
	assert.Equal(t, resB.Commit, commits[0].SHA)
	assert.Equal(t, resA.Commit, commits[1].SHA)
	assert.Equal(t, "Updating build-info/dotnet/coreclr/master for preview1-2", subjectOf(t, origin, resA.Commit))
	assert.Equal(t, "Updating build-info/dotnet/corefx/release/2.0.0 for preview1-25305-02", subjectOf(t, origin, resB.Commit))
	got, err := bot.Show(ctx, origin, "master", "build-info/dotnet/coreclr/master/Latest_Packages.txt")
	require.NoError(t, err)
	assert.Equal(t, "Microsoft.NETCore.ILAsm 2.0.0-preview1-1\r\nMicrosoft.NETCore.Runtime.CoreCLR 2.0.0-preview1-2", string(got))
	got, err = bot.Show(ctx, origin, "master", "build-info/dotnet/corefx/release/2.0.0/Latest.txt")
	require.NoError(t, err)
	assert.Equal(t, "preview1-25305-02", string(got), "B's commit is kept under A's")
}

// TestPublishGivesUp: a branch that moves under every attempt ends in a
// conflict after the attempts, never in a forced push. The remote's
// pre-receive hook moves master to the next of two prepared commits (o1,
// o2) each time, as other publishers would.
func TestPublishGivesUp(t *testing.T) {
	ctx := context.Background()
	origin := versionsRepo(t, map[string][]byte{})
	other := filepath.Join(t.TempDir(), "other")
	require.NoError(t, bot.Clone(ctx, origin, other, "master"))
	for _, b := range []string{"o1", "o2"} {
		require.NoError(t, os.WriteFile(filepath.Join(other, b+".txt"), []byte(b), 0o644))
		_, err := bot.CommitAll(ctx, other, b)
		require.NoError(t, err)
		require.NoError(t, bot.Push(ctx, other, "origin", "HEAD", b, ""))
	}
	o2, err := bot.RevParse(ctx, other, "HEAD")
	require.NoError(t, err)
	gate := t.TempDir()
	hook := "#!/bin/sh\nn=$(cat '" + gate + "/n' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '" + gate + "/n'\n" +
		"cp refs/heads/o$n refs/heads/master\nexit 0\n"
	require.NoError(t, os.WriteFile(filepath.Join(origin, "hooks", "pre-receive"), []byte(hook), 0o755))
	_, err = legacy.Publisher{Git: bot, Attempts: 2}.Publish(ctx, legacy.PublishRequest{
		Repo: origin, Branch: "master", Name: "coreclr", Channel: "master",
		Packages: []legacy.Package{{ID: "A", Version: "1.0.0-beta"}},
	})
	require.Error(t, err)
	assert.Equal(t, maestro.KindConflict, maestro.KindOf(err))
	assert.Contains(t, err.Error(), "moved under 2 attempts in a row (other publishers); run the publish again")
	head, err := bot.RevParse(ctx, origin, "master")
	require.NoError(t, err)
	assert.Equal(t, o2, head, "the other publishers' commits stay; nothing was forced")
}

// TestPublishRefused: a push the remote refuses for another reason is an
// error at once, not a retry.
func TestPublishRefused(t *testing.T) {
	ctx := context.Background()
	origin := versionsRepo(t, map[string][]byte{})
	require.NoError(t, os.WriteFile(filepath.Join(origin, "hooks", "pre-receive"), []byte("#!/bin/sh\necho protected >&2\nexit 1\n"), 0o755))
	res, err := legacy.Publisher{Git: bot}.Publish(ctx, legacy.PublishRequest{
		Repo: origin, Branch: "master", Name: "coreclr", Channel: "master",
		Packages: []legacy.Package{{ID: "A", Version: "1.0.0-beta"}},
	})
	require.Error(t, err)
	assert.Equal(t, 1, res.Attempts)
	assert.Contains(t, err.Error(), "protected")
}

func TestPublishBadInputTouchesNothing(t *testing.T) {
	ctx := context.Background()
	origin := versionsRepo(t, map[string][]byte{})
	head, err := bot.RevParse(ctx, origin, "master")
	require.NoError(t, err)
	pkgs := []legacy.Package{{ID: "A", Version: "1.0.0-beta"}}
	tests := []struct {
		name string
		req  legacy.PublishRequest
		want string
	}{
		{"name with a slash", legacy.PublishRequest{Name: "core/clr", Channel: "master", Packages: pkgs}, `--name "core/clr": give one name without '/'`},
		{"channel escaping", legacy.PublishRequest{Name: "coreclr", Channel: "release/../../x", Packages: pkgs}, `segment ".." is not allowed`},
		{"empty channel segment", legacy.PublishRequest{Name: "coreclr", Channel: "release//3.1", Packages: pkgs}, `segment "" is not allowed`},
		{"option-like name", legacy.PublishRequest{Name: "--upload-pack=x", Channel: "master", Packages: pkgs}, `--name "--upload-pack=x"`},
		{"labels differ", legacy.PublishRequest{Name: "coreclr", Channel: "master", Packages: []legacy.Package{{ID: "A", Version: "1.0-a"}, {ID: "B", Version: "1.0-b"}}}, "give the build's label with --label"},
		{"label with space", legacy.PublishRequest{Name: "coreclr", Channel: "master", Packages: pkgs, Label: "a b"}, `--label "a b"`},
		{"bad version", legacy.PublishRequest{Name: "coreclr", Channel: "master", Packages: []legacy.Package{{ID: "A", Version: "x"}}}, `package A: version "x"`},
		{"duplicate id", legacy.PublishRequest{Name: "coreclr", Channel: "master", Packages: []legacy.Package{{ID: "A", Version: "1.0"}, {ID: "a", Version: "2.0"}}}, "package a is listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Repo, tt.req.Branch = origin, "master"
			_, err := legacy.Publisher{Git: bot}.Publish(ctx, tt.req)
			require.Error(t, err)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			assert.Contains(t, err.Error(), tt.want)
			now, err := bot.RevParse(ctx, origin, "master")
			require.NoError(t, err)
			assert.Equal(t, head, now)
		})
	}
	_, err = legacy.Publisher{Git: bot}.Publish(ctx, legacy.PublishRequest{Repo: origin, Branch: "main", Name: "coreclr", Channel: "master", Packages: pkgs})
	assert.ErrorContains(t, err, "has no branch main; give the versions repository's branch with --branch")
}

// symlinkRepo returns a versions repository whose master holds, besides
// README.md, the symbolic links links (path in the repository → target).
func symlinkRepo(t *testing.T, links map[string]string) string {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	origin := filepath.Join(root, "versions.git")
	require.NoError(t, bot.Init(ctx, origin, true))
	seed := filepath.Join(root, "seed")
	require.NoError(t, bot.Init(ctx, seed, false))
	require.NoError(t, os.WriteFile(filepath.Join(seed, "README.md"), []byte("versions\n"), 0o644))
	for name, target := range links {
		p := filepath.Join(seed, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.Symlink(target, p))
	}
	_, err := bot.CommitAll(ctx, seed, "seed")
	require.NoError(t, err)
	require.NoError(t, bot.Push(ctx, seed, origin, "HEAD", "master", ""))
	return origin
}

// A versions repository is outside input: a symbolic link where a
// build-info folder or file should be must not make Publish read or write
// outside its scratch repository (here: overwrite a file of the user's, or
// drop build-info files into one of the user's folders).
func TestPublishRefusesSymbolicLinks(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	precious := filepath.Join(outside, "precious.txt")
	pkgs := []legacy.Package{{ID: "Microsoft.NETCore.Runtime.CoreCLR", Version: "3.0.0-preview1-26801-01"}}
	for name, links := range map[string]map[string]string{
		"file":           {"build-info/dotnet/coreclr/master/Latest.txt": precious},
		"packages file":  {"build-info/dotnet/coreclr/master/Latest_Packages.txt": precious},
		"channel folder": {"build-info/dotnet/coreclr/master": outside},
		"name folder":    {"build-info/dotnet/coreclr": outside},
		"inside":         {"build-info/dotnet/coreclr/master/Latest.txt": "../../../../README.md"},
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(precious, []byte("precious\n"), 0o600))
			repo := symlinkRepo(t, links)
			before := headOf(t, repo)
			_, err := legacy.Publisher{Git: bot}.Publish(ctx, legacy.PublishRequest{Repo: repo, Branch: "master", Name: "coreclr", Channel: "master", Packages: pkgs})
			require.Error(t, err)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "%v", err)
			assert.Contains(t, err.Error(), "symbolic link")
			got, rerr := os.ReadFile(precious)
			require.NoError(t, rerr)
			assert.Equal(t, "precious\n", string(got), "a file outside the scratch repository was written")
			entries, rerr := os.ReadDir(outside)
			require.NoError(t, rerr)
			assert.Len(t, entries, 1, "files were written into a folder outside the scratch repository")
			assert.Equal(t, before, headOf(t, repo), "nothing is pushed")
		})
	}
}

func headOf(t *testing.T, repo string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "rev-parse", "master").Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// A password or token in the repository URL is refused before git runs: it
// would be repeated by every error that names the repository.
func TestPublishRefusesCredentialsInURL(t *testing.T) {
	pkgs := []legacy.Package{{ID: "A", Version: "1.0.0-beta"}}
	for _, repo := range []string{"https://user:SECRETMARKER@127.0.0.1:1/versions.git", "https://SECRETMARKER@github.invalid/dotnet/versions"} {
		_, err := legacy.Publisher{Git: bot}.Publish(context.Background(), legacy.PublishRequest{Repo: repo, Branch: "master", Name: "coreclr", Channel: "master", Packages: pkgs})
		require.Error(t, err)
		assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
		assert.Contains(t, err.Error(), "--repo https://")
		assert.Contains(t, err.Error(), "remove the user name and password from the URL; git authenticates with MAESTRO_VERSIONS_TOKEN")
		assert.NotContains(t, err.Error(), "SECRETMARKER")
	}
	// An SSH user name is not a secret: the request gets as far as git.
	_, err := legacy.Publisher{Git: bot}.Publish(context.Background(), legacy.PublishRequest{Repo: "ssh://git@127.0.0.1:1/versions.git", Branch: "master", Name: "coreclr", Channel: "master", Packages: pkgs})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "remove the user name")
	assert.Contains(t, err.Error(), "fetch master from ssh://git@127.0.0.1:1/versions.git")
}

// MAESTRO_VERSIONS_TOKEN goes to the versions repository over HTTPS only:
// never in clear text to an http:// repository.
func TestPublishSendsTheTokenOverHTTPSOnly(t *testing.T) {
	t.Setenv("GIT_SSL_NO_VERIFY", "true") // the test server's certificate
	pkgs := []legacy.Package{{ID: "A", Version: "1.0.0-beta"}}
	for _, tls := range []bool{false, true} {
		var mu sync.Mutex
		var auth []string
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			auth = append(auth, r.Header.Get("Authorization"))
			mu.Unlock()
			http.NotFound(w, r)
		})
		srv := httptest.NewUnstartedServer(h)
		if tls {
			srv.StartTLS()
		} else {
			srv.Start()
		}
		_, err := legacy.Publisher{Git: git.Runner{Token: "SECRETMARKER"}}.Publish(context.Background(),
			legacy.PublishRequest{Repo: srv.URL + "/versions.git", Branch: "master", Name: "coreclr", Channel: "master", Packages: pkgs})
		srv.Close()
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "SECRETMARKER")
		mu.Lock()
		require.NotEmpty(t, auth, "git asked the server")
		for _, a := range auth {
			if tls {
				assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("x-access-token:SECRETMARKER")), a, "HTTPS carries the token")
			} else {
				assert.Empty(t, a, "plain HTTP never carries the token")
			}
		}
		mu.Unlock()
	}
}

// TestRepoRunner: legacy watch fetches with RepoRunner too.
func TestRepoRunner(t *testing.T) {
	for repo, want := range map[string][]git.Credential{
		"https://github.com/dotnet/versions": {{URL: "https://github.com/dotnet/versions", Token: "tok"}},
		"http://github.com/dotnet/versions":  nil,
		"/srv/versions.git":                  nil,
		"git@github.com:dotnet/versions.git": nil,
	} {
		g := legacy.RepoRunner(git.Runner{Token: "tok"}, repo)
		assert.Empty(t, g.Token, repo)
		assert.Equal(t, want, g.Credentials, repo)
	}
}

package repourl_test

import (
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/repourl"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com/dotnet/arcade", "https://github.com/dotnet/arcade"},
		{"https://github.com/Dotnet/Arcade.git", "https://github.com/dotnet/arcade"},
		{"https://github.com/dotnet/arcade/", "https://github.com/dotnet/arcade"},
		{" HTTPS://GitHub.com/dotnet/arcade ", "https://github.com/dotnet/arcade"},
		{"https://dnceng.visualstudio.com/internal/_git/dotnet-arcade", "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade"},
		{"https://dnceng.visualstudio.com/DefaultCollection/internal/_git/dotnet-arcade", "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade"},
		{"https://dev.azure.com/dnceng/internal/_git/dotnet-Arcade", "https://dev.azure.com/dnceng/internal/_git/dotnet-Arcade"},
		{"/tmp/repos/producer/", "/tmp/repos/producer"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := repourl.Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestKeyEqualForSpellings(t *testing.T) {
	a := repourl.Key("https://github.com/dotnet/arcade")
	b := repourl.Key("https://github.com/DOTNET/arcade.git/")
	if a != b {
		t.Fatalf("keys differ: %s %s", a, b)
	}
	if a == repourl.Key("https://github.com/dotnet/runtime") {
		t.Fatal("different repositories share a key")
	}
}

func TestValidate(t *testing.T) {
	for _, good := range []string{"https://github.com/dotnet/arcade", "file:///tmp/x", "/tmp/x"} {
		if err := repourl.Validate(good); err != nil {
			t.Errorf("Validate(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"", "github.com/dotnet/arcade", "https://github.com", "ftp://x/y"} {
		if err := repourl.Validate(bad); err == nil {
			t.Errorf("Validate(%q) = nil, want error", bad)
		}
	}
}

// TestValidateRefusesUserInfo: a URL carrying credentials is refused, and
// the error never repeats the password.
func TestValidateRefusesUserInfo(t *testing.T) {
	for _, bad := range []string{
		"https://user:s3cr3t-pw@github.com/a/b",
		"https://s3cr3t-pw@dev.azure.com/o/p/_git/r",
		"http://x:s3cr3t-pw@127.0.0.1:8080/o/p/_git/r",
	} {
		t.Run(bad, func(t *testing.T) {
			err := repourl.Validate(bad)
			if err == nil {
				t.Fatalf("Validate(%q) = nil, want error", bad)
			}
			if strings.Contains(err.Error(), "s3cr3t-pw") {
				t.Errorf("error repeats the credential: %v", err)
			}
		})
	}
}

func TestSameRepository(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"https://github.com/dotnet/arcade", "https://github.com/dotnet/arcade.git", true},
		{"https://github.com/dotnet/arcade", "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade", true},
		{"https://dnceng.visualstudio.com/internal/_git/dotnet-arcade", "https://github.com/dotnet/Arcade", true},
		{"https://github.com/dotnet/arcade", "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime", false},
		{"https://github.com/dotnet/arcade", "https://github.com/dotnet/arcade-services", false},
		{"https://dev.azure.com/dnceng/internal/_git/dotnet-arcade", "https://dev.azure.com/dnceng/public/_git/dotnet-arcade", false},
	}
	for _, tt := range tests {
		if got := repourl.SameRepository(tt.a, tt.b); got != tt.want {
			t.Errorf("SameRepository(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestPullRequest(t *testing.T) {
	for _, tc := range []struct {
		raw, repo string
		number    int
	}{
		{"https://github.com/dotnet/Arcade/pull/12", "https://github.com/dotnet/arcade", 12},
		{"https://github.com/dotnet/arcade/pull/12/", "https://github.com/dotnet/arcade", 12},
		{"https://ghe.example.com/dotnet/arcade/pull/3", "https://ghe.example.com/dotnet/arcade", 3},
		{"https://dev.azure.com/dnceng/internal/_git/dotnet-arcade/pullrequest/77", "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade", 77},
		{"https://dnceng.visualstudio.com/internal/_git/dotnet-arcade/pullrequest/5", "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade", 5},
		{"https://tfs.example.com/tfs/Coll/Proj/_git/repo/pullrequest/9", "https://tfs.example.com/tfs/Coll/Proj/_git/repo", 9},
		{"file:///srv/git/app.git#pull/4", "/srv/git/app", 4},
	} {
		repo, n, err := repourl.PullRequest(tc.raw)
		if err != nil || repo != tc.repo || n != tc.number {
			t.Errorf("PullRequest(%q) = %q, %d, %v; want %q, %d", tc.raw, repo, n, err, tc.repo, tc.number)
		}
	}
	for _, raw := range []string{
		"", "github.com/dotnet/arcade/pull/12", "https://github.com/dotnet/arcade/issues/12",
		"https://github.com/dotnet/arcade/pull/0", "https://github.com/dotnet/arcade/pull/012",
		"https://github.com/dotnet/arcade/pull/x", "https://github.com/dotnet/arcade/pull/12?x=1",
		"https://github.com/a/b/c/pull/12", "ftp://github.com/dotnet/arcade/pull/12",
		"https://user:secret@github.com/dotnet/arcade/pull/12", "https://dev.azure.com/_git/r/pullrequest/1",
		"https://github.com/dotnet/../pull/12",
		"file:///srv/git/app#pull/0", "file:///srv/git/app#pull/x", "file://host/srv/app#pull/1", "file://relative#pull/1",
		"file:///srv/../app#pull/1", "file:///srv/app#issue/1",
	} {
		if _, _, err := repourl.PullRequest(raw); err == nil {
			t.Errorf("PullRequest(%q): no error", raw)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("PullRequest(%q): the error repeats the password: %v", raw, err)
		}
	}
}

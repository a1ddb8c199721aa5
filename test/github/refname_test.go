package githubdouble

import (
	"os/exec"
	"strings"
	"testing"
)

// FuzzValidRefName checks the Go ref-name rules against git itself.
func FuzzValidRefName(f *testing.F) {
	git, err := exec.LookPath("git")
	if err != nil {
		f.Skip("git is not installed")
	}
	for _, seed := range []string{
		"refs/heads/main", "refs/heads/darc-main-1a2b3c4d-5e6f", "refs/heads/release/9.0.1xx", "refs/tags/v9.0.0",
		"refs/pull/1/head", "refs/heads", "heads/main", "refs/heads/a..b", "refs/heads/x.lock", "refs/heads/x.lock/y",
		"refs/heads/@{1}", "refs/heads/@", "@", "refs/heads/end.", "refs/heads/.hidden", "refs/heads//x", "/refs/heads/x",
		"refs/heads/x/", "refs/heads/with space", "refs/heads/tab\tx", "refs/heads/a~1", "refs/heads/a^", "refs/heads/a:b",
		"refs/heads/a?", "refs/heads/a*", "refs/heads/a[b", `refs/heads/a\b`, "refs/heads/\x7f", "refs/heads/ünïcode",
		"refs/heads/-dash", "refs/heads/a.b.c", "refs/heads/a@b", "refs/heads/{x}",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if strings.ContainsRune(name, 0) {
			return // argv cannot carry NUL
		}
		want := exec.Command(git, "check-ref-format", name).Run() == nil
		if got := validRefName(name); got != want {
			t.Fatalf("validRefName(%q) = %v, git check-ref-format says %v", name, got, want)
		}
	})
}

func TestTokenFromHeader(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"token abc", "abc"},
		{"Token  abc ", "abc"},
		{"bearer abc", "abc"},
		{"Basic " + "eC1hY2Nlc3MtdG9rZW46YWJj", "abc"}, // x-access-token:abc
		{"Basic " + "YWJjOng tb2F1dGgtYmFzaWM=", ""},   // not base64
		{"Basic " + "YWJjOngtb2F1dGgtYmFzaWM=", "abc"}, // abc:x-oauth-basic
		{"Basic " + "YWJjOg==", "abc"},                 // abc:
		{"Digest abc", ""},
		{"abc", ""},
		{"", ""},
	} {
		t.Run(tc.header, func(t *testing.T) {
			if got := tokenFromHeader(tc.header); got != tc.want {
				t.Fatalf("tokenFromHeader(%q) = %q, want %q", tc.header, got, tc.want)
			}
		})
	}
}

package repourl_test

import (
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

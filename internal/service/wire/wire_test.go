package wire_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/platform/azrepos"
	"github.com/maestroplusplus/maestro/internal/platform/github"
	"github.com/maestroplusplus/maestro/internal/prbody"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// TestUpdaterBodyLimit: every host gets its own limit on pull request
// bodies and its own full-list link: GitHub (github.com or the configured
// GitHub Enterprise Server) 65,536 characters and a compare page, Azure
// Repos 3,999 bytes and a branch comparison; local repositories none.
func TestUpdaterBodyLimit(t *testing.T) {
	e := wire.Env{Getenv: env(map[string]string{wire.EnvGitHubURL: "https://ghe.contoso.com", wire.EnvAllowHTTPLoopback: "true"})}
	u := e.Updater(nil)
	tests := []struct {
		repo  string
		limit prbody.Limit
		link  string
	}{
		{"https://ghe.contoso.com/dotnet/runtime", github.BodyLimit, "https://ghe.contoso.com/dotnet/runtime/compare/main...darc-main-1"},
		{"https://dev.azure.com/dnceng/internal/_git/dotnet-runtime", azrepos.BodyLimit, "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime/branchCompare?baseVersion=GBmain&targetVersion=GBdarc-main-1"},
		{"/srv/git/runtime.git", prbody.Limit{}, ""},
		{"https://evil.example/a/b", prbody.Limit{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			l := u.BodyLimit(tt.repo)
			assert.Equal(t, tt.limit.Max, l.Max)
			assert.Equal(t, tt.limit.Unit, l.Unit)
			if tt.link != "" {
				assert.Equal(t, tt.link, l.FullList(tt.repo, "main", "darc-main-1"))
			}
		})
	}
	assert.Equal(t, 65536, github.BodyLimit.Max)
	assert.Equal(t, prbody.Characters, github.BodyLimit.Unit)

	gh := wire.Env{Getenv: env(nil)}.Updater(nil).BodyLimit("https://github.com/dotnet/runtime")
	assert.Equal(t, 65536, gh.Max, "github.com without configuration")
	assert.Equal(t, "https://github.com/dotnet/runtime/compare/main...darc-main-1", gh.FullList("https://github.com/dotnet/runtime", "main", "darc-main-1"))
}

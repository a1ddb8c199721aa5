package wire_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

// TestMirrorGit: each side of a mirror gets its own host's token, scoped
// to its URL; a target that is not Azure Repos (or local), a source on no
// configured host, and an Azure Repos target without a token are bad input
// naming the flag, and name no token.
func TestMirrorGit(t *testing.T) {
	const gh, az = "https://github.com/dotnet/runtime", "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime"
	tokens := map[string]string{"GITHUB_TOKEN": "gh-secret", "MAESTRO_AZDO_TOKEN": "pat-secret", "MAESTRO_BOT_NAME": "dnceng-bot"}
	with := func(extra map[string]string) func(string) string {
		m := map[string]string{}
		for k, v := range tokens {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return env(m)
	}
	tests := []struct {
		name           string
		getenv         func(string) string
		source, target string
		want           []git.Credential
	}{
		{"GitHub into Azure Repos", with(nil), gh, az, []git.Credential{{URL: az, Token: "pat-secret"}, {URL: gh, Token: "gh-secret"}}},
		{"the job token", with(map[string]string{"MAESTRO_AZDO_TOKEN": "", "SYSTEM_ACCESSTOKEN": "job-secret"}), gh, az,
			[]git.Credential{{URL: az, Token: "job-secret"}, {URL: gh, Token: "gh-secret"}}},
		{"a public source without a token", with(map[string]string{"GITHUB_TOKEN": ""}), gh, az, []git.Credential{{URL: az, Token: "pat-secret"}}},
		{"Azure Repos into Azure Repos", with(nil), "https://dev.azure.com/dnceng/public/_git/arcade", az,
			[]git.Credential{{URL: az, Token: "pat-secret"}, {URL: "https://dev.azure.com/dnceng/public/_git/arcade", Token: "pat-secret"}}},
		{"local repositories", env(nil), "/src/runtime.git", "file:///dst/runtime.git", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := wire.Env{Getenv: tt.getenv}.MirrorGit(tt.source, tt.target)
			require.NoError(t, err)
			assert.Equal(t, tt.want, g.Credentials)
			assert.Empty(t, g.Token, "no token for every remote")
		})
	}

	bad := []struct {
		name, source, target, want string
		getenv                     func(string) string
	}{
		{"a GitHub target", az, gh, "--target https://github.com/dotnet/runtime: not an Azure Repos repository", with(nil)},
		{"a target on no host", gh, "https://evil.example/a/_git/b", "--target: repository https://evil.example/a/_git/b: no configured host serves it", with(nil)},
		{"a source on no host", "https://evil.example/a/b", az, "--source: repository https://evil.example/a/b: no configured host serves it", with(nil)},
		{"plain http", "http://github.com/dotnet/runtime", az, "--source: repository http://github.com/dotnet/runtime: ", with(nil)},
		{"no Azure DevOps token", gh, az, "--target " + az + ": set MAESTRO_AZDO_TOKEN (or run in a job with SYSTEM_ACCESSTOKEN)", with(map[string]string{"MAESTRO_AZDO_TOKEN": ""})},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wire.Env{Getenv: tt.getenv}.MirrorGit(tt.source, tt.target)
			require.Error(t, err)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "secret")
		})
	}
}

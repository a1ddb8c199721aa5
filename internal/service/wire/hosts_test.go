package wire_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestHostsRepository(t *testing.T) {
	config := map[string]string{
		wire.EnvAzdoServerURLs:    "https://tfs.contoso.com/tfs/DefaultCollection, http://127.0.0.1:8080/org",
		wire.EnvAllowHTTPLoopback: "true",
	}
	tests := []struct {
		repo string
		kind wire.HostKind
		org  string
	}{
		{"https://github.com/dotnet/arcade", wire.HostGitHub, ""},
		{"https://GitHub.com/dotnet/arcade.git", wire.HostGitHub, ""},
		{"https://dev.azure.com/dnceng/internal/_git/dotnet-arcade", wire.HostAzureDevOps, "https://dev.azure.com/dnceng"},
		{"https://dnceng.visualstudio.com/internal/_git/dotnet-arcade", wire.HostAzureDevOps, "https://dnceng.visualstudio.com"},
		{"https://dnceng.visualstudio.com/DefaultCollection/internal/_git/x", wire.HostAzureDevOps, "https://dnceng.visualstudio.com"},
		{"https://tfs.contoso.com/tfs/DefaultCollection/eng/_git/tools", wire.HostAzureDevOps, "https://tfs.contoso.com/tfs/DefaultCollection"},
		{"http://127.0.0.1:8080/org/eng/_git/tools", wire.HostAzureDevOps, "http://127.0.0.1:8080/org"},
		// Not recognised: a /_git/ path on any other host, look-alike hosts,
		// wrong shapes, plain http off loopback, another loopback port.
		{"https://evil.example/a/b/_git/c", wire.HostUnknown, ""},
		{"https://github.com.evil.example/dotnet/arcade", wire.HostUnknown, ""},
		{"https://dev.azure.com.evil.example/o/p/_git/r", wire.HostUnknown, ""},
		{"https://evil.example/x.visualstudio.com/p/_git/r", wire.HostUnknown, ""},
		{"https://a.b.visualstudio.com/p/_git/r", wire.HostUnknown, ""},
		{"https://tfs.contoso.com/tfs/DefaultCollectionX/eng/_git/tools", wire.HostUnknown, ""},
		{"https://dev.azure.com/dnceng/internal/dotnet-arcade", wire.HostUnknown, ""},
		{"https://github.com/dotnet", wire.HostUnknown, ""},
		{"http://github.com/dotnet/arcade", wire.HostUnknown, ""},
		{"http://dev.azure.com/dnceng/internal/_git/x", wire.HostUnknown, ""},
		{"http://127.0.0.1:9090/org/eng/_git/tools", wire.HostUnknown, ""},
		{"https://user:pw@github.com/dotnet/arcade", wire.HostUnknown, ""},
	}
	hosts, err := wire.ParseHosts(env(config))
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			kind, org, err := hosts.Repository(tt.repo)
			assert.Equal(t, tt.kind, kind)
			assert.Equal(t, tt.org, org)
			if tt.kind == wire.HostUnknown {
				require.Error(t, err)
				assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
				assert.NotContains(t, err.Error(), "user:pw")
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestHostsLoopbackNeedsTheSetting(t *testing.T) {
	hosts, err := wire.ParseHosts(env(map[string]string{wire.EnvAzdoServerURLs: "https://tfs.contoso.com/tfs"}))
	require.NoError(t, err)
	_, _, err = hosts.Repository("http://127.0.0.1:8080/org/eng/_git/tools")
	assert.ErrorContains(t, err, wire.EnvAllowHTTPLoopback)

	_, err = wire.ParseHosts(env(map[string]string{wire.EnvGitHubURL: "http://127.0.0.1:8080"}))
	assert.ErrorContains(t, err, "plain http", "an http GitHub URL needs the loopback setting")
	_, err = wire.ParseHosts(env(map[string]string{wire.EnvGitHubURL: "http://ghe.contoso.com", wire.EnvAllowHTTPLoopback: "true"}))
	assert.ErrorContains(t, err, "plain http", "the setting allows loopback only")
	_, err = wire.ParseHosts(env(map[string]string{wire.EnvAzdoServerURLs: "https://u:s3cr3t@tfs.contoso.com/tfs"}))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t")

	ghes, err := wire.ParseHosts(env(map[string]string{wire.EnvGitHubURL: "https://ghe.contoso.com/"}))
	require.NoError(t, err)
	kind, _, err := ghes.Repository("https://ghe.contoso.com/dotnet/arcade")
	require.NoError(t, err)
	assert.Equal(t, wire.HostGitHub, kind)
	_, _, err = ghes.Repository("https://github.com/dotnet/arcade")
	assert.Error(t, err, "with an Enterprise Server configured, github.com gets no token")
}

func TestHostsOrganization(t *testing.T) {
	hosts, err := wire.ParseHosts(env(map[string]string{wire.EnvAzdoServerURLs: "https://tfs.contoso.com/tfs/DefaultCollection"}))
	require.NoError(t, err)
	for raw, want := range map[string]string{
		"https://dev.azure.com/dnceng":                  "https://dev.azure.com/dnceng",
		"https://dnceng.visualstudio.com/":              "https://dnceng.visualstudio.com",
		"https://tfs.contoso.com/tfs/DefaultCollection": "https://tfs.contoso.com/tfs/DefaultCollection",
	} {
		got, err := hosts.Organization(raw)
		require.NoError(t, err, raw)
		assert.Equal(t, want, got)
	}
	for _, bad := range []string{"https://evil.example/org", "http://dev.azure.com/dnceng", "https://dev.azure.com/dnceng/project", "https://tfs.contoso.com/tfs", "https://dev.azure.com"} {
		_, err := hosts.Organization(bad)
		assert.Error(t, err, bad)
	}
}

// TestEnvChecksHostsAtInput: the predicate subscription add, update and
// config apply use accepts what a platform serves in this configuration
// and refuses the rest with an error that says what to set.
func TestEnvChecksHostsAtInput(t *testing.T) {
	tests := []struct {
		name, repo string
		config     map[string]string
		ok         bool
	}{
		{"absolute path", "/srv/git/runtime", nil, true},
		{"file URL", "file:///srv/git/runtime", nil, true},
		{"github.com", "https://github.com/dotnet/runtime", nil, true},
		{"dev.azure.com", "https://dev.azure.com/dnceng/internal/_git/dotnet-runtime", nil, true},
		{"visualstudio.com", "https://dnceng.visualstudio.com/internal/_git/dotnet-runtime", nil, true},
		{"_git on any host", "https://evil.example/a/b/_git/c", nil, false},
		{"configured server", "https://evil.example/a/b/_git/c", map[string]string{wire.EnvAzdoServerURLs: "https://evil.example/a"}, true},
		{"other collection of the server's host", "https://evil.example/z/b/_git/c", map[string]string{wire.EnvAzdoServerURLs: "https://evil.example/a"}, false},
		{"GitHub Enterprise Server", "https://ghe.contoso.com/dotnet/runtime", map[string]string{wire.EnvGitHubURL: "https://ghe.contoso.com"}, true},
		{"GHES not configured", "https://ghe.contoso.com/dotnet/runtime", nil, false},
		{"github.com beside GHES", "https://github.com/dotnet/runtime", map[string]string{wire.EnvGitHubURL: "https://ghe.contoso.com"}, false},
		{"relative path", "srv/git/runtime", nil, false},
		{"plain http", "http://github.com/dotnet/runtime", nil, false},
		{"bad configuration", "https://github.com/dotnet/runtime", map[string]string{wire.EnvGitHubURL: "ftp://ghe"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wire.Env{Getenv: env(tt.config)}.CheckTarget(tt.repo)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
		})
	}
	err := wire.Env{Getenv: env(nil)}.CheckTarget("https://evil.example/a/b/_git/c")
	assert.ErrorContains(t, err, "https://evil.example/a/b/_git/c", "the error names the URL")
	assert.ErrorContains(t, err, "set MAESTRO_AZDO_SERVER_URLS to name an Azure DevOps Server collection, or MAESTRO_GITHUB_URL for GitHub Enterprise Server")
}

func TestEnvChecksPipelineOrganizations(t *testing.T) {
	server := map[string]string{wire.EnvAzdoServerURLs: "https://evil.example/a"}
	tests := []struct {
		org    string
		config map[string]string
		ok     bool
	}{
		{"https://dev.azure.com/dnceng", nil, true},
		{"https://dnceng.visualstudio.com", nil, true},
		{"https://evil.example/a", nil, false},
		{"https://evil.example/a", server, true},
		{"https://evil.example/b", server, false},
		{"http://dev.azure.com/dnceng", nil, false},
	}
	assert.ErrorContains(t, wire.Env{Getenv: env(nil)}.CheckPipelineOrganization("https://evil.example/a"), "set "+wire.EnvAzdoServerURLs)
	for _, tt := range tests {
		t.Run(tt.org, func(t *testing.T) {
			err := wire.Env{Getenv: env(tt.config)}.CheckPipelineOrganization(tt.org)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
				assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			}
		})
	}
}

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

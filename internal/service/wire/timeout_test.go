package wire_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/httptimeout"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// silentHost takes requests and never answers.
func silentHost(t *testing.T) *httptest.Server {
	t.Helper()
	released := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-released:
		}
	}))
	t.Cleanup(func() { close(released); s.Close() })
	return s
}

// TestHostsThatNeverAnswerAreBounded: the GitHub and Azure DevOps clients
// the wiring builds give up on a host that takes the request and never
// answers after MAESTRO_HTTP_TIMEOUT, with an error naming the host and
// the variable, where before they waited for good.
func TestHostsThatNeverAnswerAreBounded(t *testing.T) {
	s := silentHost(t)
	host := strings.TrimPrefix(s.URL, "http://")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	reg := registry.New(mem.New())
	for _, tt := range []struct {
		name, repo string
		env        map[string]string
	}{
		{"GitHub", s.URL + "/dotnet/runtime", map[string]string{wire.EnvGitHubURL: s.URL, "GITHUB_TOKEN": "ghp_0123456789abcdef0123456789abcdef0123"}},
		{"GitHub App token", s.URL + "/dotnet/runtime", map[string]string{wire.EnvGitHubURL: s.URL,
			"MAESTRO_GITHUB_APP_ID": "42", "MAESTRO_GITHUB_APP_INSTALLATION_ID": "7", "MAESTRO_GITHUB_APP_PRIVATE_KEY": pemKey}},
		{"Azure DevOps", s.URL + "/dnceng/internal/_git/runtime", map[string]string{wire.EnvAzdoServerURLs: s.URL + "/dnceng", "MAESTRO_AZDO_TOKEN": "azdo-pat-0123456789"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{wire.EnvAllowHTTPLoopback: "true", httptimeout.Env: "1s"}
			for k, v := range tt.env {
				env[k] = v
			}
			w := wire.Env{Getenv: func(k string) string { return env[k] }, Now: time.Now}
			start := time.Now()
			p, err := w.Platform(reg, tt.repo)
			if err == nil {
				_, err = p.PullRequest(t.Context(), tt.repo, 1)
			}
			took := time.Since(start)
			require.Error(t, err)
			err = httptimeout.Explain(err, time.Second)
			var he *httptimeout.Error
			require.ErrorAs(t, err, &he, "%v", err)
			assert.Equal(t, host, he.Host)
			assert.Contains(t, err.Error(), host+" did not answer")
			assert.Contains(t, err.Error(), "MAESTRO_HTTP_TIMEOUT")
			assert.Less(t, took, 10*time.Second)
		})
	}
	t.Run("bad value", func(t *testing.T) {
		w := wire.Env{Getenv: func(k string) string {
			return map[string]string{httptimeout.Env: "forever", wire.EnvGitHubURL: s.URL, wire.EnvAllowHTTPLoopback: "true", "GITHUB_TOKEN": "x"}[k]
		}, Now: time.Now}
		_, err := w.Platform(reg, s.URL+"/dotnet/runtime")
		assert.ErrorContains(t, err, `MAESTRO_HTTP_TIMEOUT "forever"`)
		assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
	})
}

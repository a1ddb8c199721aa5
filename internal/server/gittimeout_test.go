package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/test/proctest"
)

// TestGitCutShortWithTheRequest: explain and health clone the target
// branch with the real git; a git host that takes the request and never
// answers makes them answer 503 {"message"} once requestTimeout (1s) is
// over, and leaves no git process behind: git and the transport helper it
// started (git-remote-http, which waits on the silent host) are killed
// with the request. Before, explain and health answered 200 with the
// target "unreadable" (a timeout reported as the target's problem), and
// git-remote-http stayed, waiting on the host, after git was killed.
func TestGitCutShortWithTheRequest(t *testing.T) {
	hang := proctest.Silent(t)
	base, logs, b := serveTargetOn(t, hang.URL, "requestTimeout: 1s\n")
	c := client{t: t, url: base, token: readToken, doc: openAPI(t), cov: &coverage{}}
	host := strings.TrimPrefix(hang.URL, "http://") + "/"
	for _, path := range []string{"/api/flow/explain/" + itoa(b.ID), "/api/flow/health"} {
		t.Run(path, func(t *testing.T) {
			c.t = t
			start := time.Now()
			msg := c.wantError(http.StatusServiceUnavailable, "GET", path, nil)
			took := time.Since(start)
			assert.Contains(t, msg, "deadline exceeded")
			assert.GreaterOrEqual(t, took, time.Second, "not before requestTimeout")
			assert.Less(t, took, 8*time.Second, "soon after requestTimeout")
			require.Eventually(t, func() bool { return len(proctest.Running(t, host)) == 0 }, 2*time.Second, 20*time.Millisecond,
				"no git process left on the silent host: %v", proctest.Running(t, host))
		})
	}
	assert.Contains(t, logs.String(), "API request failed: unavailable")
	assert.NotContains(t, logs.String(), "ghp_0123456789abcdef", "no token in the log")
}

// serveTargetOn serves the API, with configuration file yaml, over a new
// registry holding a subscription whose target repository is on the git
// host at url and a build of its source that flows to it: explain and
// health clone the target from that host. It returns the server's URL,
// its log and the build.
func serveTargetOn(t *testing.T, url, yaml string) (string, *syncBuffer, maestro.Build) {
	t.Helper()
	reg := newRegistry(t)
	ctx := t.Context()
	ch, err := reg.AddChannel(ctx, "dev", "")
	require.NoError(t, err)
	_, err = reg.AddSubscription(ctx, maestro.Subscription{ChannelID: ch.ID, Enabled: true,
		SourceRepository: "https://github.com/dotnet/arcade", TargetRepository: url + "/dotnet/target",
		TargetBranch: "main", Policy: maestro.SubscriptionPolicy{UpdateFrequency: maestro.FrequencyEveryDay}})
	require.NoError(t, err)
	b := publish(t, reg, strings.Repeat("3", 40), "2.0.0", ch.ID)
	base, logs := apiServerEnv(t, reg, yaml, map[string]string{wire.EnvGitHubURL: url,
		"GITHUB_TOKEN": "ghp_0123456789abcdef0123456789abcdef0123", wire.EnvAllowHTTPLoopback: "true"})
	return base, logs, b
}

package serve_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/cli/serve"
	"github.com/maestroplusplus/maestro/internal/server"
)

func TestParseLegacyFlags(t *testing.T) {
	tests := []struct {
		args string
		want *serve.Options
	}{
		{"--legacy-commit-pushed --legacy-subscriptions /srv/subscriptions.json",
			&serve.Options{Flags: server.Flags{LegacyCommitPushed: new(true), LegacySubscriptions: "/srv/subscriptions.json"}}},
		{"--legacy-commit-pushed=false", &serve.Options{Flags: server.Flags{LegacyCommitPushed: new(false)}}},
		{"--legacy-vso-url dnceng.visualstudio.com=https://dev.azure.com/dnceng --legacy-vso-url a=https://dev.azure.com/a",
			&serve.Options{Flags: server.Flags{LegacyVSOURLs: map[string]string{"dnceng.visualstudio.com": "https://dev.azure.com/dnceng", "a": "https://dev.azure.com/a"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			res, got := parse(strings.Fields(tt.args)...)
			assert.Equal(t, cmdutil.ExitOK, res.Code, res.ErrOut)
			assert.Equal(t, tt.want, got)
		})
	}
	for _, bad := range []string{"--legacy-vso-url dnceng.visualstudio.com", "--legacy-vso-url =https://dev.azure.com/a"} {
		res, got := parse(strings.Fields(bad)...)
		assert.Equal(t, cmdutil.ExitInvalid, res.Code)
		assert.Contains(t, res.ErrOut, "write VSOINSTANCE=URL")
		assert.Nil(t, got)
	}
}

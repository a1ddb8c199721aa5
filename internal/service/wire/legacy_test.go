package wire_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/service/wire"
)

func envOf(m map[string]string) wire.Env {
	return wire.Env{Getenv: func(k string) string { return m[k] }, Now: time.Now}
}

// TestLegacyQueuerRefusesBeforeSending: no token, a --vso-url that is not
// an Azure DevOps organization, or a vsoInstance that is not one, are
// refused before any request carries the token.
func TestLegacyQueuerRefusesBeforeSending(t *testing.T) {
	_, err := envOf(nil).LegacyQueuer(nil)
	assert.ErrorContains(t, err, "set MAESTRO_AZDO_TOKEN")

	_, err = envOf(map[string]string{"MAESTRO_AZDO_TOKEN": "pat"}).LegacyQueuer(map[string]string{"dnceng.visualstudio.com": "https://evil.example.com/org"})
	assert.ErrorContains(t, err, "--vso-url dnceng.visualstudio.com=https://evil.example.com/org")

	_, err = envOf(map[string]string{"MAESTRO_AZDO_TOKEN": "pat"}).LegacyQueuer(map[string]string{"dnceng.visualstudio.com": "https://u:SECRETMARKER@dev.azure.com/dnceng"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRETMARKER", "a password in --vso-url is not repeated")

	_, err = envOf(map[string]string{"MAESTRO_AZDO_TOKEN": "pat"}).LegacyQueuer(map[string]string{"dnceng.visualstudio.com": "http://127.0.0.1:1/org"})
	assert.Error(t, err, "plain http to loopback only when allowed")

	q, err := envOf(map[string]string{"MAESTRO_AZDO_TOKEN": "pat"}).LegacyQueuer(nil)
	require.NoError(t, err)
	_, err = q.Queue(context.Background(), legacy.Trigger{Action: legacy.Action{Name: "mirror", VSOInstance: "build.example.com", VSOProject: "p", BuildDefinitionID: 1}}, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "action mirror:")
	assert.Contains(t, err.Error(), "map its vsoInstance with --vso-url build.example.com=URL")
}

package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
)

// TestGitHubWebhookContentTypes: a GitHub delivery is taken in the two
// content types a webhook can be set to (application/json, parameters
// allowed, and application/x-www-form-urlencoded: TestFormDelivery); any
// other, or none, is answered 415 naming both, before the signature is
// checked, and nothing is recorded. Before, such a delivery was answered
// 401 "does not match the body" (go-github refuses the type), which sent
// the operator looking at the secret.
func TestGitHubWebhookContentTypes(t *testing.T) {
	reg := newRegistry(t)
	a := start(t, reg)
	d := delivery(t, "http://127.0.0.1:1")
	for _, ct := range []string{"text/plain", "", "application/merge-patch+json", "multipart/form-data; boundary=x", "not a type"} {
		t.Run(ct, func(t *testing.T) {
			req, err := d.NewRequest(t.Context(), a.url+"/webhooks/github")
			require.NoError(t, err)
			req.Header.Set("Content-Type", ct)
			code, body := send(t, req)
			assert.Equal(t, http.StatusUnsupportedMediaType, code, body)
			var msg struct{ Message string }
			require.NoError(t, json.Unmarshal([]byte(body), &msg), body)
			assert.Contains(t, msg.Message, "application/json or application/x-www-form-urlencoded")
			assert.Empty(t, keys(t, reg), "nothing recorded")
		})
	}
	req, err := d.NewRequest(t.Context(), a.url+"/webhooks/github")
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	code, body := send(t, req)
	assert.Equal(t, http.StatusAccepted, code, body)
	waitDone(t, reg, d.GUID)
}

// TestAzureDevOpsHookContentTypes: a service hook posts
// application/json; charset=utf-8; another content type, or none, is
// answered 415 and nothing is recorded. Before, any body was read as
// JSON whatever its type.
func TestAzureDevOpsHookContentTypes(t *testing.T) {
	reg := newRegistry(t)
	e := newHooksEnv(t)
	a := startAzdo(t, reg, e.env)
	good := e.s.ServiceHookEvent("build.complete", e.officialBuild(build.BuildResultValues.Succeeded))
	post := func(ct string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, a.url+"/webhooks/azure-devops", bytes.NewReader(good))
		require.NoError(t, err)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.SetBasicAuth("maestro", hookSecret)
		return send(t, req)
	}
	for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded", "application/jsonx"} {
		t.Run(ct, func(t *testing.T) {
			code, body := post(ct)
			assert.Equal(t, http.StatusUnsupportedMediaType, code, body)
			assert.Contains(t, body, "an Azure DevOps service hook sends application/json")
			assert.Empty(t, keys(t, reg), "nothing recorded")
		})
	}
	code, body := post("application/json")
	assert.Equal(t, http.StatusAccepted, code, body)
}

package bench_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

var update = flag.Bool("update", false, "rewrite testdata/status-delivery.json from the GitHub double")

// deliveryFixturePath holds the status delivery the webhook intake
// benchmarks send: its headers (the signatures and the delivery id left
// out: the benchmarks set them) and its payload, as the GitHub double sent
// them. The benchmarks read it rather than run the double: the double
// keeps GitHub's webhook description in the process's heap for good, and
// marking that heap at every collection cost the server under test its
// p99 (a handler that only reads the body measured p99 15-21 ms at 5,000
// requests/s with the description loaded, 4-5 ms without;
// BenchmarkServeHTTPFloor, docs/performance.md).
const deliveryFixturePath = "testdata/status-delivery.json"

// deliveryFixture is the file's content.
type deliveryFixture struct {
	Header  http.Header     `json:"header"`
	Payload json.RawMessage `json:"payload"`
}

// fixtureHeaders are the headers the benchmarks set themselves.
var fixtureHeaders = []string{"X-Github-Delivery", "X-Hub-Signature", "X-Hub-Signature-256"}

// readDeliveryFixture reads the status delivery the benchmarks send.
func readDeliveryFixture(tb testing.TB) deliveryFixture {
	tb.Helper()
	data, err := os.ReadFile(deliveryFixturePath)
	if err != nil {
		tb.Fatalf("%v (go test ./test/bench -run TestDeliveryFixture -update writes it)", err)
	}
	var f deliveryFixture
	if err := json.Unmarshal(data, &f); err != nil {
		tb.Fatalf("%s: %v", deliveryFixturePath, err)
	}
	// The file is indented for reading; the payload goes as the double
	// sent it, without white space.
	var compact bytes.Buffer
	if err := json.Compact(&compact, f.Payload); err != nil {
		tb.Fatalf("%s: payload: %v", deliveryFixturePath, err)
	}
	f.Payload = compact.Bytes()
	return f
}

// TestDeliveryFixture: the benchmarks' status delivery is one that GitHub's
// webhook description accepts, with the headers and the payload members
// that the GitHub double sends for a status today (-update rewrites it from
// the double).
func TestDeliveryFixture(t *testing.T) {
	fresh := statusDelivery(t)
	header := fresh.Header.Clone()
	for _, h := range fixtureHeaders {
		header.Del(h)
	}
	if *update {
		data, err := json.MarshalIndent(deliveryFixture{Header: header, Payload: fresh.Payload}, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(deliveryFixturePath), 0o755))
		require.NoError(t, os.WriteFile(deliveryFixturePath, append(data, '\n'), 0o644))
	}
	f := readDeliveryFixture(t)
	require.NoError(t, ghspec.Webhooks(t).CheckWebhook("status", "", f.Payload), "the fixture is a status webhook as GitHub describes it")
	assert.Equal(t, slices.Sorted(maps.Keys(header)), slices.Sorted(maps.Keys(f.Header)), "the double's headers")
	assert.Equal(t, "status", f.Header.Get("X-GitHub-Event"))
	assert.Equal(t, memberPaths(t, fresh.Payload), memberPaths(t, f.Payload), "the members of the double's status payload")
	assert.InDelta(t, len(fresh.Payload), len(f.Payload), 64, "as large as the double's, without white space")
}

// memberPaths lists the object member paths of a JSON document (array
// elements share their array's path), sorted.
func memberPaths(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(doc, &v))
	set := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				set[prefix+"/"+k] = true
				walk(prefix+"/"+k, e)
			}
		case []any:
			for _, e := range v {
				walk(prefix+"/[]", e)
			}
		}
	}
	walk("", v)
	return slices.Sorted(maps.Keys(set))
}

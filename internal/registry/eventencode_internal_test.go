package registry

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncodeEventAsJSONMarshal: a record encoded with its payload copied
// as it is decodes to what json.Marshal's encoding decodes to.
func TestEncodeEventAsJSONMarshal(t *testing.T) {
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for _, ev := range []Event{
		{Source: "github", Delivery: "d-1", Type: "status", ReceivedAt: at, Payload: json.RawMessage(`{"sha":"a<b>&c","n":[1, 2]}`), State: EventQueued},
		{Source: "github", Delivery: "d-2", Type: "status", ReceivedAt: at, Payload: json.RawMessage(` "x" `), OrderKey: "https://github.com/a/b",
			Batch: "index/events/batches/1-x.json", State: EventDone, Claim: &EventClaim{Owner: "w", Until: at}, Attempts: 2,
			LastError: `"payload":null`, Result: `"payload":null,"x":1`},
		{Source: "github", Delivery: "d-3", Type: "status", ReceivedAt: at, State: EventQueued},
	} {
		t.Run(ev.Delivery, func(t *testing.T) {
			want, err := json.Marshal(ev)
			require.NoError(t, err)
			got, err := encodeEvent(ev)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got))
			var back Event
			require.NoError(t, json.Unmarshal(got, &back))
			if len(ev.Payload) > 0 {
				assert.JSONEq(t, string(ev.Payload), string(back.Payload))
			}
			back.Payload = ev.Payload
			assert.Equal(t, ev, back)
		})
	}
}

// FuzzEncodeBatchAsJSONMarshal: a batch document is valid JSON that
// decodes to what json.Marshal's encoding of it decodes to, and fails where
// json.Marshal fails.
func FuzzEncodeBatchAsJSONMarshal(f *testing.F) {
	f.Add("github", "72d3162e-cc78-11e3-81ab-4c9367dc0958", "status", "https://github.com/dotnet/runtime", int64(1_796_000_000_123_456_789), uint8(0))
	f.Add("azdo", "d-1", "build.complete", "", int64(0), uint8(1))
	f.Add("github", "d-2", `a"b\c<d>&e`, "https://dev.azure.com/o/p/_git/r?x=1&y=<2>", int64(-1), uint8(2))
	f.Add("github", "d-3", "ünïcode\u2028\x01\xff", "\t", int64(1<<62), uint8(3))
	f.Add("github", "d-4", "status", "k", int64(-1<<63), uint8(0))
	payloads := []json.RawMessage{json.RawMessage(`{"sha":"abc","n":[1,2.5e3,null,true]}`), json.RawMessage(`"x"`), nil, json.RawMessage(`[]`)}
	f.Fuzz(func(t *testing.T, source, delivery, typ, orderKey string, nanos int64, payload uint8) {
		events := []batchEvent{
			{Source: source, Delivery: delivery, Type: typ, ReceivedAt: time.Unix(0, nanos).UTC(), OrderKey: orderKey, Payload: payloads[int(payload)%len(payloads)]},
			{Source: "github", Delivery: "second", Type: "status", ReceivedAt: time.Unix(1, 5).In(time.FixedZone("x", 3600)), Payload: payloads[0]},
		}
		want, werr := json.Marshal(batchDoc{Events: events})
		got, gerr := encodeBatch(nil, 0, events)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("json.Marshal error %v, encodeBatch error %v", werr, gerr)
		}
		if werr != nil {
			return
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("encodeBatch wrote what does not decode: %v\n%s", err, got)
		}
		require.NoError(t, json.Unmarshal(want, &w))
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("encodeBatch:\n%s\njson.Marshal:\n%s", got, want)
		}
	})
}

// TestEncodeBatchRefusesWhatJSONMarshalRefuses: a time json.Marshal cannot
// write (a year past 9999) fails the batch as it failed json.Marshal.
func TestEncodeBatchRefusesWhatJSONMarshalRefuses(t *testing.T) {
	events := []batchEvent{{Source: "github", Delivery: "d-1", Type: "status", ReceivedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Payload: json.RawMessage(`{}`)}}
	_, err := json.Marshal(batchDoc{Events: events})
	require.Error(t, err)
	_, err = encodeBatch(nil, 0, events)
	assert.ErrorContains(t, err, "d-1")
}

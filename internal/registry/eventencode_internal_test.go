package registry

import (
	"encoding/json"
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

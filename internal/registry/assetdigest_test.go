package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestAssetNameDigest holds the digest that repositories' asset-name
// documents store to its definition: SHA-256 of each name followed by a
// zero byte, whatever the names' lengths and the buffer they go through.
func TestAssetNameDigest(t *testing.T) {
	many := make([]string, 5000)
	for i := range many {
		many[i] = strings.Repeat("n", i%300)
	}
	for _, tc := range []struct {
		name  string
		names []string
	}{
		{"none", nil},
		{"one", []string{"microsoft.netcore.app.ref"}},
		{"empty names", []string{"", "a", ""}},
		{"longer than the buffer", []string{"a", strings.Repeat("x", 40<<10), "b"}},
		{"many filling the buffer", many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want strings.Builder
			for _, n := range tc.names {
				want.WriteString(n + "\x00")
			}
			sum := sha256.Sum256([]byte(want.String()))
			if got := assetNameDigest(tc.names); got != hex.EncodeToString(sum[:]) {
				t.Errorf("digest %s, want %s", got, hex.EncodeToString(sum[:]))
			}
		})
	}
}

package server

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestSiteSessionExpires: a session is good until siteSessionTTL after
// sign-in, on any replica (the same tokens), and for its own token only.
func TestSiteSessionExpires(t *testing.T) {
	read := APIToken{Name: "r", SHA256: sha256.Sum256([]byte("read-token-0123456789")), Scopes: []Scope{ScopeRead}}
	write := APIToken{Name: "w", SHA256: sha256.Sum256([]byte("write-token-0123456789")), Scopes: []Scope{ScopeWrite}}
	cfg := APIConfig{Tokens: []APIToken{read, write}}
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	v := newSession(write, t0)
	for _, tt := range []struct {
		at   time.Duration
		want bool
	}{{0, true}, {siteSessionTTL - time.Second, true}, {siteSessionTTL, false}, {48 * time.Hour, false}} {
		tok, ok := cfg.session(v, t0.Add(tt.at))
		assert.Equal(t, tt.want, ok, "after %s", tt.at)
		if ok {
			assert.Equal(t, "w", tok.Name)
		}
	}
	// A later expiry with the old MAC is no session.
	assert.False(t, sessionOK(cfg, "v1.9999999999."+v[len("v1.1796550400."):], t0))
	for _, bad := range []string{"", "v1", "v1..", "v2" + v[2:], "v1.x." + v[len("v1.1796550400."):], v + "A"} {
		assert.False(t, sessionOK(cfg, bad, t0), bad)
	}
	// Without the token configured, no session.
	assert.False(t, sessionOK(APIConfig{Tokens: []APIToken{read}}, v, t0))
}

func sessionOK(c APIConfig, v string, now time.Time) bool { _, ok := c.session(v, now); return ok }

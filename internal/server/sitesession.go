package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// The site's sign-in cookie holds a session value derived from the token,
// never the token: "v1.EXPIRY.MAC", where EXPIRY is the Unix time the
// session ends and MAC the base64url HMAC-SHA256, keyed with the token's
// SHA-256, of sessionLabel and EXPIRY. Any token (whatever bytes it holds,
// ; " \ included) gives a value of cookie-safe characters; the cookie
// cannot be replayed as a bearer token to /api/; the session ends at
// EXPIRY on every replica, whatever the browser keeps; and a replica
// checks it with what it knows of the tokens (their hashes), so sessions
// need no state and survive restarts. Whoever holds a token's SHA-256 (the
// configuration file's api.tokens) can make a session of that token: keep
// the file private.

// siteSessionTTL is how long a sign-in lasts.
const siteSessionTTL = 12 * time.Hour

const sessionLabel = "maestro site session v1\x00"

// sessionMAC is the MAC of a session ending at expiry for a token hash.
func sessionMAC(tokenSHA256 [sha256.Size]byte, expiry string) []byte {
	m := hmac.New(sha256.New, tokenSHA256[:])
	m.Write([]byte(sessionLabel + expiry))
	return m.Sum(nil)
}

// newSession is the cookie value of a session of tok from now on.
func newSession(tok APIToken, now time.Time) string {
	expiry := strconv.FormatInt(now.Add(siteSessionTTL).Unix(), 10)
	return "v1." + expiry + "." + base64.RawURLEncoding.EncodeToString(sessionMAC(tok.SHA256, expiry))
}

// session returns the configured token of a session cookie value that has
// not expired at now. Every token's MAC is compared in constant time.
func (c APIConfig) session(value string, now time.Time) (APIToken, bool) {
	version, rest, ok1 := strings.Cut(value, ".")
	expiry, mac64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || version != "v1" {
		return APIToken{}, false
	}
	end, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || now.Unix() >= end {
		return APIToken{}, false
	}
	mac, err := base64.RawURLEncoding.Strict().DecodeString(mac64)
	if err != nil || len(mac) != sha256.Size {
		return APIToken{}, false
	}
	var found APIToken
	ok := 0
	for _, t := range c.Tokens {
		eq := subtle.ConstantTimeCompare(mac, sessionMAC(t.SHA256, expiry))
		if eq == 1 {
			found = t
		}
		ok |= eq
	}
	return found, ok == 1
}

// csrfFor is the CSRF value of forms for a session: a page of another site
// can neither read the cookie nor compute it.
func csrfFor(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("maestro site csrf v1"))
	return hex.EncodeToString(m.Sum(nil))
}

package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Environment variables that hold API tokens (the plain token; the
// configuration file holds only hashes).
const (
	EnvAPIReadToken  = "MAESTRO_API_READ_TOKEN"
	EnvAPIWriteToken = "MAESTRO_API_WRITE_TOKEN"
)

// minTokenLength is the shortest token accepted from the environment: a
// token is a random secret (`openssl rand -hex 32`), not a password.
const minTokenLength = 16

// Scope is what an API token may do.
type Scope string

// Scopes. Write includes read.
const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

// APIConfig configures the REST API under /api/.
type APIConfig struct {
	// Tokens are the bearer tokens the API accepts.
	Tokens []APIToken
	// AnonymousRead lets a request without a token read (never write). Off
	// by default: every request needs a token.
	AnonymousRead bool
}

// APIToken is one accepted bearer token, known by its SHA-256 only.
type APIToken struct {
	// Name identifies the token in logs; it is not secret.
	Name   string
	SHA256 [sha256.Size]byte
	Scopes []Scope
}

// Allows reports whether the token grants scope (write includes read).
func (t APIToken) Allows(scope Scope) bool {
	return slices.Contains(t.Scopes, scope) || scope == ScopeRead && slices.Contains(t.Scopes, ScopeWrite)
}

// apiFileConfig is the api section of the configuration file.
type apiFileConfig struct {
	AnonymousRead *bool `yaml:"anonymousRead"`
	Tokens        []struct {
		Name   string   `yaml:"name"`
		SHA256 string   `yaml:"sha256"`
		Scopes []string `yaml:"scopes"`
	} `yaml:"tokens"`
}

// apply reads the file's api section into c; path is for messages.
func (f apiFileConfig) apply(path string, c *APIConfig) error {
	if f.AnonymousRead != nil {
		c.AnonymousRead = *f.AnonymousRead
	}
	seen := map[string]bool{}
	for i, ft := range f.Tokens {
		where := fmt.Sprintf("configuration file %s: api.tokens[%d]", path, i)
		if strings.TrimSpace(ft.Name) == "" {
			return maestro.Errorf(maestro.KindInvalid, "%s: name is empty; give each token a name for the logs", where)
		}
		if seen[ft.Name] {
			return maestro.Errorf(maestro.KindInvalid, "%s: name %q is used twice", where, ft.Name)
		}
		seen[ft.Name] = true
		sum, err := hex.DecodeString(ft.SHA256)
		if err != nil || len(sum) != sha256.Size {
			return maestro.Errorf(maestro.KindInvalid, "%s (%s): sha256 must be the 64 hex digits of the token's SHA-256 (`printf %%s \"$TOKEN\" | sha256sum`), never the token itself", where, ft.Name)
		}
		t := APIToken{Name: ft.Name, SHA256: [sha256.Size]byte(sum)}
		if len(ft.Scopes) == 0 {
			return maestro.Errorf(maestro.KindInvalid, "%s (%s): scopes is empty; use [read] or [read, write]", where, ft.Name)
		}
		for _, s := range ft.Scopes {
			if s != string(ScopeRead) && s != string(ScopeWrite) {
				return maestro.Errorf(maestro.KindInvalid, "%s (%s): scope %q: use read or write", where, ft.Name, s)
			}
			t.Scopes = append(t.Scopes, Scope(s))
		}
		c.Tokens = append(c.Tokens, t)
	}
	return nil
}

// applyEnv adds the tokens of the environment: $MAESTRO_API_READ_TOKEN with
// scope read, $MAESTRO_API_WRITE_TOKEN with read and write.
func (c *APIConfig) applyEnv(getenv func(string) string) error {
	for _, e := range []struct {
		env    string
		scopes []Scope
	}{{EnvAPIReadToken, []Scope{ScopeRead}}, {EnvAPIWriteToken, []Scope{ScopeRead, ScopeWrite}}} {
		tok := getenv(e.env)
		if tok == "" {
			continue
		}
		if len(tok) < minTokenLength || strings.TrimSpace(tok) != tok {
			return maestro.Errorf(maestro.KindInvalid, "%s is shorter than %d characters or has spaces around it; use a random token, e.g. `openssl rand -hex 32`", e.env, minTokenLength)
		}
		c.Tokens = append(c.Tokens, APIToken{Name: "$" + e.env, SHA256: sha256.Sum256([]byte(tok)), Scopes: e.scopes})
	}
	return nil
}

// Token returns the configured token whose SHA-256 is the presented
// token's. The hash is compared with every configured one in constant time,
// so neither the time taken nor an early exit tells which bytes matched.
func (c APIConfig) Token(presented string) (APIToken, bool) {
	sum := sha256.Sum256([]byte(presented))
	var found APIToken
	ok := 0
	for _, t := range c.Tokens {
		eq := subtle.ConstantTimeCompare(sum[:], t.SHA256[:])
		if eq == 1 {
			found = t
		}
		ok |= eq
	}
	return found, ok == 1
}

// String describes the API configuration without the tokens' hashes.
func (c APIConfig) String() string {
	names := make([]string, len(c.Tokens))
	for i, t := range c.Tokens {
		names[i] = fmt.Sprintf("%s %v", t.Name, t.Scopes)
	}
	return fmt.Sprintf("api tokens [%s], anonymous read %t", strings.Join(names, ", "), c.AnonymousRead)
}

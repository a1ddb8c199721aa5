package githubdouble

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-github/v60/github"
)

// app is a GitHub App with one installation.
type app struct {
	slug           string
	id             int64
	key            *rsa.PublicKey
	installationID int64
}

// AddApp registers a GitHub App (id, public key) installed once
// (installationID). Its JSON web tokens, signed RS256 with the private key and
// issued by the app id, buy installation tokens at
// POST /app/installations/{installationID}/access_tokens; those act as
// "slug[bot]".
func (s *Server) AddApp(slug string, id int64, key *rsa.PublicKey, installationID int64) {
	s.tb.Helper()
	if !validLogin(slug) || key == nil {
		s.tb.Fatalf("github double: invalid app %q", slug)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps = append(s.apps, app{slug: slug, id: id, key: key, installationID: installationID})
}

var accessTokensPath = regexp.MustCompile(`^/app/installations/(\d+)/access_tokens$`)

// accessTokensRoute is the route serveAccessToken answers outside the
// route table.
const accessTokensRoute = "POST /app/installations/{installation_id}/access_tokens"

// serveAccessToken answers POST /app/installations/{id}/access_tokens, which
// authenticates with the app's JSON web token instead of a token. It
// reports whether path was that route. The caller holds s.mu.
func (s *Server) serveAccessToken(w http.ResponseWriter, r *http.Request, path string, reqBody []byte, login *string) bool {
	m := accessTokensPath.FindStringSubmatch(path)
	if m == nil || r.Method != http.MethodPost {
		return false
	}
	installation, _ := strconv.ParseInt(m[1], 10, 64)
	raw := tokenFromHeader(r.Header.Get("Authorization"))
	var found *app
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		iss, err := t.Claims.GetIssuer()
		if err != nil {
			return nil, err
		}
		for i := range s.apps {
			if strconv.FormatInt(s.apps[i].id, 10) == iss {
				found = &s.apps[i]
				return found.key, nil
			}
		}
		return nil, fmt.Errorf("unknown app %q", iss)
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.now), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil || found == nil {
		writeError(w, newAPIError(http.StatusUnauthorized, "A JSON web token could not be decoded", docsBase+"/apps/building-github-apps/authenticating-with-github-apps"))
		return true
	}
	if exp := claims.ExpiresAt.Time; exp.Sub(s.now()) > 10*time.Minute {
		writeError(w, newAPIError(http.StatusUnauthorized, "'Expiration time' claim ('exp') is too far in the future", docsBase+"/apps/building-github-apps/authenticating-with-github-apps"))
		return true
	}
	if installation != found.installationID {
		writeError(w, notFound(docsBase+"/rest/apps/apps#create-an-installation-access-token-for-an-app"))
		return true
	}
	if aerr := s.checkRequest(r.Method, path, reqBody); aerr != nil {
		writeError(w, aerr)
		return true
	}
	var b [20]byte
	_, _ = rand.Read(b[:])
	token := "ghs_" + hex.EncodeToString(b[:])
	s.tokens[token] = s.addUserLocked(User{Login: found.slug + "[bot]", Bot: true})
	*login = found.slug + "[bot]"
	expires := github.Timestamp{Time: s.now().Add(time.Hour)}
	writeJSON(w, http.StatusCreated, &github.InstallationToken{Token: &token, ExpiresAt: &expires})
	return true
}

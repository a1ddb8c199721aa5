package github

import (
	"context"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	gh "github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/internal/redact"
)

// App is a GitHub App installation that Maestro++ acts as.
type App struct {
	ID             int64
	InstallationID int64
	Key            *rsa.PrivateKey
	// HTTPClient sends the request, unauthenticated (nil: one that keeps
	// credentials out of its errors, redact.NewClient); the caller bounds
	// its requests with it (wire: MAESTRO_HTTP_TIMEOUT).
	HTTPClient *http.Client
}

// InstallationToken buys an installation token for the app: a JSON web token
// signed with the app's key (RS256, issued by the app id, valid nine
// minutes) pays for POST /app/installations/{id}/access_tokens on the host
// whose API base tells.
func InstallationToken(ctx context.Context, base *gh.Client, a App, now time.Time) (string, error) {
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer:    strconv.FormatInt(a.ID, 10),
		IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(9 * time.Minute)),
	}).SignedString(a.Key)
	if err != nil {
		return "", fmt.Errorf("sign the GitHub App token: %w", err)
	}
	hc := a.HTTPClient
	if hc == nil {
		hc = redact.NewClient()
	}
	client := gh.NewClient(hc).WithAuthToken(signed)
	u := *base.BaseURL
	client.BaseURL = &u
	tok, _, err := client.Apps.CreateInstallationToken(ctx, a.InstallationID, nil)
	if err != nil {
		return "", fmt.Errorf("installation token of GitHub App %d, installation %d: %w", a.ID, a.InstallationID, err)
	}
	return tok.GetToken(), nil
}

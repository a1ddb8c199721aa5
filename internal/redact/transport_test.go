package redact_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gh "github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/internal/redact"
)

// echoServer answers every request 401 with a body that quotes the request's
// Authorization header, as some services do.
func echoServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message":"Bad credentials: `+r.Header.Get("Authorization")+`"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTransportGitHubClient(t *testing.T) {
	srv := echoServer(t)
	client, err := gh.NewClient(redact.NewClient()).WithAuthToken(secret).WithEnterpriseURLs(srv.URL+"/api/v3/", srv.URL+"/api/uploads/")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = client.Repositories.Get(t.Context(), "o", "r")
	if err == nil {
		t.Fatal("the request succeeded against a server that answers 401")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("go-github's error carries the token: %v", err)
	}
	if !strings.Contains(err.Error(), "Bad credentials") {
		t.Fatalf("the redacted error lost the service's message: %v", err)
	}
}

func TestTransportBody(t *testing.T) {
	srv := echoServer(t)
	for _, header := range []string{"Bearer " + secret, "Basic OlMzQ1JFVHZhbHVlMDEyMzQ1Njc4OWFiY2Q="} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", header)
		resp, err := redact.NewClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if strings.Contains(string(body), secret) || strings.Contains(string(body), strings.TrimPrefix(header, "Basic ")) {
			t.Fatalf("error body keeps the credential of %q: %s", header, body)
		}
		if resp.ContentLength != int64(len(body)) {
			t.Fatalf("ContentLength %d, body %d bytes", resp.ContentLength, len(body))
		}
	}
}

func TestTransportSuccessUntouched(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"token":"`+secret+`"}`) // an installation token response
	}))
	defer srv.Close()
	resp, err := redact.NewClient(secret).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), secret) {
		t.Fatalf("a successful response was changed: %s", body)
	}
}

func TestTransportError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens: connection refused
	tr := &redact.Transport{Secrets: []string{"extra-secret-value"}}
	for _, u := range []string{
		"http://" + addr + "/c?sv=1&sig=" + secret,
		"http://user:" + secret + "@" + addr + "/",
		"http://" + addr + "/extra-secret-value",
	} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
		// RoundTrip itself: http.Client.Do adds the request URL to the
		// error, which callers with secrets in URLs redact at their edge.
		_, err := tr.RoundTrip(req)
		if err == nil {
			t.Fatalf("GET %s succeeded with nothing listening", addr)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "extra-secret-value") {
			t.Fatalf("transport error carries the secret: %v", err)
		}
	}
}

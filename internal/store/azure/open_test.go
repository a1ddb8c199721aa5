package azure_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/azure"
	"github.com/maestroplusplus/maestro/test/azurite"
)

func TestValidateContainerName(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"bar", true},
		{"maestro-bar-1", true},
		{"a1b", true},
		{strings.Repeat("a", 63), true},
		{"ab", false},
		{strings.Repeat("a", 64), false},
		{"Bar", false},
		{"-bar", false},
		{"bar-", false},
		{"b--r", false},
		{"b_r", false},
		{"b.r", false},
		{"", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := azure.ValidateContainerName(c.name)
			if (err == nil) != c.ok {
				t.Fatalf("ValidateContainerName(%q) = %v, want ok=%v", c.name, err, c.ok)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fmt.Sprintf("http://%s/%s", l.Addr(), azurite.AccountName)
	l.Close() // nothing listens there now
	conn := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		azurite.AccountName, azurite.AccountKey, endpoint)

	start := time.Now()
	_, err = azure.Open(t.Context(), azure.Account{ConnectionString: conn}, "bar")
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("Open of an unreachable account succeeded")
	}
	if elapsed > 5*time.Second {
		t.Errorf("Open took %s to fail, want a few seconds at most", elapsed)
	}
	if !strings.Contains(err.Error(), endpoint+"/bar") {
		t.Errorf("error does not name the endpoint %s/bar: %v", endpoint, err)
	}
	if strings.Contains(err.Error(), azurite.AccountKey) {
		t.Errorf("error shows the account key: %v", err)
	}
	t.Logf("failed after %s: %v", elapsed.Round(time.Millisecond), err)
}

func TestOpenBadAccount(t *testing.T) {
	cases := []struct {
		name string
		acct azure.Account
		want string
	}{
		{"empty", azure.Account{}, "need a connection string"},
		{"malformed connection string", azure.Account{ConnectionString: "AccountKey=s3cr3t"}, "connection string"},
		{"URL without credential", azure.Account{URL: "https://x.blob.core.windows.net/"}, "need a connection string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := azure.Open(t.Context(), c.acct, "bar")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open error = %v, want one mentioning %q", err, c.want)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}
	if _, err := azure.Open(t.Context(), azure.Account{ConnectionString: "x"}, "Bad_Name"); err == nil || !strings.Contains(err.Error(), `"Bad_Name"`) {
		t.Fatalf("Open with a bad container name error = %v, want one quoting the name", err)
	}
}

// azuriteTests run after the suite on the same Azurite; the last one
// restarts it.
var azuriteTests = []struct {
	name string
	run  func(t *testing.T, srv *azurite.Server)
}{
	{"OpenExistingContainer", testOpenExistingContainer},
	{"ListAllPages", testListAllPages},
	{"SurvivesRestart", testSurvivesRestart},
}

func testOpenExistingContainer(t *testing.T, srv *azurite.Server) {
	a := open(t, srv, "shared")
	if _, err := a.Put(t.Context(), "k", []byte("v"), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	b := open(t, srv, "shared")
	if data, _, err := b.Get(t.Context(), "k"); err != nil || string(data) != "v" {
		t.Fatalf("second Open sees Get = %q, %v", data, err)
	}
	if want := srv.BlobEndpoint() + "/shared"; b.Endpoint() != want {
		t.Fatalf("Endpoint() = %q, want %q", b.Endpoint(), want)
	}
}

func testListAllPages(t *testing.T, srv *azurite.Server) {
	s := open(t, srv, "pages", azure.WithListPageSize(2))
	var want []string
	for i := range 7 {
		k := fmt.Sprintf("p/%d", i)
		want = append(want, k)
		if _, err := s.Put(t.Context(), k, nil, store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.List(t.Context(), "p/")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List with pages of 2 = %q, want %q", got, want)
	}
}

func testSurvivesRestart(t *testing.T, srv *azurite.Server) {
	s := open(t, srv, "restart")
	etag, err := s.Put(t.Context(), "k", []byte("before"), store.Condition{})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	start := time.Now()
	_, _, err = s.Get(t.Context(), "k")
	if err == nil || !strings.Contains(err.Error(), srv.BlobEndpoint()) {
		t.Fatalf("Get while Azurite is down error = %v, want one naming %s", err, srv.BlobEndpoint())
	}
	if !errors.Is(err, store.ErrUnavailable) || maestro.KindOf(err) != maestro.KindUnavailable {
		t.Fatalf("Get while Azurite is down error = %v, want store.ErrUnavailable of KindUnavailable", err)
	}
	for _, op := range []func() error{
		func() error { _, err := s.Put(t.Context(), "k", nil, store.Condition{}); return err },
		func() error { _, err := s.List(t.Context(), ""); return err },
		func() error { return s.Delete(t.Context(), "k", "") },
		func() error { _, err := s.AcquireLease(t.Context(), "k", store.MinLeaseDuration); return err },
		func() error { return s.BreakLease(t.Context(), "k") },
	} {
		if err := op(); !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("operation while Azurite is down error = %v, want store.ErrUnavailable", err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := s.Get(ctx, "k"); errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Get with a cancelled context error = %v: the caller's cancellation is not an outage", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Get while Azurite is down took %s to fail", elapsed)
	}
	srv.Restart()
	if _, err := s.Put(t.Context(), "k", []byte("after"), store.Condition{IfMatch: etag}); err != nil {
		t.Fatalf("if-match Put with the ETag from before the restart: %v", err)
	}
}

// TestOpenUnreachableSAS opens an unreachable account with a SAS connection
// string: the transport's error quotes the request URL, SAS query included,
// and the store must mask it.
func TestOpenUnreachableSAS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := fmt.Sprintf("http://%s/%s", l.Addr(), azurite.AccountName)
	l.Close()
	const sig = "RecognisableSASsignature0123456789%2Babc%3D"
	conn := "BlobEndpoint=" + endpoint + ";SharedAccessSignature=sv=2021-08-06&ss=b&srt=sco&sp=rwdlac&se=2099-01-01T00:00:00Z&sig=" + sig
	_, err = azure.Open(t.Context(), azure.Account{ConnectionString: conn}, "bar")
	if err == nil {
		t.Fatal("Open of an unreachable account succeeded")
	}
	for _, s := range []string{sig, "RecognisableSASsignature0123456789+abc="} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error shows the SAS signature: %v", err)
		}
	}
	if !strings.Contains(err.Error(), endpoint+"/bar") {
		t.Errorf("error does not name the endpoint %s/bar: %v", endpoint, err)
	}
	t.Log(err)
}

// TestServiceAnswers opens an account whose service answers every request
// with one status: throttling and server errors are store.ErrUnavailable,
// with the wait the service asked for; a refusal is not.
func TestServiceAnswers(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		header      map[string]string
		unavailable bool
		after       time.Duration
	}{
		{"busy with Retry-After", http.StatusServiceUnavailable, map[string]string{"Retry-After": "7"}, true, 7 * time.Second},
		{"throttled in ms", http.StatusTooManyRequests, map[string]string{"x-ms-retry-after-ms": "1500"}, true, 1500 * time.Millisecond},
		{"internal error", http.StatusInternalServerError, nil, true, 0},
		{"gateway timeout", http.StatusGatewayTimeout, nil, true, 0},
		{"forbidden", http.StatusForbidden, nil, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range c.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("x-ms-error-code", "ServerBusy")
				w.WriteHeader(c.status)
			}))
			defer srv.Close()
			conn := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s/%s;",
				azurite.AccountName, azurite.AccountKey, srv.URL, azurite.AccountName)
			_, err := azure.Open(t.Context(), azure.Account{ConnectionString: conn}, "bar")
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if got := errors.Is(err, store.ErrUnavailable); got != c.unavailable {
				t.Fatalf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, c.unavailable)
			}
			var ra store.RetryAfter
			if c.unavailable && (!errors.As(err, &ra) || ra.RetryAfter() != c.after) {
				t.Fatalf("Open error %v: Retry-After not %s", err, c.after)
			}
		})
	}
}

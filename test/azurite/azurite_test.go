package azurite_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/maestroplusplus/maestro/test/azurite"
)

func newClient(t *testing.T, srv *azurite.Server) *azblob.Client {
	t.Helper()
	c, err := azblob.NewClientFromConnectionString(srv.ConnectionString(), &azblob.ClientOptions{
		ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func upload(ctx context.Context, c *azblob.Client, name, data string) error {
	_, err := c.UploadBuffer(ctx, "box", name, []byte(data), nil)
	return err
}

func download(t *testing.T, c *azblob.Client, name string) string {
	t.Helper()
	resp, err := c.DownloadStream(t.Context(), "box", name, nil)
	if err != nil {
		t.Fatalf("download %s: %v", name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestStartServesTheDevelopmentAccount(t *testing.T) {
	srv := azurite.Start(t)
	if !strings.Contains(srv.ConnectionString(), "AccountName="+azurite.AccountName) ||
		!strings.Contains(srv.ConnectionString(), "BlobEndpoint="+srv.BlobEndpoint()) {
		t.Fatalf("connection string %q does not name the account and endpoint", srv.ConnectionString())
	}
	if !strings.HasPrefix(srv.BlobEndpoint(), "http://127.0.0.1:") {
		t.Fatalf("endpoint %q is not on loopback", srv.BlobEndpoint())
	}
	c := newClient(t, srv)
	if _, err := c.CreateContainer(t.Context(), "box", nil); err != nil {
		t.Fatal(err)
	}
	if err := upload(t.Context(), c, "hello", "world"); err != nil {
		t.Fatal(err)
	}
	if got := download(t, c, "hello"); got != "world" {
		t.Fatalf("download = %q, want %q", got, "world")
	}
}

func TestRestartKeepsData(t *testing.T) {
	srv := azurite.Start(t)
	c := newClient(t, srv)
	ctx := t.Context()
	if _, err := c.CreateContainer(ctx, "box", nil); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := upload(ctx, c, "big", string(big)); err != nil {
		t.Fatal(err)
	}

	// Stop in the middle of a stream of writes: every write that succeeded
	// must be there after the restart.
	written := make(chan int, 1000)
	go func() {
		defer close(written)
		for i := 0; ; i++ {
			if upload(ctx, c, fmt.Sprintf("n/%04d", i), fmt.Sprint(i)) != nil {
				return
			}
			written <- i
		}
	}()
	time.Sleep(300 * time.Millisecond)
	srv.Stop()
	srv.Stop() // a second Stop is a no-op
	var ok []int
	for i := range written {
		ok = append(ok, i)
	}
	if err := upload(ctx, c, "after-stop", "x"); err == nil {
		t.Fatal("upload succeeded while Azurite was stopped")
	}
	srv.Restart()
	if len(ok) == 0 {
		t.Fatal("no write succeeded before Stop")
	}
	if got := download(t, c, "big"); got != string(big) {
		t.Fatalf("big blob changed across the restart: %d bytes", len(got))
	}
	for _, i := range ok {
		if got := download(t, c, fmt.Sprintf("n/%04d", i)); got != fmt.Sprint(i) {
			t.Fatalf("n/%04d = %q after the restart, want %d", i, got, i)
		}
	}
	t.Logf("%d writes before Stop survived the restart", len(ok))
	if err := upload(ctx, c, "after-restart", "x"); err != nil {
		t.Fatalf("upload after Restart: %v", err)
	}
	srv.Restart() // restarts a running server too
	if got := download(t, c, "after-restart"); got != "x" {
		t.Fatalf("after-restart = %q after a second restart", got)
	}
}

// Package azure is a store.Store in an Azure Blob Storage container, reached
// with the azblob SDK (Azurite in tests).
//
// Each key is a block blob of that name. ETags are the blob's ETags, and
// conditions become access conditions: Condition.IfMatch is If-Match and
// Condition.CreateOnly is If-None-Match: *. Leases are blob leases (15 to 60
// seconds, whole seconds); AcquireLease first creates an empty blob where
// there is none. While a key is leased, Azure refuses Put and Delete on it
// without the lease id; they fail with store.ErrLeased.
//
// The client tries each request once and gives up on a connection after 5
// seconds: retrying is package retry's job, around any store. A request that
// could not reach the account (refused, timed out, DNS) or that the service
// throttled (429) or failed (408, 5xx) returns store.ErrUnavailable, with the
// service's Retry-After when it sent one; the error names the endpoint and
// never the credential (see package redact).
package azure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/appendblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
	"github.com/google/uuid"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
	"github.com/maestroplusplus/maestro/internal/store"
)

var _ store.Store = (*Store)(nil)

// Account says how to reach a storage account: a connection string, or the
// account's blob endpoint and a token credential.
type Account struct {
	// ConnectionString holds the account and its key or a SAS, as the Azure
	// portal shows it. It takes precedence over URL and Credential.
	ConnectionString string
	// URL is the blob endpoint, like https://NAME.blob.core.windows.net/.
	URL string
	// Credential authenticates requests to URL, for example an
	// azidentity.ClientSecretCredential.
	Credential azcore.TokenCredential
}

// Store keeps objects as block blobs in one container. Use Open to make one.
type Store struct {
	client   *container.Client
	endpoint string   // the container URL without its query, for messages
	secrets  []string // the connection string's key and signature, masked in errors
	pageSize int32
	// mustExist makes Open refuse a missing container instead of creating it.
	mustExist bool
}

// Option configures a Store.
type Option func(*Store)

// WithListPageSize makes List ask for at most n keys per request instead of
// the service's limit of 5,000.
func WithListPageSize(n int32) Option {
	return func(s *Store) { s.pageSize = n }
}

// MustExist makes Open fail, with an error that wraps store.ErrNotExist,
// when the container does not exist, instead of creating it.
func MustExist() Option {
	return func(s *Store) { s.mustExist = true }
}

// Connection limits: an unreachable account fails in seconds.
const (
	tryTimeout  = time.Minute
	dialTimeout = 5 * time.Second
)

func clientOptions() *container.ClientOptions {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: tryTimeout,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		// One try: package retry retries, for every backend alike.
		Retry:     policy.RetryOptions{MaxRetries: -1, TryTimeout: tryTimeout},
		Transport: &http.Client{Transport: transport},
	}}
}

// Open connects to containerName in the account, creating the container if
// it does not exist (unless MustExist is given).
func Open(ctx context.Context, acct Account, containerName string, opts ...Option) (_ *Store, err error) {
	secrets := redact.ConnectionStringSecrets(acct.ConnectionString)
	defer func() { err = redact.Error(err, secrets...) }()
	if err := ValidateContainerName(containerName); err != nil {
		return nil, maestro.Errorf(maestro.KindInvalid, "%w", err)
	}
	var client *container.Client
	switch {
	case acct.ConnectionString != "":
		client, err = container.NewClientFromConnectionString(acct.ConnectionString, containerName, clientOptions())
		if err != nil {
			// The SDK's messages describe the form, never the secret.
			return nil, maestro.Errorf(maestro.KindInvalid, "azure storage connection string: %w", err)
		}
	case acct.URL != "" && acct.Credential != nil:
		u, perr := url.Parse(acct.URL)
		if perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, maestro.Errorf(maestro.KindInvalid, "azure storage account URL %q: want https://ACCOUNT.blob.core.windows.net/", redact.String(stripQuery(acct.URL)))
		}
		client, err = container.NewClient(runtime.JoinPaths(acct.URL, containerName), acct.Credential, clientOptions())
		if err != nil {
			return nil, fmt.Errorf("azure storage account %s: %w", redact.String(stripQuery(acct.URL)), err)
		}
	default:
		return nil, maestro.Errorf(maestro.KindInvalid, "azure storage: need a connection string, or an account URL and a credential")
	}
	s := &Store{client: client, endpoint: redact.String(stripQuery(client.URL())), secrets: secrets}
	for _, opt := range opts {
		opt(s)
	}
	if err := s.ensureContainer(ctx); errors.Is(err, store.ErrNotExist) {
		return nil, fmt.Errorf("azure container %s: %w", s.endpoint, err)
	} else if err != nil {
		return nil, s.clean(ctx, fmt.Errorf("open azure container %s (check that the endpoint is reachable and the credential may use it): %w", s.endpoint, err))
	}
	return s, nil
}

// Endpoint returns the container's URL without any SAS query.
func (s *Store) Endpoint() string { return s.endpoint }

func (s *Store) ensureContainer(ctx context.Context) error {
	_, err := s.client.GetProperties(ctx, nil)
	if err == nil {
		return nil
	}
	if !bloberror.HasCode(err, bloberror.ContainerNotFound) {
		return err
	}
	if s.mustExist {
		return store.ErrNotExist
	}
	_, err = s.client.Create(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return err
	}
	return nil
}

// stripQuery drops the query (a SAS token) and any user info from a URL.
func stripQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}

// clean keeps the account's secrets out of an error (the transport's errors
// quote the request URL, SAS query included) and marks a transient failure
// as store.ErrUnavailable.
func (s *Store) clean(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	err = redact.Error(err, s.secrets...)
	if ctx.Err() == nil && transient(err) {
		return &unavailableError{err: err, after: retryAfter(err)}
	}
	return err
}

// transient reports whether err says the request did not reach the service
// or the service could not answer it now, rather than an answer about data.
func transient(err error) bool {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
			http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// retryAfter reads how long the service asked to wait: x-ms-retry-after-ms,
// retry-after-ms, or Retry-After in seconds or as an HTTP date.
func retryAfter(err error) time.Duration {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.RawResponse == nil {
		return 0
	}
	h := re.RawResponse.Header
	for _, name := range []string{"x-ms-retry-after-ms", "retry-after-ms"} {
		if ms, perr := strconv.Atoi(h.Get(name)); perr == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	v := h.Get("Retry-After")
	if sec, perr := strconv.Atoi(v); perr == nil && sec > 0 {
		return time.Duration(sec) * time.Second
	}
	if at, perr := http.ParseTime(v); perr == nil {
		return max(time.Until(at), 0)
	}
	return 0
}

// unavailableError is a transient failure: store.ErrUnavailable (and so a
// maestro.KindUnavailable error) with the service's own error.
type unavailableError struct {
	err   error
	after time.Duration
}

func (e *unavailableError) Error() string {
	return e.err.Error() + " (store unavailable)"
}
func (e *unavailableError) Unwrap() []error           { return []error{e.err, store.ErrUnavailable} }
func (e *unavailableError) RetryAfter() time.Duration { return e.after }

// ValidateContainerName checks the Azure rules for a container name: 3 to 63
// characters, lower-case letters, digits and single hyphens, starting and
// ending with a letter or digit.
func ValidateContainerName(name string) error {
	bad := len(name) < 3 || len(name) > 63
	for i := 0; i < len(name) && !bad; i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-':
			bad = i == 0 || i == len(name)-1 || name[i-1] == '-'
		default:
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("azure container name %q: use 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit", name)
	}
	return nil
}

// statusOf returns the HTTP status and error code of an Azure response error.
func statusOf(err error) (int, bloberror.Code) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, bloberror.Code(re.ErrorCode)
	}
	return 0, ""
}

// kindError wraps a store error kind with the operation and Azure's code,
// keeping Azure's long message out of the way.
func kindError(op, key string, kind error, code bloberror.Code) error {
	return fmt.Errorf("%s %s: %w (%s)", op, key, kind, code)
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (_ []byte, _ string, err error) {
	defer func() { err = s.clean(ctx, err) }()
	if err := store.ValidateKey(key); err != nil {
		return nil, "", err
	}
	resp, err := s.client.NewBlobClient(key).DownloadStream(ctx, nil)
	if err != nil {
		if status, code := statusOf(err); status == http.StatusNotFound {
			return nil, "", kindError("get", key, store.ErrNotExist, code)
		}
		return nil, "", fmt.Errorf("get %s from %s: %w", key, s.endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("get %s from %s: read body: %w", key, s.endpoint, err)
	}
	if resp.ETag == nil {
		return nil, "", fmt.Errorf("get %s from %s: response has no ETag", key, s.endpoint)
	}
	return data, string(*resp.ETag), nil
}

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, key string, data []byte, cond store.Condition) (_ string, err error) {
	defer func() { err = s.clean(ctx, err) }()
	if err := store.ValidateKey(key); err != nil {
		return "", err
	}
	var mac blob.ModifiedAccessConditions
	if cond.CreateOnly {
		mac.IfNoneMatch = ptr(azcore.ETagAny)
	}
	if cond.IfMatch != "" {
		mac.IfMatch = ptr(azcore.ETag(cond.IfMatch))
	}
	resp, err := s.client.NewBlockBlobClient(key).Upload(ctx, streaming.NopCloser(bytes.NewReader(data)),
		&blockblob.UploadOptions{AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &mac}})
	if err != nil {
		status, code := statusOf(err)
		switch {
		case code == bloberror.LeaseIDMissing || code == bloberror.LeaseIDMismatchWithBlobOperation:
			return "", kindError("put", key, store.ErrLeased, code)
		case status == http.StatusPreconditionFailed,
			status == http.StatusConflict && code == bloberror.BlobAlreadyExists,
			status == http.StatusNotFound && cond.IfMatch != "" && code != bloberror.ContainerNotFound:
			return "", kindError("put", key, store.ErrPrecondition, code)
		}
		return "", fmt.Errorf("put %s to %s: %w", key, s.endpoint, err)
	}
	if resp.ETag == nil {
		return "", fmt.Errorf("put %s to %s: response has no ETag", key, s.endpoint)
	}
	return string(*resp.ETag), nil
}

// appendBlockBytes is the most one Append Block request carries (4 MiB in
// every service version; larger appends are sent in several blocks).
const appendBlockBytes = 4 << 20

// Append implements store.Store on an append blob: at 0 creates the blob
// (create-only) unless it exists, then each block of data is appended on
// the condition that the blob is as long as the caller said (Azure's
// append position). An append longer than appendBlockBytes is several
// blocks, and a reader may see the first ones before the last. Creating
// and the first block are two requests: an append at 0 that races a
// Delete of its key between them reports ErrNotExist (store.Store says
// so).
func (s *Store) Append(ctx context.Context, key string, data []byte, at int64) (err error) {
	defer func() { err = s.clean(ctx, err) }()
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	if len(data) == 0 || at < 0 {
		return fmt.Errorf("append to %s at %d: %d bytes: need data and a length of 0 or more", key, at, len(data))
	}
	client := s.client.NewAppendBlobClient(key)
	if at == 0 {
		_, err := client.Create(ctx, &appendblob.CreateOptions{AccessConditions: &blob.AccessConditions{
			ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: ptr(azcore.ETagAny)}}})
		status, code := statusOf(err)
		switch {
		case err == nil, status == http.StatusConflict && code == bloberror.BlobAlreadyExists,
			status == http.StatusPreconditionFailed && code == bloberror.ConditionNotMet:
			// Created, or there already: the length condition decides.
		case code == bloberror.LeaseIDMissing || code == bloberror.LeaseIDMismatchWithBlobOperation:
			return kindError("append to", key, store.ErrLeased, code)
		default:
			return fmt.Errorf("append to %s on %s: create: %w", key, s.endpoint, err)
		}
	}
	for len(data) > 0 {
		n := min(len(data), appendBlockBytes)
		_, err := client.AppendBlock(ctx, streaming.NopCloser(bytes.NewReader(data[:n])), &appendblob.AppendBlockOptions{
			AppendPositionAccessConditions: &appendblob.AppendPositionAccessConditions{AppendPosition: ptr(at)}})
		if err != nil {
			status, code := statusOf(err)
			switch {
			case status == http.StatusNotFound && code != bloberror.ContainerNotFound:
				return kindError("append to", key, store.ErrNotExist, code)
			case code == bloberror.LeaseIDMissing || code == bloberror.LeaseIDMismatchWithBlobOperation:
				return kindError("append to", key, store.ErrLeased, code)
			case status == http.StatusPreconditionFailed, code == bloberror.InvalidBlobType:
				return kindError("append to", key, store.ErrPrecondition, code)
			}
			return fmt.Errorf("append to %s on %s: %w", key, s.endpoint, err)
		}
		data, at = data[n:], at+int64(n)
	}
	return nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key, ifMatch string) (err error) {
	defer func() { err = s.clean(ctx, err) }()
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	var opts blob.DeleteOptions
	if ifMatch != "" {
		opts.AccessConditions = &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{
			IfMatch: ptr(azcore.ETag(ifMatch)),
		}}
	}
	_, err = s.client.NewBlobClient(key).Delete(ctx, &opts)
	if err != nil {
		status, code := statusOf(err)
		switch {
		case status == http.StatusNotFound:
			return kindError("delete", key, store.ErrNotExist, code)
		case code == bloberror.LeaseIDMissing || code == bloberror.LeaseIDMismatchWithBlobOperation:
			return kindError("delete", key, store.ErrLeased, code)
		case status == http.StatusPreconditionFailed:
			// Azurite answers 412 for a missing blob too; the contract says
			// ErrNotExist.
			if _, perr := s.client.NewBlobClient(key).GetProperties(ctx, nil); bloberror.HasCode(perr, bloberror.BlobNotFound) {
				return kindError("delete", key, store.ErrNotExist, bloberror.BlobNotFound)
			}
			return kindError("delete", key, store.ErrPrecondition, code)
		}
		return fmt.Errorf("delete %s from %s: %w", key, s.endpoint, err)
	}
	return nil
}

// List implements store.Store, reading every page of a flat listing.
func (s *Store) List(ctx context.Context, prefix string) (_ []string, err error) {
	defer func() { err = s.clean(ctx, err) }()
	var opts container.ListBlobsFlatOptions
	if prefix != "" {
		opts.Prefix = &prefix
	}
	if s.pageSize > 0 {
		opts.MaxResults = &s.pageSize
	}
	var keys []string
	pager := s.client.NewListBlobsFlatPager(&opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %q in %s: %w", prefix, s.endpoint, err)
		}
		for _, item := range page.Segment.BlobItems {
			if item.Name != nil {
				keys = append(keys, *item.Name)
			}
		}
	}
	sort.Strings(keys) // the service's order is not guaranteed to be byte order
	return keys, nil
}

// AcquireLease implements store.Store.
func (s *Store) AcquireLease(ctx context.Context, key string, d time.Duration) (_ string, err error) {
	defer func() { err = s.clean(ctx, err) }()
	if err := store.ValidateKey(key); err != nil {
		return "", err
	}
	if err := store.ValidateLeaseDuration(d); err != nil {
		return "", fmt.Errorf("lease %s: %w", key, err)
	}
	lc, err := lease.NewBlobClient(s.client.NewBlobClient(key), nil)
	if err != nil {
		return "", fmt.Errorf("lease %s: %w", key, err)
	}
	seconds := int32(d / time.Second)
	resp, err := lc.AcquireLease(ctx, seconds, nil)
	if status, _ := statusOf(err); status == http.StatusNotFound {
		if _, perr := s.Put(ctx, key, nil, store.Condition{CreateOnly: true}); perr != nil && !errors.Is(perr, store.ErrPrecondition) {
			return "", fmt.Errorf("lease %s: create empty blob: %w", key, perr)
		}
		resp, err = lc.AcquireLease(ctx, seconds, nil)
	}
	if err != nil {
		status, code := statusOf(err)
		if status == http.StatusConflict && code == bloberror.LeaseAlreadyPresent {
			return "", kindError("lease", key, store.ErrLeased, code)
		}
		return "", fmt.Errorf("lease %s in %s: %w", key, s.endpoint, err)
	}
	if resp.LeaseID == nil {
		return "", fmt.Errorf("lease %s in %s: response has no lease id", key, s.endpoint)
	}
	return *resp.LeaseID, nil
}

// leaseClient returns a lease client for key's lease leaseID, or
// store.ErrLeaseLost if leaseID cannot be an Azure lease id.
func (s *Store) leaseClient(op, key, leaseID string) (*lease.BlobClient, error) {
	if err := store.ValidateKey(key); err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(leaseID); err != nil {
		return nil, fmt.Errorf("%s %s: id %q is not a lease id: %w", op, key, leaseID, store.ErrLeaseLost)
	}
	lc, err := lease.NewBlobClient(s.client.NewBlobClient(key), &lease.BlobClientOptions{LeaseID: &leaseID})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", op, key, err)
	}
	return lc, nil
}

// leaseLost maps the answers Azure gives for a lease id that is not the live
// lease to store.ErrLeaseLost.
func (s *Store) leaseLost(op, key string, err error) error {
	switch status, code := statusOf(err); status {
	case http.StatusConflict, http.StatusPreconditionFailed, http.StatusNotFound:
		return kindError(op, key, store.ErrLeaseLost, code)
	}
	return fmt.Errorf("%s %s in %s: %w", op, key, s.endpoint, err)
}

// RenewLease implements store.Store.
func (s *Store) RenewLease(ctx context.Context, key, leaseID string) (err error) {
	defer func() { err = s.clean(ctx, err) }()
	lc, err := s.leaseClient("renew lease", key, leaseID)
	if err != nil {
		return err
	}
	if _, err := lc.RenewLease(ctx, nil); err != nil {
		return s.leaseLost("renew lease", key, err)
	}
	return nil
}

// ReleaseLease implements store.Store.
func (s *Store) ReleaseLease(ctx context.Context, key, leaseID string) (err error) {
	defer func() { err = s.clean(ctx, err) }()
	lc, err := s.leaseClient("release lease", key, leaseID)
	if err != nil {
		return err
	}
	if _, err := lc.ReleaseLease(ctx, nil); err != nil {
		return s.leaseLost("release lease", key, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// BreakLease implements store.Store: it breaks the lease with a break period
// of zero, so it ends at once.
func (s *Store) BreakLease(ctx context.Context, key string) (err error) {
	defer func() { err = s.clean(ctx, err) }()
	if err := store.ValidateKey(key); err != nil {
		return err
	}
	lc, err := lease.NewBlobClient(s.client.NewBlobClient(key), nil)
	if err != nil {
		return fmt.Errorf("break lease %s: %w", key, err)
	}
	_, err = lc.BreakLease(ctx, &lease.BlobBreakOptions{BreakPeriod: ptr(int32(0))})
	if err == nil {
		return nil
	}
	switch status, code := statusOf(err); {
	case status == http.StatusNotFound && code != bloberror.ContainerNotFound,
		code == bloberror.LeaseNotPresentWithLeaseOperation:
		return nil // nothing to break
	}
	return fmt.Errorf("break lease %s in %s: %w", key, s.endpoint, err)
}

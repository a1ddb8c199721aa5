// Package storeurl opens a store.Store from the URL a user gives:
//
//	file:///ABSOLUTE/PATH   a local directory store
//	file://RELATIVE/PATH    a local directory store, relative to the working directory
//	azblob://CONTAINER      an Azure Blob container; the account comes from
//	                        AZURE_STORAGE_CONNECTION_STRING, or else from
//	                        AZURE_STORAGE_ACCOUNT_URL with the service principal in
//	                        AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET
//	(empty)                 $MAESTRO_STORE if set, else the default local store
//	                        (see DefaultLocalDir)
//
// Environment variables are read through a getenv function so that callers
// and tests decide where they come from. Errors never show secrets: a quoted
// URL loses its query and user info, and credentials are named, not printed.
package storeurl

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/azure"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/retry"
)

// Environment variables the package reads.
const (
	EnvStore            = "MAESTRO_STORE"
	EnvConnectionString = "AZURE_STORAGE_CONNECTION_STRING"
	EnvAccountURL       = "AZURE_STORAGE_ACCOUNT_URL"
	EnvTenantID         = "AZURE_TENANT_ID"
	EnvClientID         = "AZURE_CLIENT_ID"
	EnvClientSecret     = "AZURE_CLIENT_SECRET"
)

// Forms lists the accepted store URLs, for help texts and errors.
const Forms = "file:///ABSOLUTE/PATH, file://RELATIVE/PATH or azblob://CONTAINER"

// Schemes of a Location.
const (
	SchemeFile   = "file"
	SchemeAzblob = "azblob"
)

// Location is a parsed store URL.
type Location struct {
	// Scheme is SchemeFile or SchemeAzblob.
	Scheme string
	// Dir is the absolute directory of a file location.
	Dir string
	// Container is the container of an azblob location.
	Container string
	// Source says where the URL came from: "argument", EnvStore or "default".
	Source string
}

// String returns the location as a URL.
func (l Location) String() string {
	if l.Scheme == SchemeAzblob {
		return "azblob://" + l.Container
	}
	return "file://" + filepath.ToSlash(l.Dir)
}

// Parse resolves raw (or, when raw is empty, $MAESTRO_STORE or the default
// local directory) to a Location. A relative file URL is made absolute
// against the working directory.
func Parse(raw string, getenv func(string) string) (Location, error) {
	source := "argument"
	if raw == "" {
		raw, source = getenv(EnvStore), EnvStore
	}
	if raw == "" {
		dir, err := DefaultLocalDir(getenv)
		if err != nil {
			return Location{}, err
		}
		return Location{Scheme: SchemeFile, Dir: dir, Source: "default"}, nil
	}
	loc, err := parse(raw)
	if err != nil {
		name := "store URL"
		if source == EnvStore {
			name = EnvStore
		}
		return Location{}, fmt.Errorf("%s %s: %w; use %s", name, quote(raw), err, Forms)
	}
	loc.Source = source
	return loc, nil
}

func parse(raw string) (Location, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return Location{}, errors.New("not a URL")
	}
	switch strings.ToLower(scheme) {
	case SchemeFile:
		dir, err := filePath(rest)
		if err != nil {
			return Location{}, err
		}
		return Location{Scheme: SchemeFile, Dir: dir}, nil
	case SchemeAzblob:
		name := strings.TrimSuffix(rest, "/")
		if strings.ContainsAny(name, "/?#") {
			return Location{}, errors.New("an azblob URL names only a container")
		}
		if azure.ValidateContainerName(name) != nil {
			// The URL is quoted already, without what may be secret.
			return Location{}, errors.New("the container name must be 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit")
		}
		return Location{Scheme: SchemeAzblob, Container: name}, nil
	}
	if !isScheme(scheme) {
		return Location{}, errors.New("not a URL")
	}
	return Location{}, fmt.Errorf("unknown scheme %q", scheme)
}

// isScheme reports whether s is a URL scheme: a letter, then letters,
// digits, "+", "-" or ".".
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// filePath turns the part of a file URL after "file://" into an absolute,
// clean directory path.
func filePath(rest string) (string, error) {
	if rest == "" {
		return "", errors.New("no path")
	}
	if strings.ContainsAny(rest, "?#") {
		return "", errors.New("a file URL has no query or fragment (write ? as %3F and # as %23)")
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return "", fmt.Errorf("%w (write %% as %%25)", err)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", errors.New("path contains a NUL byte")
	}
	if strings.HasPrefix(p, "~") {
		return "", errors.New("~ is not expanded; write the absolute path")
	}
	if runtime.GOOS == "windows" && len(p) >= 3 && p[0] == '/' && p[2] == ':' {
		p = p[1:] // file:///C:/dir
	}
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return filepath.Clean(p), nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return abs, nil
}

// quote quotes a user's URL for an error message without what may be a
// secret: the query (a SAS token) and the password.
func quote(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i] + "?…"
	}
	if scheme, rest, ok := strings.Cut(raw, "://"); ok {
		host, path, hasPath := strings.Cut(rest, "/")
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			raw = scheme + "://…@" + host[at+1:]
			if hasPath {
				raw += "/" + path
			}
		}
	}
	return strconv.Quote(raw)
}

// DefaultLocalDir is the local store used when neither a URL nor
// MAESTRO_STORE is given: $XDG_DATA_HOME/maestro/store, else
// ~/.local/share/maestro/store; on Windows %LocalAppData%\maestro\store.
func DefaultLocalDir(getenv func(string) string) (string, error) {
	return defaultLocalDir(runtime.GOOS, getenv)
}

func defaultLocalDir(goos string, getenv func(string) string) (string, error) {
	if goos == "windows" {
		base := getenv("LocalAppData")
		if base == "" {
			return "", fmt.Errorf("no default store: %%LocalAppData%% is not set; set %s or pass a store URL (%s)", EnvStore, Forms)
		}
		return base + `\maestro\store`, nil
	}
	if xdg := getenv("XDG_DATA_HOME"); xdg != "" && strings.HasPrefix(xdg, "/") {
		return filepath.Join(xdg, "maestro", "store"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", fmt.Errorf("no default store: neither XDG_DATA_HOME nor HOME is set; set %s or pass a store URL (%s)", EnvStore, Forms)
	}
	return filepath.Join(home, ".local", "share", "maestro", "store"), nil
}

// Open parses raw like Parse and opens the store it names. It creates
// nothing: a directory that holds no local store, or a container that does
// not exist, is an error that wraps store.ErrNotExist (see Create). Every
// store comes wrapped in package retry, which retries transient failures
// (store.ErrUnavailable).
func Open(ctx context.Context, raw string, getenv func(string) string) (store.Store, error) {
	return open(ctx, raw, getenv, false)
}

// Create parses raw like Parse and opens the store it names, creating the
// directory or container if it does not exist.
func Create(ctx context.Context, raw string, getenv func(string) string) (store.Store, error) {
	return open(ctx, raw, getenv, true)
}

func open(ctx context.Context, raw string, getenv func(string) string, create bool) (store.Store, error) {
	loc, err := Parse(raw, getenv)
	if err != nil {
		return nil, maestro.Errorf(maestro.KindInvalid, "%w", err)
	}
	switch loc.Scheme {
	case SchemeAzblob:
		acct, err := azureAccount(getenv)
		if err != nil {
			return nil, maestro.Errorf(maestro.KindInvalid, "open %s: %w", loc, err)
		}
		var opts []azure.Option
		if !create {
			opts = append(opts, azure.MustExist())
		}
		var st *azure.Store
		err = retry.Do(ctx, func() (err error) {
			st, err = azure.Open(ctx, acct, loc.Container, opts...)
			return err
		})
		if errors.Is(err, store.ErrNotExist) {
			return nil, maestro.Errorf(maestro.KindInvalid, "open %s: %w", loc, err)
		}
		if err != nil {
			if maestro.KindOf(err) != maestro.KindInternal {
				return nil, err
			}
			return nil, maestro.Errorf(maestro.KindUnavailable, "%w", err)
		}
		return retry.New(st), nil
	default:
		if !create {
			ok, err := local.Exists(loc.Dir)
			if err != nil {
				return nil, fmt.Errorf("open %s: %w", loc, err)
			}
			if !ok {
				return nil, maestro.Errorf(maestro.KindInvalid, "open %s: no local store in %s: %w", loc, loc.Dir, store.ErrNotExist)
			}
		}
		st, err := local.Open(loc.Dir)
		if err != nil {
			return nil, err
		}
		return retry.New(st), nil
	}
}

// azureAccount reads the storage account and its credential from the
// environment.
func azureAccount(getenv func(string) string) (azure.Account, error) {
	if cs := getenv(EnvConnectionString); cs != "" {
		return azure.Account{ConnectionString: cs}, nil
	}
	var missing []string
	for _, name := range []string{EnvAccountURL, EnvTenantID, EnvClientID, EnvClientSecret} {
		if getenv(name) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return azure.Account{}, fmt.Errorf("set %s, or %s with %s, %s and %s (missing: %s)",
			EnvConnectionString, EnvAccountURL, EnvTenantID, EnvClientID, EnvClientSecret, strings.Join(missing, ", "))
	}
	cred, err := azidentity.NewClientSecretCredential(getenv(EnvTenantID), getenv(EnvClientID), getenv(EnvClientSecret), nil)
	if err != nil {
		return azure.Account{}, fmt.Errorf("service principal from %s, %s and %s: %w", EnvTenantID, EnvClientID, EnvClientSecret, err)
	}
	return azure.Account{URL: getenv(EnvAccountURL), Credential: cred}, nil
}

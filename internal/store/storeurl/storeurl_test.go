package storeurl_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/azure"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
	"github.com/maestroplusplus/maestro/test/azurite"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestParse(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the cases use Unix paths")
	}
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	home := map[string]string{"HOME": "/home/me"}
	cases := []struct {
		name string
		raw  string
		env  map[string]string
		want storeurl.Location
		err  string // substring of the error; empty for success
	}{
		{"absolute", "file:///var/lib/maestro", home,
			storeurl.Location{Scheme: "file", Dir: "/var/lib/maestro", Source: "argument"}, ""},
		{"absolute cleaned", "file:///var/lib/../lib/maestro/", home,
			storeurl.Location{Scheme: "file", Dir: "/var/lib/maestro", Source: "argument"}, ""},
		{"relative", "file://data/store", home,
			storeurl.Location{Scheme: "file", Dir: filepath.Join(cwd, "data", "store"), Source: "argument"}, ""},
		{"relative dot", "file://./store", home,
			storeurl.Location{Scheme: "file", Dir: filepath.Join(cwd, "store"), Source: "argument"}, ""},
		{"relative parent", "file://../store", home,
			storeurl.Location{Scheme: "file", Dir: filepath.Join(filepath.Dir(cwd), "store"), Source: "argument"}, ""},
		{"escaped space", "file:///tmp/my%20store", home,
			storeurl.Location{Scheme: "file", Dir: "/tmp/my store", Source: "argument"}, ""},
		{"scheme case", "FILE:///srv/s", home,
			storeurl.Location{Scheme: "file", Dir: "/srv/s", Source: "argument"}, ""},
		{"azblob", "azblob://maestro-bar", home,
			storeurl.Location{Scheme: "azblob", Container: "maestro-bar", Source: "argument"}, ""},
		{"azblob trailing slash", "azblob://bar/", home,
			storeurl.Location{Scheme: "azblob", Container: "bar", Source: "argument"}, ""},
		{"env", "", map[string]string{"MAESTRO_STORE": "azblob://from-env", "HOME": "/home/me"},
			storeurl.Location{Scheme: "azblob", Container: "from-env", Source: "MAESTRO_STORE"}, ""},
		{"argument beats env", "file:///x", map[string]string{"MAESTRO_STORE": "azblob://from-env"},
			storeurl.Location{Scheme: "file", Dir: "/x", Source: "argument"}, ""},
		{"default XDG", "", map[string]string{"XDG_DATA_HOME": "/xdg", "HOME": "/home/me"},
			storeurl.Location{Scheme: "file", Dir: "/xdg/maestro/store", Source: "default"}, ""},
		{"default HOME", "", home,
			storeurl.Location{Scheme: "file", Dir: "/home/me/.local/share/maestro/store", Source: "default"}, ""},
		{"relative XDG ignored", "", map[string]string{"XDG_DATA_HOME": "xdg", "HOME": "/home/me"},
			storeurl.Location{Scheme: "file", Dir: "/home/me/.local/share/maestro/store", Source: "default"}, ""},

		{"no default", "", nil, storeurl.Location{}, "neither XDG_DATA_HOME nor HOME is set"},
		{"bare path", "/var/lib/maestro", home, storeurl.Location{}, `store URL "/var/lib/maestro": not a URL; use file:///ABSOLUTE/PATH, file://RELATIVE/PATH or azblob://CONTAINER`},
		{"unknown scheme", "s3://bucket", home, storeurl.Location{}, `store URL "s3://bucket": unknown scheme "s3"`},
		{"empty file", "file://", home, storeurl.Location{}, "no path"},
		{"file query", "file:///x?y", home, storeurl.Location{}, "no query"},
		{"bad escape", "file:///x%zz", home, storeurl.Location{}, "write % as %25"},
		{"tilde", "file://~/store", home, storeurl.Location{}, "~ is not expanded"},
		{"azblob path", "azblob://bar/prefix", home, storeurl.Location{}, "names only a container"},
		{"azblob upper", "azblob://Bar", home, storeurl.Location{}, `store URL "azblob://Bar": the container name must be 3 to 63 lower-case`},
		{"azblob empty", "azblob://", home, storeurl.Location{}, "the container name must be"},
		{"bad scheme", "a?b://c", home, storeurl.Location{}, `store URL "a?…": not a URL`},
		{"bad env", "", map[string]string{"MAESTRO_STORE": "nonsense"}, storeurl.Location{}, `MAESTRO_STORE "nonsense": not a URL`},
		{"SAS hidden", "https://acct.blob.core.windows.net/c?sv=2024&sig=TOPSECRET", home, storeurl.Location{},
			`"https://acct.blob.core.windows.net/c?…": unknown scheme "https"`},
		{"password hidden", "https://user:TOPSECRET@host/c", home, storeurl.Location{}, `"https://…@host/c"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := storeurl.Parse(c.raw, env(c.env))
			if c.err != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want an error with %q", c.raw, got, c.err)
				}
				if !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Parse(%q) error = %q, want it to contain %q", c.raw, err, c.err)
				}
				if strings.Contains(err.Error(), "TOPSECRET") {
					t.Fatalf("Parse(%q) error shows a secret: %v", c.raw, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.raw, err)
			}
			if got != c.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", c.raw, got, c.want)
			}
		})
	}
}

func TestLocationString(t *testing.T) {
	for _, raw := range []string{"azblob://bar", "file:///var/lib/maestro"} {
		loc, err := storeurl.Parse(raw, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && loc.String() != raw {
			t.Errorf("Parse(%q).String() = %q", raw, loc.String())
		}
	}
}

func TestOpenLocal(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, raw := range []string{"file://rel/store", "file://" + filepath.ToSlash(filepath.Join(dir, "abs"))} {
		if _, err := storeurl.Open(t.Context(), raw, env(nil)); !errors.Is(err, store.ErrNotExist) {
			t.Fatalf("Open(%q) of a missing store: err = %v, want ErrNotExist", raw, err)
		}
		s, err := storeurl.Create(t.Context(), raw, env(nil))
		if err != nil {
			t.Fatalf("Open(%q): %v", raw, err)
		}
		if _, err := s.Put(t.Context(), "k", []byte("v"), store.Condition{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"rel/store/data/k", "abs/data/k"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(sub))); err != nil {
			t.Errorf("object not where the URL points: %v", err)
		}
	}
	s, err := storeurl.Create(t.Context(), "", env(map[string]string{"HOME": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "k", []byte("v"), store.Condition{}); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if _, err := os.Stat(filepath.Join(dir, ".local/share/maestro/store/data/k")); err != nil {
			t.Errorf("default store not under HOME: %v", err)
		}
	}
}

func TestOpenAzblobCredentials(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"none", nil, "missing: AZURE_STORAGE_ACCOUNT_URL, AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET"},
		{"no secret", map[string]string{
			"AZURE_STORAGE_ACCOUNT_URL": "https://acct.blob.core.windows.net/",
			"AZURE_TENANT_ID":           "11111111-1111-1111-1111-111111111111",
			"AZURE_CLIENT_ID":           "22222222-2222-2222-2222-222222222222",
		}, "missing: AZURE_CLIENT_SECRET"},
		{"bad tenant", map[string]string{
			"AZURE_STORAGE_ACCOUNT_URL": "https://acct.blob.core.windows.net/",
			"AZURE_TENANT_ID":           "not a tenant!",
			"AZURE_CLIENT_ID":           "22222222-2222-2222-2222-222222222222",
			"AZURE_CLIENT_SECRET":       "TOPSECRET",
		}, "service principal from AZURE_TENANT_ID"},
		{"service principal", map[string]string{
			// Over http the SDK refuses to send a token before it asks for
			// one, so this reaches the account client without any network.
			"AZURE_STORAGE_ACCOUNT_URL": "http://127.0.0.1:1/devstoreaccount1",
			"AZURE_TENANT_ID":           "11111111-1111-1111-1111-111111111111",
			"AZURE_CLIENT_ID":           "22222222-2222-2222-2222-222222222222",
			"AZURE_CLIENT_SECRET":       "TOPSECRET",
		}, "open azure container http://127.0.0.1:1/devstoreaccount1/bar"},
		{"bad connection string", map[string]string{
			"AZURE_STORAGE_CONNECTION_STRING": "AccountName=acct;AccountKey=TOPSECRET;Junk",
		}, "connection string"},
		{"bad SAS connection string", map[string]string{
			"AZURE_STORAGE_CONNECTION_STRING": "SharedAccessSignature=sv=1&sig=TOPSECRET;Junk",
		}, "connection string"},
		{"SAS to an unreachable account", map[string]string{
			"AZURE_STORAGE_CONNECTION_STRING": "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;SharedAccessSignature=sv=2021-08-06&sp=rl&sig=TOPSECRET",
		}, "open azure container http://127.0.0.1:1/devstoreaccount1/bar"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := storeurl.Open(t.Context(), "azblob://bar", env(c.env))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open error = %v, want one containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Fatalf("error shows a secret: %v", err)
			}
		})
	}
}

func TestOpenAzblob(t *testing.T) {
	srv := azurite.Start(t)
	getenv := env(map[string]string{
		"MAESTRO_STORE":                   "azblob://maestro",
		"AZURE_STORAGE_CONNECTION_STRING": srv.ConnectionString(),
	})
	for range 2 { // the first Open must not have created the container
		if _, err := storeurl.Open(t.Context(), "", getenv); !errors.Is(err, store.ErrNotExist) {
			t.Fatalf("Open of a missing container: err = %v, want ErrNotExist", err)
		}
	}
	s, err := storeurl.Create(t.Context(), "", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "k", []byte("v"), store.Condition{CreateOnly: true}); err != nil {
		t.Fatal(err)
	}
	again, err := storeurl.Open(t.Context(), "azblob://maestro", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Put(t.Context(), "k", []byte("v"), store.Condition{CreateOnly: true}); !errors.Is(err, store.ErrPrecondition) {
		t.Fatalf("second Open does not see the first one's object: create-only Put error = %v", err)
	}
}

// FuzzParse checks that Parse never panics, that what it accepts is usable,
// and that a secret in a URL's query, fragment or user info never reaches an
// error.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "file:///var/lib/maestro", "file://rel/path", "file://./x", "file:///tmp/a%20b", "file://",
		"azblob://maestro", "azblob://bar/", "azblob://Bar", "azblob://a/b", "s3://bucket", "/abs/path",
		"https://acct.blob.core.windows.net/c?sv=1&sig=abc", "file:///x%zz", "file://~/x", "a?b://c",
	} {
		f.Add(seed)
	}
	const secret = "ZZSECRETZZ"
	getenv := env(map[string]string{"HOME": "/home/me"})
	f.Fuzz(func(t *testing.T, raw string) {
		loc, err := storeurl.Parse(raw, getenv)
		if err == nil {
			switch loc.Scheme {
			case storeurl.SchemeFile:
				if !filepath.IsAbs(loc.Dir) {
					t.Fatalf("Parse(%q).Dir = %q is not absolute", raw, loc.Dir)
				}
			case storeurl.SchemeAzblob:
				if err := azure.ValidateContainerName(loc.Container); err != nil {
					t.Fatalf("Parse(%q) accepted a bad container: %v", raw, err)
				}
			default:
				t.Fatalf("Parse(%q) = %+v: unknown scheme", raw, loc)
			}
		}
		if strings.Contains(raw, secret) {
			return
		}
		for _, hidden := range []string{
			raw + "?sig=" + secret,
			raw + "#" + secret,
			strings.Replace(raw, "://", "://user:"+secret+"@", 1),
		} {
			if _, err := storeurl.Parse(hidden, getenv); err != nil && strings.Contains(err.Error(), secret) {
				t.Fatalf("Parse(%q) error shows the secret: %v", hidden, err)
			}
		}
	})
}

// TestOpenAzblobKinds: a malformed connection string is bad input (exit 2),
// an account that cannot be reached is unavailable (exit 5).
func TestOpenAzblobKinds(t *testing.T) {
	for conn, want := range map[string]maestro.ErrorKind{
		"AccountName=acct;AccountKey=TOPSECRET;Junk":                                                         maestro.KindInvalid,
		"BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;SharedAccessSignature=sv=2021-08-06&sig=TOPSECRET": maestro.KindUnavailable,
	} {
		_, err := storeurl.Open(t.Context(), "azblob://bar", env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": conn}))
		if got := maestro.KindOf(err); got != want {
			t.Errorf("Open with %q: kind %v, want %v (%v)", conn, got, want, err)
		}
	}
}

// TestOpenCreatesNothing: opening a store that is not there leaves no folder
// behind, and neither does opening an existing folder that holds no store.
func TestOpenCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexistent", "x")
	if _, err := storeurl.Open(t.Context(), "file://"+filepath.ToSlash(missing), env(nil)); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nonexistent")); !os.IsNotExist(err) {
		t.Fatalf("Open created %s: %v", missing, err)
	}
	if _, err := storeurl.Open(t.Context(), "file://"+filepath.ToSlash(dir), env(nil)); !errors.Is(err, store.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("Open wrote into an existing folder: %v", entries)
	}
}

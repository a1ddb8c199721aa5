package redact_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/redact"
)

const secret = "S3CRETvalue0123456789abcd"

func TestString(t *testing.T) {
	cases := []struct {
		name, in, want string
		secrets        []string
	}{
		{"plain text stays", "open container https://acct.blob.core.windows.net/reg: not found",
			"open container https://acct.blob.core.windows.net/reg: not found", nil},
		{"SAS query of a URL", `Get "https://acct.blob.core.windows.net/reg?restype=container&sv=2021-08-06&se=2030-01-01&sp=rwdl&sig=` + secret + `": dial tcp: connection refused`,
			`Get "https://acct.blob.core.windows.net/reg?REDACTED": dial tcp: connection refused`, nil},
		{"SAS with an encoded signature", "PUT http://127.0.0.1:1/devstoreaccount1/c/k?comp=lease&sig=ab%2Bcd%3D&sv=1 failed",
			"PUT http://127.0.0.1:1/devstoreaccount1/c/k?REDACTED failed", nil},
		{"URL query without a secret stays", "https://dev.azure.com/org/p/_build?definitionId=12",
			"https://dev.azure.com/org/p/_build?definitionId=12", nil},
		{"fragment kept", "https://h/p?token=abc#frag", "https://h/p?REDACTED#frag", nil},
		{"sig outside a URL", "SharedAccessSignature=sv=2021&sig=" + secret, "SharedAccessSignature=REDACTED", nil},
		{"bare sig", "query sv=1&sig=" + secret + "&se=2", "query sv=1&sig=REDACTED&se=2", nil},
		{"percent-encoded sig", "next=%3Fsv%3D1%26sig%3D" + secret + "%252B%26se%3D2", "next=%3Fsv%3D1%26sig%3DREDACTED%26se%3D2", nil},
		{"account key", "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + secret + "==;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;",
			"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=REDACTED;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;", nil},
		{"user and password in a URL", "clone https://user:" + secret + "@github.com/o/r.git failed",
			"clone https://REDACTED@github.com/o/r.git failed", nil},
		{"token as user in a URL", "fatal: https://" + secret + "@dev.azure.com/o/p/_git/r", "fatal: https://REDACTED@dev.azure.com/o/p/_git/r", nil},
		{"at sign in the path stays", "https://host/a@b", "https://host/a@b", nil},
		{"bearer", "Authorization: Bearer " + secret, "Authorization: Bearer REDACTED", nil},
		{"basic", "basic dXNlcjpTM0NSRVQxMjM=", "basic REDACTED", nil},
		{"short word after bearer stays", "bearer token missing", "bearer token missing", nil},
		{"prose after basic stays", "Basic authentication failed", "Basic authentication failed", nil},
		{"github token header", "Authorization: token abc123", "Authorization: token REDACTED", nil},
		{"github token", "bad credentials for ghp_" + strings.Repeat("a", 36), "bad credentials for REDACTED", nil},
		{"fine-grained github token", "github_pat_" + strings.Repeat("B", 40) + " rejected", "REDACTED rejected", nil},
		{"jwt", "assertion eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjMifQ.c2lnbmF0dXJl", "assertion REDACTED", nil},
		{"literal secret", "the service said: token " + secret + " is not valid", "the service said: token REDACTED is not valid", []string{secret}},
		{"longest literal first", "xx abcdef yy", "xx REDACTED yy", []string{"abcd", "abcdef"}},
		{"short literal ignored", "a b c", "a b c", []string{"a", ""}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := redact.String(c.in, c.secrets...); got != c.want {
				t.Fatalf("String(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

func TestError(t *testing.T) {
	if redact.Error(nil) != nil {
		t.Fatal("Error(nil) is not nil")
	}
	plain := errors.New("nothing secret")
	if got := redact.Error(plain); got != plain {
		t.Fatalf("Error changed an error without secrets: %v", got)
	}
	err := fmt.Errorf("get https://h/c?sig=%s: %w", secret, fs.ErrNotExist)
	got := redact.Error(err)
	if strings.Contains(got.Error(), secret) {
		t.Fatalf("Error kept the secret: %v", got)
	}
	if !errors.Is(got, fs.ErrNotExist) {
		t.Fatalf("Error broke the chain: errors.Is(%v, fs.ErrNotExist) is false", got)
	}
	if got := redact.Error(errors.New("token "+secret), secret).Error(); got != "token REDACTED" {
		t.Fatalf("literal secret: got %q", got)
	}
}

func TestConnectionStringSecrets(t *testing.T) {
	cases := []struct {
		name, cs string
		want     []string
	}{
		{"account key", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=KEY+/==;EndpointSuffix=core.windows.net", []string{"KEY+/=="}},
		{"SAS", "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2021-08-06&sp=rwdl&sig=ab%2Bc%3D",
			[]string{"sv=2021-08-06&sp=rwdl&sig=ab%2Bc%3D", "ab%2Bc%3D", "ab+c="}},
		{"SAS with a question mark", "BlobEndpoint=https://a/;SharedAccessSignature=?sig=plain", []string{"?sig=plain", "plain"}},
		{"nothing secret", "UseDevelopmentStorage=true", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := redact.ConnectionStringSecrets(c.cs)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("ConnectionStringSecrets = %q, want %q", got, c.want)
			}
		})
	}
}

func TestAuthorizationSecrets(t *testing.T) {
	cases := []struct {
		header string
		want   []string
	}{
		{"Bearer abc.def", []string{"abc.def"}},
		{"token xyz", []string{"xyz"}},
		{"Basic OlBBVA==", []string{"OlBBVA==", ":PAT", "PAT"}},
		{"", nil},
		{"Bearer", nil},
	}
	for _, c := range cases {
		if got := redact.AuthorizationSecrets(c.header); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("AuthorizationSecrets(%q) = %q, want %q", c.header, got, c.want)
		}
	}
}

// FuzzString checks that a literal secret never survives String, whatever
// text surrounds it, and that redacting twice changes nothing more.
func FuzzString(f *testing.F) {
	f.Add("https://h/c?sig=", "XYZ1234")
	f.Add("AccountKey=", "abcd==")
	f.Add("Bearer ", "tok.en-1234567")
	f.Fuzz(func(t *testing.T, text, sec string) {
		if len(sec) < 4 || strings.Contains(redact.Mask, sec) || strings.Contains(sec, redact.Mask) {
			return
		}
		out := redact.String(text+sec+text, sec)
		if strings.Contains(out, sec) {
			t.Fatalf("String(%q, %q) = %q keeps the secret", text+sec+text, sec, out)
		}
		if again := redact.String(out, sec); again != out {
			t.Fatalf("String is not idempotent: %q then %q", out, again)
		}
	})
}

// Package redact removes secrets from text before it reaches an error, a log
// line or the terminal. String is the one redaction function; Error and
// Transport apply it at the edges where secrets enter messages: errors that
// quote a request URL, and HTTP clients whose error responses may echo the
// credential they were sent.
//
// String replaces with Mask:
//   - the whole query of a URL that carries a secret parameter (sig, a SAS
//     token's signature; token, access_token, code, password, client_secret,
//     key, secret), because a SAS query is one credential;
//   - sig= values outside a URL, also percent-encoded (sig%3D...);
//   - the values of AccountKey=, SharedAccessSignature=, Password= and
//     ClientSecret= in connection strings;
//   - user info (user:password@ or token@) inside URLs;
//   - Bearer and Basic credentials, "Authorization: token X", GitHub tokens
//     (ghp_..., github_pat_...) and JSON web tokens;
//   - every literal secret the caller names.
package redact

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Mask replaces every secret.
const Mask = "REDACTED"

// minSecret is the shortest literal secret String replaces; shorter values
// would mask ordinary words.
const minSecret = 4

// secretParams are URL query parameters whose presence makes the whole query
// secret.
var secretParams = map[string]bool{
	"sig": true, "signature": true, "token": true, "access_token": true, "code": true,
	"password": true, "client_secret": true, "key": true, "secret": true,
}

var (
	urlRe = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s"'<>` + "`" + `]+`)
	// A sig value ends at &, %26 (an encoded &), ;, whitespace or a quote.
	sigRe     = regexp.MustCompile(`(?i)((?:^|[^A-Za-z])sig(?:=|%3D))(?:[^&;\s"'<>%]|%(?:[013-9A-Fa-f][0-9A-Fa-f]|2[0-57-9A-Fa-f]))+`)
	connRe    = regexp.MustCompile(`(?i)\b(AccountKey|SharedAccessSignature|Password|ClientSecret)(\s*=\s*)[^;\s"']+`)
	authRe    = regexp.MustCompile(`(?i)\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{16,}`)
	authTokRe = regexp.MustCompile(`(?i)(Authorization:\s*token\s+)[A-Za-z0-9._~+/=-]+`)
	githubRe  = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})`)
	jwtRe     = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)
)

// String returns s with every secret it recognises, and every literal secret
// in secrets (ignoring ones shorter than four bytes), replaced by Mask.
func String(s string, secrets ...string) string {
	s = literals(s, secrets)
	s = urlRe.ReplaceAllStringFunc(s, redactURL)
	s = sigRe.ReplaceAllString(s, "${1}"+Mask)
	s = connRe.ReplaceAllString(s, "${1}${2}"+Mask)
	s = authTokRe.ReplaceAllString(s, "${1}"+Mask)
	s = authRe.ReplaceAllString(s, "${1}${2}"+Mask)
	s = githubRe.ReplaceAllString(s, Mask)
	return jwtRe.ReplaceAllString(s, Mask)
}

// literals replaces the given secrets, longest first so that a secret that
// contains another is masked whole.
func literals(s string, secrets []string) string {
	if len(secrets) == 0 {
		return s
	}
	sorted := make([]string, 0, len(secrets))
	for _, v := range secrets {
		if len(v) >= minSecret {
			sorted = append(sorted, v)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, v := range sorted {
		s = strings.ReplaceAll(s, v, Mask)
	}
	return s
}

// redactURL masks the user info of a URL and its query when any parameter in
// it is secret.
func redactURL(u string) string {
	scheme, rest, _ := strings.Cut(u, "://")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		rest = Mask + rest[at:]
	}
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		query, frag, hasFrag := strings.Cut(rest[q+1:], "#")
		if secretQuery(query) {
			rest = rest[:q+1] + Mask
			if hasFrag {
				rest += "#" + frag
			}
		}
	}
	return scheme + "://" + rest
}

// secretQuery reports whether a raw query names a secret parameter.
func secretQuery(query string) bool {
	for _, part := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
		name, _, _ := strings.Cut(part, "=")
		if secretParams[strings.ToLower(name)] {
			return true
		}
	}
	return false
}

// ConnectionStringSecrets returns the secret values of an Azure Storage
// connection string: the AccountKey, the SharedAccessSignature and the
// signature (sig) inside it, raw and percent-decoded, for callers that
// register secrets by value (a pipeline's setSecret, a log filter).
func ConnectionStringSecrets(cs string) []string {
	var out []string
	for _, part := range strings.Split(cs, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || value == "" {
			continue
		}
		switch strings.ToLower(name) {
		case "accountkey":
			out = append(out, value)
		case "sharedaccesssignature":
			out = append(out, value)
			for _, p := range strings.Split(strings.TrimPrefix(value, "?"), "&") {
				if n, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(n, "sig") && v != "" {
					out = append(out, v)
					if d, err := url.QueryUnescape(v); err == nil && d != v {
						out = append(out, d)
					}
				}
			}
		}
	}
	return out
}

// AuthorizationSecrets returns the credentials inside an Authorization
// header value: the token of "Bearer X", "token X" or "Basic X", and for
// Basic also the decoded user:password pair and the password.
func AuthorizationSecrets(header string) []string {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	cred = strings.TrimSpace(cred)
	if !ok || cred == "" {
		return nil
	}
	out := []string{cred}
	if strings.EqualFold(scheme, "basic") {
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			pair := string(raw)
			out = append(out, pair)
			if _, pw, ok := strings.Cut(pair, ":"); ok && pw != "" {
				out = append(out, pw)
			}
		}
	}
	return out
}

// Error returns err with its message redacted by String; errors.Is and
// errors.As still see the original chain. A nil err stays nil.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := String(err.Error(), secrets...)
	if msg == err.Error() {
		return err
	}
	return &redacted{msg: msg, err: err}
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/internal/jsonscan"
)

// The members of a recheck event's payload that gitHubPayload has, as
// jsonscan paths; gitHubPayloadPaths[i] is read into the field named in
// decodeGitHubPayload.
var gitHubPayloadPaths = [][]string{
	{"repository"}, {"repository", "html_url"},
	{"pull_request"}, {"pull_request", "number"},
	{"check_run"}, {"check_run", "head_sha"}, {"check_run", "pull_requests"},
	{"check_suite"}, {"check_suite", "head_sha"}, {"check_suite", "pull_requests"},
	{"sha"},
}

// decodeGitHubPayload decodes what gitHubPayload has of a payload as
// json.Unmarshal does, at a fraction of its cost: one pass over the
// payload (jsonscan.Lookup, which validates it), then encoding/json only
// for the few values gitHubPayload holds. A payload that jsonscan cannot
// vouch for (a member spelt in another case or with an escape, one given
// twice, a value on the way that is not an object) or that is not JSON is
// decoded by json.Unmarshal itself, which also words the error.
// FuzzDecodeGitHubPayload holds the two to the same results.
//
// It returns the payload as a jsonscan.Checked document, which intake
// records without scanning it again.
func decodeGitHubPayload(payload []byte, p *gitHubPayload) (jsonscan.Checked, error) {
	v, plain, doc, valid := jsonscan.Lookup(payload, gitHubPayloadPaths...)
	if !valid {
		return jsonscan.Checked{}, json.Unmarshal(payload, p)
	}
	if !plain {
		return doc, json.Unmarshal(payload, p)
	}
	return doc, decodeGitHubValues(v, p)
}

// decodeGitHubValues decodes the values jsonscan.Lookup found at
// gitHubPayloadPaths into p.
func decodeGitHubValues(v [][]byte, p *gitHubPayload) error {
	// decode reads raw into dst, as json.Unmarshal would the member; a
	// string without escapes, an integer or null is read without it
	// (json.Unmarshal's decoder is most of the cost of a small value).
	// Every dst is still its zero value, which null leaves it.
	decode := func(raw []byte, dst any) error {
		if raw == nil || string(raw) == "null" {
			return nil
		}
		switch d := dst.(type) {
		case **string:
			if s, ok := plainString(raw); ok {
				*d = &s
				return nil
			}
		case **int:
			if n, ok := plainInt(raw); ok {
				*d = &n
				return nil
			}
		}
		return json.Unmarshal(raw, dst)
	}
	if v[0] != nil {
		p.Repository = &gitHubRepository{}
		if err := decode(v[1], &p.Repository.HTMLURL); err != nil {
			return err
		}
	}
	if v[2] != nil {
		p.PullRequest = &gitHubPullRequest{}
		if err := decode(v[3], &p.PullRequest.Number); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		dst   **gitHubCheck
		at    int
		check []byte
	}{{&p.CheckRun, 5, v[4]}, {&p.CheckSuite, 8, v[7]}} {
		if c.check == nil {
			continue
		}
		*c.dst = &gitHubCheck{}
		if err := decode(v[c.at], &(*c.dst).HeadSHA); err != nil {
			return err
		}
		if err := decode(v[c.at+1], &(*c.dst).PullRequests); err != nil {
			return err
		}
	}
	return decode(v[10], &p.SHA)
}

// plainString is the JSON string raw (valid JSON, as jsonscan checked
// it) when it needs no decoding: no escape, valid UTF-8 (json.Unmarshal
// replaces invalid bytes).
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') >= 0 || !utf8.Valid(inner) {
		return "", false
	}
	return string(inner), true
}

// plainInt is the JSON number raw when it is an integer that fits an int,
// as json.Unmarshal reads it into one; a fraction, an exponent or an
// overflow is left to json.Unmarshal (which refuses them).
func plainInt(raw []byte) (int, bool) {
	for i, c := range raw {
		if (c < '0' || c > '9') && !(i == 0 && c == '-') {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(raw))
	return n, err == nil
}

// gitHubMediaTypes are the content types a GitHub webhook delivers in, as
// its "Content type" setting says: the payload as the body
// (application/json), or as the form field payload
// (application/x-www-form-urlencoded). go-github's ValidatePayload reads
// both; the legacy /CommitPushed route takes the same.
var gitHubMediaTypes = []string{"application/json", "application/x-www-form-urlencoded"}

// refuseMediaType answers 415 and reports true when the request's
// Content-Type is none of types (parameters such as charset aside); what
// names the sender for the message.
func refuseMediaType(w http.ResponseWriter, r *http.Request, what string, types ...string) bool {
	if hasMediaType(r, types...) {
		return false
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "none"
	}
	message(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %s: %s sends %s", ct, what, strings.Join(types, " or ")))
	return true
}

// hasMediaType reports whether r's Content-Type is one of types,
// parameters such as charset aside.
func hasMediaType(r *http.Request, types ...string) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && slices.Contains(types, mt)
}

// readGitHubPayload is go-github's ValidatePayload (the signature checked
// in constant time by its ValidateSignature) with the body of a JSON
// delivery read into one buffer of the length its Content-Length
// announces, instead of one grown from 512 bytes as io.ReadAll grows it.
// Other deliveries (a form-encoded one, one without a length or longer
// than a delivery may be) go through ValidatePayload itself.
func readGitHubPayload(r *http.Request, secret []byte) ([]byte, error) {
	signature := r.Header.Get(gh.SHA256SignatureHeader)
	if signature == "" {
		signature = r.Header.Get(gh.SHA1SignatureHeader)
	}
	if !hasMediaType(r, "application/json") || r.ContentLength < 0 || r.ContentLength > maxGitHubPayload {
		return gh.ValidatePayload(r, secret)
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return nil, err
	}
	if err := gh.ValidateSignature(signature, body, secret); err != nil {
		return nil, err
	}
	return body, nil
}

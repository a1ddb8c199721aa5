package server

import (
	"errors"
	"net/http"
)

// maxSiteForm bounds the body of a form the site posts (sign-in, sign-out,
// trigger): a token and a CSRF value, a few hundred bytes.
const maxSiteForm = 16 << 10

// readSiteForm parses the body of a POST to the site before anything reads
// a field: only application/x-www-form-urlencoded (what the site's forms
// send) and at most maxSiteForm bytes. Left to PostFormValue, a multipart
// body would be parsed with 32 MB in memory and the rest spooled to disk,
// for anyone — the sign-in form is open to all — before the CSRF value or
// the token is checked. It answers the refusal itself and reports false.
func (s *Server) readSiteForm(w http.ResponseWriter, r *http.Request) bool {
	if !hasMediaType(r, "application/x-www-form-urlencoded") {
		s.sitePage(w, r, http.StatusUnsupportedMediaType, "error", pageData{Title: "Refused",
			Data: "The site's forms send application/x-www-form-urlencoded; send the form from its page."})
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSiteForm)
	if err := r.ParseForm(); err != nil {
		code := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			code = http.StatusRequestEntityTooLarge
		}
		s.sitePage(w, r, code, "error", pageData{Title: http.StatusText(code), Data: "The form could not be read: send it from its page."})
		return false
	}
	return true
}

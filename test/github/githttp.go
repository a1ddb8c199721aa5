package githubdouble

import (
	"net/http"
	"net/http/cgi"
	"strings"
)

// gitServices are the smart-HTTP endpoints GitHub serves (it has no dumb
// HTTP protocol).
var gitServices = []string{"info/refs", "git-upload-pack", "git-receive-pack"}

// serveGit answers git's smart-HTTP requests for /OWNER/REPO(.git)/... with
// `git http-backend`, after the same token check as the API: git sends Basic
// authentication with any user name and the token as password (or the token
// as user name). After a push, the repository's open pull requests follow
// their branches at once. Without credentials it gets 401 and a Basic challenge, so
// that git asks its credential helpers or uses the URL's userinfo.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request, login *string) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
	if len(parts) != 3 || !contains(gitServices, parts[2]) {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	owner, name, service := parts[0], strings.TrimSuffix(parts[1], ".git"), parts[2]
	s.mu.Lock()
	var u *user
	if tok := tokenFromHeader(r.Header.Get("Authorization")); tok != "" {
		u = s.tokens[tok]
	}
	rp := s.repos[strings.ToLower(owner+"/"+name)]
	var dir string
	if rp != nil {
		dir = strings.TrimPrefix(rp.dir, s.root)
	}
	s.mu.Unlock()
	if u == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="GitHub"`)
		http.Error(w, "Invalid username or token. Password authentication is not supported for Git operations.", http.StatusUnauthorized)
		return
	}
	*login = u.Login
	if rp == nil {
		http.Error(w, "Repository not found.", http.StatusNotFound)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = dir + "/" + service
	r2.URL.RawPath = ""
	h := &cgi.Handler{
		Path: s.git.path,
		Args: []string{"http-backend"},
		Env: append(append([]string(nil), s.git.env...),
			"GIT_PROJECT_ROOT="+s.root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER="+u.Login,
		),
		Stderr: testLogWriter{s},
	}
	h.ServeHTTP(w, r2)
	if service == "git-receive-pack" {
		// As GitHub does after a push: pull requests follow their branches,
		// so refs/pull/N/head is fresh for the next fetch.
		s.mu.Lock()
		defer s.mu.Unlock()
		s.actor = u
		defer func() { s.actor = nil }()
		s.observePushes(rp, u)
		if err := s.syncPulls(rp); err != nil {
			s.tb.Errorf("github double: after a push to %s: %v", rp.fullName(), err)
		}
	}
}

// testLogWriter sends git http-backend's standard error to the test log.
type testLogWriter struct{ s *Server }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.s.tb.Logf("git http-backend: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}

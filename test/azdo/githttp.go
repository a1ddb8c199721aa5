package azdo

import (
	"fmt"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"strings"
)

// serveGit serves a repository's smart HTTP protocol at
// {org}/{project}/_git/{repo}/... (and {org}/_git/{repo}/... for a
// repository named like its project) with `git http-backend` as a CGI
// program. Clone, fetch and push need the same credentials as the REST API;
// without them the answer is 401 with a Basic challenge, which git turns into
// a credential prompt.
func (s *Server) serveGit(w http.ResponseWriter, r *http.Request, parts []string, gitIndex int, who *Token) {
	if gitIndex+1 >= len(parts) {
		http.NotFound(w, r)
		return
	}
	projectName, repoName := parts[gitIndex+1], parts[gitIndex+1]
	if gitIndex == 1 {
		projectName = parts[0]
	} else if gitIndex != 0 {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	var repo *Repository
	if p := s.findProject(projectName); p != nil {
		repo = s.findRepository(p, repoName)
	}
	s.mu.Unlock()
	if who == nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+s.http.URL+`/"`)
		http.Error(w, "TF400813: Resource not available for anonymous access. Client authentication required.", http.StatusUnauthorized)
		return
	}
	if repo == nil {
		http.Error(w, fmt.Sprintf("TF401019: The Git repository with name or identifier %s does not exist or you do not have permissions for the operation you are attempting.", repoName), http.StatusNotFound)
		return
	}
	gitPath, err := exec.LookPath("git")
	if err != nil {
		http.Error(w, "git is not installed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	// SCRIPT_NAME is everything up to the repository; PATH_INFO (what
	// http-backend resolves under GIT_PROJECT_ROOT) is the rest, such as
	// /info/refs or /git-upload-pack.
	segments := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	root := "/" + strings.Join(segments[:gitIndex+3], "/")
	env := gitEnv(
		"GIT_PROJECT_ROOT="+repo.git.dir,
		"GIT_HTTP_EXPORT_ALL=1",
		"REMOTE_USER="+who.Identity.UniqueName,
	)
	if proto := r.Header.Get("Git-Protocol"); proto != "" {
		env = append(env, "GIT_PROTOCOL="+proto)
	}
	h := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Root: root,
		Dir:  repo.git.dir,
		Env:  env,
	}
	h.ServeHTTP(w, r)
}

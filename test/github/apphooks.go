package githubdouble

import (
	"slices"
	"strconv"
)

// A GitHub App's webhook (set on the app's settings page, not through the
// REST API) gets the events of every repository its installation covers;
// in the double an app's one installation covers every repository. Its
// payloads carry "installation" {id, node_id}, and its deliveries say
// X-GitHub-Hook-Installation-Target-Type "integration" with the app's id
// (https://docs.github.com/apps/creating-github-apps/registering-a-github-app/using-webhooks-with-github-apps).

// AddAppHook sets a webhook of the GitHub App slug (registered with AddApp)
// and returns its id. Unlike a repository hook it gets no ping.
func (s *Server) AddAppHook(slug string, spec HookSpec) int64 {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.apps, func(a app) bool { return a.slug == slug })
	if i < 0 {
		s.tb.Fatalf("github double: no app %q (AddApp first)", slug)
	}
	hk, msg := s.newHook(spec)
	if msg != "" {
		s.tb.Fatalf("github double: hook of app %s: %s", slug, msg)
	}
	_ = s.loadWebhookSpec(s.tb) // skips or fails the test itself
	a := s.apps[i]
	hk.app = &a
	hk.id = s.newID()
	s.hooks.apps = append(s.hooks.apps, hk)
	for _, r := range s.repos {
		s.trackHeads(r)
	}
	return hk.id
}

// installationJSON is the installation an app hook's payloads name.
func installationJSON(a *app) object {
	return object{"id": a.installationID, "node_id": nodeID("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u", a.installationID)}
}

// targetOf is the hook's X-GitHub-Hook-Installation-Target-Type and -ID:
// the repository for a repository hook, the app for an app's.
func targetOf(hk *hook, r *repo) (string, string) {
	if hk.app != nil {
		return "integration", strconv.FormatInt(hk.app.id, 10)
	}
	return "repository", strconv.FormatInt(r.id, 10)
}

package githubdouble

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// User is an account the server knows: a person, or a GitHub App's bot
// (login "slug[bot]").
type User struct {
	Login string
	Name  string // the git author name of its commits; Login when empty
	Email string // the git author email; the users.noreply address when empty
	Bot   bool
}

// user is an account with its id.
type user struct {
	User
	id  int64
	org bool // an organization that owns repositories; it has no tokens
}

func (u *user) kind() string {
	switch {
	case u.Bot:
		return "Bot"
	case u.org:
		return "Organization"
	}
	return "User"
}

// identity is the git author the user's merges are made as.
func (u *user) gitName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Login
}

func (u *user) gitEmail() string {
	if u.Email != "" {
		return u.Email
	}
	return fmt.Sprintf("%d+%s@users.noreply.github.com", u.id, u.Login)
}

// AddUser registers an account, or updates the name and email of a known
// one. Commits whose author email is the user's map to the user in the API
// (the "author" of a pull request commit).
func (s *Server) AddUser(u User) {
	s.tb.Helper()
	if !validLogin(strings.TrimSuffix(u.Login, "[bot]")) {
		s.tb.Fatalf("github double: invalid login %q", u.Login)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUserLocked(u)
}

func (s *Server) addUserLocked(u User) *user {
	key := strings.ToLower(u.Login)
	if known, ok := s.users[key]; ok {
		known.org = false
		if u.Name != "" {
			known.Name = u.Name
		}
		if u.Email != "" {
			known.Email = u.Email
		}
		return known
	}
	nu := &user{User: u, id: s.newID()}
	s.users[key] = nu
	return nu
}

// ownerLocked returns the account that owns repositories named owner: a
// known user, or else an organization, registered on first use.
func (s *Server) ownerLocked(owner string) *user {
	if u, ok := s.users[strings.ToLower(owner)]; ok {
		return u
	}
	u := s.addUserLocked(User{Login: owner})
	u.org = true
	return u
}

// AddToken makes token authenticate as login (a personal access token),
// registering the user when it is new.
func (s *Server) AddToken(login, token string) {
	s.tb.Helper()
	if token == "" {
		s.tb.Fatalf("github double: empty token for %s", login)
	}
	if !validLogin(login) {
		s.tb.Fatalf("github double: invalid login %q", login)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = s.addUserLocked(User{Login: login})
}

// AddInstallationToken makes token authenticate as the bot of the GitHub App
// appSlug ("slug[bot]"), as an installation access token does.
func (s *Server) AddInstallationToken(appSlug, token string) {
	s.tb.Helper()
	if token == "" || !validLogin(appSlug) {
		s.tb.Fatalf("github double: invalid app %q or empty token", appSlug)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = s.addUserLocked(User{Login: appSlug + "[bot]", Bot: true})
}

// RevokeToken makes token fail authentication from now on.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// validLogin reports whether GitHub would accept login as a user or
// organization name: letters, digits and single inner hyphens, at most 39.
func validLogin(login string) bool {
	if login == "" || len(login) > 39 || strings.HasPrefix(login, "-") || strings.HasSuffix(login, "-") || strings.Contains(login, "--") {
		return false
	}
	for _, r := range login {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// userByEmail finds the account a git author email belongs to.
func (s *Server) userByEmail(email string) *user {
	for _, u := range s.users {
		if strings.EqualFold(u.gitEmail(), email) {
			return u
		}
	}
	return nil
}

func (s *Server) userJSON(u *user) *github.User {
	if u == nil {
		return nil
	}
	return &github.User{
		Login:      github.String(u.Login),
		ID:         github.Int64(u.id),
		NodeID:     github.String(nodeID("U", u.id)),
		AvatarURL:  github.String(s.htmlURL("avatars", u.Login)),
		GravatarID: github.String(""),
		HTMLURL:    github.String(s.htmlURL(u.Login)),
		URL:        github.String(s.apiURL("users", u.Login)),
		Type:       github.String(u.kind()),
		SiteAdmin:  github.Bool(false),
	}
}

// getAuthenticatedUser answers GET /user.
func getAuthenticatedUser(c *call) {
	writeJSON(c.w, http.StatusOK, c.s.privateUserObject(c.user))
}

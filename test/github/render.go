package githubdouble

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// object is a JSON object as GitHub renders it. The double keeps its state
// in go-github's structs, whose omitempty tags drop every nil pointer; GitHub
// instead sends every property its description requires, null where there
// is no value. The renderers below turn stored structs into complete
// objects: what go-github kept, plus each required property GitHub sends
// (null, [], false, 0 or its URL), with nested users and repositories
// complete too. The conformance test holds them to GitHub's description.
type object = map[string]any

// toObject renders a go-github value as a JSON object (numbers kept exact).
func toObject(v any) object {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("github double: render %T: %v", v, err))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var o object
	if err := dec.Decode(&o); err != nil {
		panic(fmt.Sprintf("github double: render %T: %v", v, err))
	}
	return o
}

// orNull sets each name that is absent to null.
func orNull(o object, names ...string) {
	for _, n := range names {
		if _, ok := o[n]; !ok {
			o[n] = nil
		}
	}
}

// timeOrNull is a timestamp in GitHub's format, or null for the zero time.
func timeOrNull(t *github.Timestamp) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// strOrNull is s, or null when it is empty.
func strOrNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// accountsCreated is the created_at of every account and app: the double
// does not track when they were made, and reading the clock for it would
// shift the timestamps of tests that fix the clock.
var accountsCreated = time.Date(2008, 4, 10, 0, 0, 0, 0, time.UTC)

// userObject is GitHub's simple-user for a rendered account, with every
// URL GitHub lists; nil (JSON null) for no account.
func (s *Server) userObject(u *github.User) object {
	if u == nil {
		return nil
	}
	login := u.GetLogin()
	api := s.apiURL("users", login)
	return object{
		"login":               login,
		"id":                  u.GetID(),
		"node_id":             u.GetNodeID(),
		"avatar_url":          u.GetAvatarURL(),
		"gravatar_id":         "",
		"url":                 api,
		"html_url":            u.GetHTMLURL(),
		"followers_url":       api + "/followers",
		"following_url":       api + "/following{/other_user}",
		"gists_url":           api + "/gists{/gist_id}",
		"starred_url":         api + "/starred{/owner}{/repo}",
		"subscriptions_url":   api + "/subscriptions",
		"organizations_url":   api + "/orgs",
		"repos_url":           api + "/repos",
		"events_url":          api + "/events{/privacy}",
		"received_events_url": api + "/received_events",
		"type":                u.GetType(),
		"user_view_type":      "public",
		"site_admin":          u.GetSiteAdmin(),
	}
}

// privateUserObject is GET /user: the authenticated account with its
// profile and private counts (GitHub's private-user).
func (s *Server) privateUserObject(u *user) object {
	o := s.userObject(s.userJSON(u))
	owned := 0
	for _, r := range s.repos {
		if r.owner == u {
			owned++
		}
	}
	created := timeOrNull(ts(accountsCreated))
	for k, v := range map[string]any{
		"user_view_type":            "private",
		"name":                      strOrNull(u.Name),
		"email":                     strOrNull(u.Email),
		"company":                   nil,
		"blog":                      "",
		"location":                  nil,
		"hireable":                  nil,
		"bio":                       nil,
		"twitter_username":          nil,
		"public_repos":              owned,
		"public_gists":              0,
		"followers":                 0,
		"following":                 0,
		"created_at":                created,
		"updated_at":                created,
		"private_gists":             0,
		"total_private_repos":       0,
		"owned_private_repos":       0,
		"disk_usage":                0,
		"collaborators":             0,
		"two_factor_authentication": true,
	} {
		o[k] = v
	}
	return o
}

// repoObject is GitHub's full-repository, which also serves where the
// description asks for a repository or a minimal-repository (the head and
// base of a pull request, the combined status).
func (s *Server) repoObject(r *repo) object {
	gr := s.repoJSON(r)
	api := gr.GetURL()
	host := strings.TrimPrefix(s.http.URL, "http://")
	o := toObject(gr)
	open := 0
	for _, p := range r.pulls {
		if p.open() {
			open++
		}
	}
	for k, v := range map[string]any{
		"owner":                       s.userObject(gr.GetOwner()),
		"description":                 strOrNull(r.spec.Description),
		"archive_url":                 api + "/{archive_format}{/ref}",
		"assignees_url":               api + "/assignees{/user}",
		"blobs_url":                   api + "/git/blobs{/sha}",
		"branches_url":                api + "/branches{/branch}",
		"collaborators_url":           api + "/collaborators{/collaborator}",
		"comments_url":                api + "/comments{/number}",
		"commits_url":                 api + "/commits{/sha}",
		"compare_url":                 api + "/compare/{base}...{head}",
		"contents_url":                api + "/contents/{+path}",
		"contributors_url":            api + "/contributors",
		"deployments_url":             api + "/deployments",
		"downloads_url":               api + "/downloads",
		"events_url":                  api + "/events",
		"forks_url":                   api + "/forks",
		"git_commits_url":             api + "/git/commits{/sha}",
		"git_refs_url":                api + "/git/refs{/sha}",
		"git_tags_url":                api + "/git/tags{/sha}",
		"hooks_url":                   api + "/hooks",
		"issue_comment_url":           api + "/issues/comments{/number}",
		"issue_events_url":            api + "/issues/events{/number}",
		"issues_url":                  api + "/issues{/number}",
		"keys_url":                    api + "/keys{/key_id}",
		"labels_url":                  api + "/labels{/name}",
		"languages_url":               api + "/languages",
		"merges_url":                  api + "/merges",
		"milestones_url":              api + "/milestones{/number}",
		"notifications_url":           api + "/notifications{?since,all,participating}",
		"releases_url":                api + "/releases{/id}",
		"stargazers_url":              api + "/stargazers",
		"statuses_url":                api + "/statuses/{sha}",
		"subscribers_url":             api + "/subscribers",
		"subscription_url":            api + "/subscription",
		"tags_url":                    api + "/tags",
		"teams_url":                   api + "/teams",
		"trees_url":                   api + "/git/trees{/sha}",
		"git_url":                     fmt.Sprintf("git://%s/%s.git", host, r.fullName()),
		"svn_url":                     gr.GetHTMLURL(),
		"homepage":                    nil,
		"language":                    nil,
		"mirror_url":                  nil,
		"license":                     nil,
		"forks":                       0,
		"forks_count":                 0,
		"stargazers_count":            0,
		"watchers":                    0,
		"watchers_count":              0,
		"network_count":               0,
		"subscribers_count":           0,
		"size":                        0,
		"open_issues":                 open,
		"open_issues_count":           open,
		"has_issues":                  true,
		"has_projects":                true,
		"has_wiki":                    true,
		"has_pages":                   false,
		"has_downloads":               true,
		"has_discussions":             false,
		"is_template":                 false,
		"topics":                      []string{},
		"allow_forking":               true,
		"allow_auto_merge":            false,
		"allow_update_branch":         false,
		"web_commit_signoff_required": false,
		"pushed_at":                   timeOrNull(ts(r.createdAt)),
	} {
		o[k] = v
	}
	return o
}

// pullObject is GitHub's pull-request (full) or pull-request-simple (a
// list item).
func (s *Server) pullObject(r *repo, p *pull, full bool) (object, error) {
	pr, err := s.pullJSON(r, p, full)
	if err != nil {
		return nil, err
	}
	o := toObject(pr)
	o["user"] = s.userObject(pr.GetUser())
	o["body"] = strOrNull(pr.GetBody())
	o["closed_at"] = timeOrNull(pr.ClosedAt)
	o["merged_at"] = timeOrNull(pr.MergedAt)
	o["merge_commit_sha"] = strOrNull(pr.GetMergeCommitSHA())
	for _, side := range []string{"head", "base"} {
		b := o[side].(object)
		b["user"] = s.userObject(s.userJSON(r.owner))
		b["repo"] = s.repoObject(r)
	}
	orNull(o, "assignee", "milestone", "auto_merge", "active_lock_reason")
	if am := pr.GetAutoMerge(); am != nil {
		o["auto_merge"] = object{
			"enabled_by":   s.userObject(am.EnabledBy),
			"merge_method": am.GetMergeMethod(),
			// Strings, never null (the description requires them): an
			// auto-merge whose commit has no body shows "".
			"commit_title":   am.GetCommitTitle(),
			"commit_message": am.GetCommitMessage(),
		}
	}
	o["labels"] = objects(pr.Labels, labelObject)
	o["assignees"] = []any{}
	o["requested_reviewers"] = []any{}
	o["requested_teams"] = []any{}
	link := func(href string) object { return object{"href": href} }
	o["_links"] = object{
		"self":            link(pr.GetURL()),
		"html":            link(pr.GetHTMLURL()),
		"issue":           link(pr.GetIssueURL()),
		"comments":        link(pr.GetCommentsURL()),
		"review_comments": link(pr.GetReviewCommentsURL()),
		"review_comment":  link(pr.GetReviewCommentURL()),
		"commits":         link(pr.GetCommitsURL()),
		"statuses":        link(pr.GetStatusesURL()),
	}
	if full {
		o["merged_by"] = s.userObject(pr.MergedBy)
		orNull(o, "mergeable", "rebaseable")
	}
	return o, nil
}

// commitObject is GitHub's commit (an item of a pull request's commits):
// author and committer are null when no account has the commit's email.
func (s *Server) commitObject(r *repo, ci commitInfo) object {
	rc := s.commitJSON(r, ci)
	o := toObject(rc)
	o["author"] = s.userObject(rc.Author)
	o["committer"] = s.userObject(rc.Committer)
	commit := o["commit"].(object)
	commit["tree"] = object{"sha": ci.Tree, "url": s.apiURL("repos", r.owner.Login, r.spec.Name, "git", "trees", ci.Tree)}
	commit["verification"] = object{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil, "verified_at": nil}
	if _, ok := o["parents"]; !ok {
		o["parents"] = []any{}
	}
	return o
}

// githubOrg owns the default app (GitHub Actions).
var githubOrg = &github.User{Login: github.String("github"), ID: github.Int64(9919), NodeID: github.String("MDEyOk9yZ2FuaXphdGlvbjk5MTk="), Type: github.String("Organization")}

// appObject is GitHub's integration (a GitHub App) as check runs show it.
func (s *Server) appObject(a *github.App) object {
	if a == nil {
		return nil
	}
	owner := a.GetOwner()
	if owner == nil {
		owner = githubOrg
	}
	ownerObj := s.userObject(owner)
	if ownerObj["avatar_url"] == "" {
		ownerObj["avatar_url"] = s.htmlURL("avatars", owner.GetLogin())
		ownerObj["html_url"] = s.htmlURL(owner.GetLogin())
	}
	created := timeOrNull(ts(accountsCreated))
	return object{
		"id":           a.GetID(),
		"slug":         a.GetSlug(),
		"node_id":      cmp.Or(a.GetNodeID(), nodeID("A", a.GetID())),
		"owner":        ownerObj,
		"name":         a.GetName(),
		"description":  strOrNull(a.GetDescription()),
		"external_url": s.htmlURL("apps", a.GetSlug()),
		"html_url":     s.htmlURL("apps", a.GetSlug()),
		"created_at":   created,
		"updated_at":   created,
		"permissions":  object{"checks": "write", "metadata": "read"},
		"events":       []any{},
	}
}

// checkRunObject is GitHub's check-run.
func (s *Server) checkRunObject(run *github.CheckRun) object {
	o := toObject(run)
	o["details_url"] = strOrNull(run.GetDetailsURL())
	o["external_id"] = run.GetExternalID() // GitHub sends "" for none
	o["conclusion"] = strOrNull(run.GetConclusion())
	o["started_at"] = timeOrNull(run.StartedAt)
	o["completed_at"] = timeOrNull(run.CompletedAt)
	out := run.GetOutput()
	o["output"] = object{
		"title":             strOrNull(out.GetTitle()),
		"summary":           strOrNull(out.GetSummary()),
		"text":              strOrNull(out.GetText()),
		"annotations_count": out.GetAnnotationsCount(),
		"annotations_url":   run.GetURL() + "/annotations",
	}
	o["check_suite"] = object{"id": run.GetCheckSuite().GetID()}
	o["app"] = s.appObject(run.App)
	o["pull_requests"] = []any{}
	return o
}

// statusObject is GitHub's status (with its creator) or, inside a combined
// status, simple-commit-status.
func (s *Server) statusObject(st *github.RepoStatus) object {
	o := toObject(st)
	o["description"] = strOrNull(st.GetDescription())
	o["target_url"] = strOrNull(st.GetTargetURL())
	o["creator"] = s.userObject(st.Creator)
	return o
}

// reviewObject is GitHub's pull-request-review.
func (s *Server) reviewObject(rv *github.PullRequestReview) object {
	o := toObject(rv)
	o["user"] = s.userObject(rv.User)
	// A pending review has not been submitted: GitHub leaves submitted_at
	// out (the description types it as a string, not nullable).
	delete(o, "submitted_at")
	if rv.SubmittedAt != nil {
		o["submitted_at"] = timeOrNull(rv.SubmittedAt)
	}
	o["_links"] = object{
		"html":         object{"href": rv.GetHTMLURL()},
		"pull_request": object{"href": rv.GetPullRequestURL()},
	}
	return o
}

// commentObject is GitHub's issue-comment.
func (s *Server) commentObject(cm *github.IssueComment) object {
	o := toObject(cm)
	o["user"] = s.userObject(cm.User)
	o["performed_via_github_app"] = nil
	return o
}

// objects renders each element of a list.
func objects[T any](items []T, render func(T) object) []object {
	out := make([]object, 0, len(items))
	for _, it := range items {
		out = append(out, render(it))
	}
	return out
}

package githubdouble

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// This file renders webhook payloads from the double's objects and hands
// them to the deliverer once they match @octokit/openapi-webhooks. Payloads
// are made of the same complete objects the REST API answers with
// (render.go: userObject, repoObject, pullObject, checkRunObject,
// commitObject, reviewObject, commentObject, appObject) plus what only
// webhooks carry (check suites, the pull request as an issue, push commits,
// before/after, changes). Events are rendered only when some active hook of
// the repository wants them, so tests without hooks pay nothing.

// fill sets the keys of defaults that m does not have yet.
func fill(m object, defaults object) object {
	for k, v := range defaults {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m
}

func timeJSON(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// emit delivers event (with action, "" for events without one) to the
// hooks of r that want it. render is called only when some hook does; its
// payload is validated against the event's schema in @octokit/openapi-webhooks
// first, and a payload that does not match fails the test and is recorded
// as a refused delivery instead of being sent. Called with the server lock
// held.
func (s *Server) emit(r *repo, event, action string, render func() (object, error)) {
	var hooks, apps []*hook
	for _, hk := range s.hooksOf(r) {
		if hk.wants(event) {
			hooks = append(hooks, hk)
		}
	}
	for _, hk := range s.hooks.apps {
		if hk.wants(event) {
			apps = append(apps, hk)
		}
	}
	if len(hooks)+len(apps) == 0 {
		return
	}
	payload, err := render()
	if err != nil {
		s.tb.Errorf("github double: render the %s webhook of %s: %v", eventName(event, action), r.fullName(), err)
		return
	}
	if len(hooks) > 0 {
		s.send(r, hooks, event, action, payload)
	}
	for _, hk := range apps { // the same payload, naming the app's installation
		withInstallation := object{"installation": installationJSON(hk.app)}
		for k, v := range payload {
			withInstallation[k] = v
		}
		s.send(r, []*hook{hk}, event, action, withInstallation)
	}
}

// send validates a rendered payload and queues its deliveries.
func (s *Server) send(r *repo, hooks []*hook, event, action string, payload object) {
	raw, err := json.Marshal(payload)
	if err != nil {
		s.tb.Errorf("github double: encode the %s webhook of %s: %v", eventName(event, action), r.fullName(), err)
		return
	}
	if err := s.checkWebhook(event, action, raw); err != nil {
		s.tb.Errorf("github double: the %s webhook of %s does not match @octokit/openapi-webhooks: %v", eventName(event, action), r.fullName(), err)
		s.refuse(r, event, action, raw, err)
		return
	}
	s.enqueue(r, hooks, event, action, raw)
}

// eventName is "event.action", or the event alone when it has no action.
func eventName(event, action string) string {
	if action == "" {
		return event
	}
	return event + "." + action
}

// userHookJSON is a user as webhooks show it: the REST API's simple-user.
func (s *Server) userHookJSON(u *user) object {
	if u == nil {
		return nil
	}
	return s.userObject(s.userJSON(u))
}

// repoHookJSON is a repository as webhooks show it (repository-webhooks):
// the REST API's full-repository, with the settings webhooks add.
func (s *Server) repoHookJSON(r *repo) object {
	return fill(s.repoObject(r), object{"use_squash_pr_title_as_default": false})
}

// pullHookJSON is a pull request as the pull_request events show it: the
// REST API's full pull request, its head and base repositories as webhooks
// show them, and auto_merge complete.
func (s *Server) pullHookJSON(r *repo, p *pull) (object, error) {
	m, err := s.pullObject(r, p, true)
	if err != nil {
		return nil, err
	}
	for _, side := range []string{"head", "base"} {
		if b, ok := m[side].(object); ok {
			b["repo"] = s.repoHookJSON(r)
		}
	}
	if am, ok := m["auto_merge"].(object); ok {
		am["enabled_by"] = s.userHookJSON(p.autoMerge.by)
		fill(am, object{"commit_title": nil, "commit_message": nil})
	}
	return m, nil
}

// pullEvent emits a pull_request event for p; extra adds the keys an action
// has beyond the common ones (before/after, changes).
func (s *Server) pullEvent(r *repo, p *pull, action string, sender *user, extra object) {
	s.emit(r, "pull_request", action, func() (object, error) {
		pr, err := s.pullHookJSON(r, p)
		if err != nil {
			return nil, err
		}
		payload := object{
			"action":       action,
			"number":       p.number,
			"pull_request": pr,
			"repository":   s.repoHookJSON(r),
			"sender":       s.userHookJSON(sender),
		}
		for k, v := range extra {
			payload[k] = v
		}
		return payload, nil
	})
}

// pullEdited emits pull_request.edited with the old values of what changed;
// nothing when nothing did.
func (s *Server) pullEdited(r *repo, p *pull, sender *user, oldTitle, oldBody, oldBase, oldBaseSHA string) {
	changes := object{}
	if p.title != oldTitle {
		changes["title"] = object{"from": oldTitle}
	}
	if p.body != oldBody {
		changes["body"] = object{"from": oldBody}
	}
	if p.base != oldBase {
		changes["base"] = object{"ref": object{"from": oldBase}, "sha": object{"from": oldBaseSHA}}
	}
	if len(changes) > 0 {
		s.pullEvent(r, p, "edited", sender, object{"changes": changes})
	}
}

// checkRunHookJSON is a check run as check_run events show it: the REST
// API's check-run with its check suite and the pull requests of its head.
func (s *Server) checkRunHookJSON(r *repo, run *github.CheckRun) object {
	m := s.checkRunObject(run)
	if m["details_url"] == nil {
		m["details_url"] = m["html_url"] // the webhook schema has no null here; GitHub falls back to the run's page
	}
	m["check_suite"] = s.checkSuiteHookJSON(r, run.GetCheckSuite().GetID(), run.GetHeadSHA(), run.GetApp())
	m["pull_requests"] = s.pullRefs(r, run.GetHeadSHA())
	return m
}

// pullRefs lists the open pull requests whose head is sha, as check runs
// and suites show them (id, number, url, head and base).
func (s *Server) pullRefs(r *repo, sha string) []any {
	out := []any{}
	api := s.apiURL("repos", r.owner.Login, r.spec.Name)
	repoRef := object{"id": r.id, "url": api, "name": r.spec.Name}
	for _, p := range r.pulls {
		if !p.open() || p.headSHA != sha {
			continue
		}
		out = append(out, object{
			"id":     p.id,
			"number": p.number,
			"url":    api + "/pulls/" + strconv.Itoa(p.number),
			"head":   object{"ref": p.head, "sha": p.headSHA, "repo": repoRef},
			"base":   object{"ref": p.base, "sha": p.baseSHA, "repo": repoRef},
		})
	}
	return out
}

// suiteRuns returns the runs of one check suite, in creation order.
func (r *repo) suiteRuns(suiteID int64) []*github.CheckRun {
	var runs []*github.CheckRun
	for _, run := range r.checkRuns {
		if run.GetCheckSuite().GetID() == suiteID {
			runs = append(runs, run)
		}
	}
	return runs
}

// suiteState is a check suite's status and conclusion from its latest
// runs: completed when all are, with the worst conclusion.
func suiteState(runs []*github.CheckRun) (status string, conclusion any) {
	status = "completed"
	for _, run := range latestRuns(runs) {
		if run.GetStatus() != "completed" {
			status = run.GetStatus()
			if status != "queued" {
				status = "in_progress"
			}
		}
	}
	if status != "completed" {
		return status, nil
	}
	rank := []string{"action_required", "timed_out", "cancelled", "failure", "stale", "neutral", "skipped", "success"}
	best := len(rank) - 1
	for _, run := range latestRuns(runs) {
		for i, c := range rank {
			if c == run.GetConclusion() && i < best {
				best = i
			}
		}
	}
	return status, rank[best]
}

// checkSuiteHookJSON renders a check suite from its runs.
func (s *Server) checkSuiteHookJSON(r *repo, id int64, sha string, app *github.App) object {
	runs := r.suiteRuns(id)
	status, conclusion := suiteState(runs)
	created, updated := time.Time{}, time.Time{}
	for _, run := range runs {
		if t := run.GetStartedAt().Time; created.IsZero() || t.Before(created) {
			created = t
		}
		for _, t := range []time.Time{run.GetStartedAt().Time, run.GetCompletedAt().Time} {
			if t.After(updated) {
				updated = t
			}
		}
	}
	api := s.apiURL("repos", r.owner.Login, r.spec.Name)
	branch := any(nil)
	if b := s.branchesAt(r, sha); len(b) > 0 {
		branch = b[0]
	}
	return object{
		"id":                      id,
		"node_id":                 nodeID("CS", id),
		"head_branch":             branch,
		"head_sha":                sha,
		"status":                  status,
		"conclusion":              conclusion,
		"url":                     api + "/check-suites/" + strconv.FormatInt(id, 10),
		"before":                  nil,
		"after":                   sha,
		"pull_requests":           s.pullRefs(r, sha),
		"app":                     s.appObject(app),
		"created_at":              timeJSON(created),
		"updated_at":              timeJSON(updated),
		"check_runs_url":          api + "/check-suites/" + strconv.FormatInt(id, 10) + "/check-runs",
		"latest_check_runs_count": len(latestRuns(runs)),
		"rerequestable":           true,
		"runs_rerequestable":      true,
		"head_commit":             s.headCommitJSON(r, sha),
	}
}

// branchesAt lists the branches whose tip is sha, by name.
func (s *Server) branchesAt(r *repo, sha string) []string {
	heads, err := s.git.refs(r.dir, "refs/heads/")
	if err != nil {
		return nil
	}
	var out []string
	for _, h := range heads {
		if h.SHA == sha {
			out = append(out, strings.TrimPrefix(h.Name, "refs/heads/"))
		}
	}
	return out
}

// headCommitJSON is the simple commit check suites show.
func (s *Server) headCommitJSON(r *repo, sha string) object {
	ci, err := s.oneCommit(r, sha)
	if err != nil {
		return nil
	}
	return object{
		"id":        ci.SHA,
		"tree_id":   ci.Tree,
		"message":   strings.TrimRight(ci.Message, "\n"),
		"timestamp": timeJSON(ci.Committer.When),
		"author":    object{"name": ci.Author.Name, "email": ci.Author.Email},
		"committer": object{"name": ci.Committer.Name, "email": ci.Committer.Email},
	}
}

// checkRunEvent emits check_run with action for run, and check_suite
// completed when run completed its suite.
func (s *Server) checkRunEvent(r *repo, run *github.CheckRun, action string, sender *user) {
	s.emit(r, "check_run", action, func() (object, error) {
		return object{
			"action":     action,
			"check_run":  s.checkRunHookJSON(r, run),
			"repository": s.repoHookJSON(r),
			"sender":     s.userHookJSON(sender),
		}, nil
	})
	if action != "completed" {
		return
	}
	suite := run.GetCheckSuite().GetID()
	if st, _ := suiteState(r.suiteRuns(suite)); st != "completed" {
		return
	}
	s.emit(r, "check_suite", "completed", func() (object, error) {
		return object{
			"action":      "completed",
			"check_suite": s.checkSuiteHookJSON(r, suite, run.GetHeadSHA(), run.GetApp()),
			"repository":  s.repoHookJSON(r),
			"sender":      s.userHookJSON(sender),
		}, nil
	})
}

// statusEvent emits status for a new commit status.
func (s *Server) statusEvent(r *repo, sha string, st *github.RepoStatus, sender *user) {
	s.emit(r, "status", "", func() (object, error) {
		ci, err := s.oneCommit(r, sha)
		if err != nil {
			return nil, err
		}
		commit := s.commitObject(r, ci)
		branches := []any{}
		for _, name := range s.branchesAt(r, sha) {
			branches = append(branches, object{
				"name":      name,
				"commit":    object{"sha": sha, "url": s.apiURL("repos", r.owner.Login, r.spec.Name, "commits", sha)},
				"protected": false,
			})
		}
		return object{
			"id":          st.GetID(),
			"sha":         sha,
			"name":        r.fullName(),
			"target_url":  nilIfEmpty(st.GetTargetURL()),
			"context":     st.GetContext(),
			"description": nilIfEmpty(st.GetDescription()),
			"state":       st.GetState(),
			"commit":      commit,
			"branches":    branches,
			"created_at":  timeJSON(st.GetCreatedAt().Time),
			"updated_at":  timeJSON(st.GetUpdatedAt().Time),
			"repository":  s.repoHookJSON(r),
			"sender":      s.userHookJSON(sender),
		}, nil
	})
}

func nilIfEmpty(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// reviewEvent emits pull_request_review.submitted for a submitted review.
func (s *Server) reviewEvent(r *repo, p *pull, rv *github.PullRequestReview, sender *user) {
	if rv.GetState() == "PENDING" {
		return
	}
	s.emit(r, "pull_request_review", "submitted", func() (object, error) {
		pr, err := s.pullHookJSON(r, p)
		if err != nil {
			return nil, err
		}
		// Webhooks write the state in lower case and an empty body as null.
		review := s.reviewObject(rv)
		review["body"] = nilIfEmpty(rv.GetBody())
		review["state"] = strings.ToLower(rv.GetState())
		return object{
			"action":       "submitted",
			"review":       review,
			"pull_request": pr,
			"repository":   s.repoHookJSON(r),
			"sender":       s.userHookJSON(sender),
		}, nil
	})
}

// commentEvent emits issue_comment with action (created, edited) for a
// comment on pull request p; extra adds the keys an action has beyond the
// common ones (changes).
func (s *Server) commentEvent(r *repo, p *pull, cm *github.IssueComment, action string, sender *user, extra object) {
	s.emit(r, "issue_comment", action, func() (object, error) {
		payload := object{
			"action":     action,
			"issue":      s.issueHookJSON(r, p),
			"comment":    fill(s.commentObject(cm), object{"reactions": reactions(cm.GetURL())}),
			"repository": s.repoHookJSON(r),
			"sender":     s.userHookJSON(sender),
		}
		for k, v := range extra {
			payload[k] = v
		}
		return payload, nil
	})
}

// reactions is the empty reaction rollup of an object at url.
func reactions(url string) object {
	return object{"url": url + "/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "confused": 0,
		"heart": 0, "hooray": 0, "eyes": 0, "rocket": 0}
}

// issueHookJSON is a pull request seen as an issue, as issue_comment events
// show it (with the pull_request key that marks it as one).
func (s *Server) issueHookJSON(r *repo, p *pull) object {
	api := s.apiURL("repos", r.owner.Login, r.spec.Name)
	num := strconv.Itoa(p.number)
	html := s.htmlURL(r.owner.Login, r.spec.Name, "pull", num)
	return object{
		"id":                       p.id,
		"node_id":                  nodeID("I", p.id),
		"number":                   p.number,
		"title":                    p.title,
		"body":                     nilIfEmpty(p.body),
		"user":                     s.userHookJSON(p.user),
		"state":                    p.state,
		"locked":                   false,
		"labels":                   objects(r.labelsOf(p.number), labelObject),
		"assignee":                 nil,
		"assignees":                []any{},
		"milestone":                nil,
		"comments":                 len(r.comments[p.number]),
		"created_at":               timeJSON(p.createdAt),
		"updated_at":               timeJSON(p.updatedAt),
		"closed_at":                timeJSON(p.closedAt),
		"author_association":       association(r, p.user),
		"active_lock_reason":       nil,
		"draft":                    p.draft,
		"url":                      api + "/issues/" + num,
		"repository_url":           api,
		"labels_url":               api + "/issues/" + num + "/labels{/name}",
		"comments_url":             api + "/issues/" + num + "/comments",
		"events_url":               api + "/issues/" + num + "/events",
		"html_url":                 html,
		"timeline_url":             api + "/issues/" + num + "/timeline",
		"performed_via_github_app": nil,
		"reactions":                reactions(api + "/issues/" + num),
		"pull_request": object{
			"url":       api + "/pulls/" + num,
			"html_url":  html,
			"diff_url":  html + ".diff",
			"patch_url": html + ".patch",
			"merged_at": timeJSON(p.mergedAt),
		},
	}
}

// ping sends the ping event GitHub sends to a new hook.
func (s *Server) ping(r *repo, hk *hook, sender *user) {
	h := s.hookJSON(r, hk)
	payload := object{
		"zen":        "Keep it logically awesome.",
		"hook_id":    hk.id,
		"hook":       h,
		"repository": s.repoHookJSON(r),
		"sender":     s.userHookJSON(sender),
	}
	s.send(r, []*hook{hk}, "ping", "", payload)
}

// appBot is the bot account a GitHub App acts as ("slug[bot]"), the sender
// of the events its check runs cause.
func appBot(a *github.App) *user {
	return &user{User: User{Login: a.GetSlug() + "[bot]", Bot: true}, id: a.GetID()}
}

// sender is who caused the change being processed: the API caller, the
// pusher, or the author of a test's commit; the default user otherwise.
func (s *Server) sender() *user {
	if s.actor != nil {
		return s.actor
	}
	return s.users[strings.ToLower(DefaultLogin)]
}

// oneCommit reads one commit.
func (s *Server) oneCommit(r *repo, sha string) (commitInfo, error) {
	commits, err := s.git.log(r.dir, sha+"~1", sha)
	if err != nil {
		commits, err = s.git.log(r.dir, "", sha) // a root commit has no parent to stop at
	}
	if err != nil {
		return commitInfo{}, err
	}
	for _, ci := range commits {
		if ci.SHA == sha {
			return ci, nil
		}
	}
	return commitInfo{}, fmt.Errorf("no commit %s", sha)
}

// suiteFor is the check suite a new run of app on sha joins: GitHub keeps
// one suite per app and commit
// (https://docs.github.com/rest/guides/using-the-rest-api-to-interact-with-checks#about-check-suites),
// so the suite completes (check_suite.completed) when the last of the app's
// runs on the commit does.
func (s *Server) suiteFor(r *repo, app *github.App, sha string) *github.CheckSuite {
	for _, run := range r.checkRuns {
		if run.GetHeadSHA() == sha && run.GetApp().GetID() == app.GetID() && run.GetCheckSuite().GetID() != 0 {
			return &github.CheckSuite{ID: github.Int64(run.GetCheckSuite().GetID())}
		}
	}
	return &github.CheckSuite{ID: github.Int64(s.newID())}
}

// labelEvents emits pull_request labeled and unlabeled for the labels pull
// request n gained and lost since before (label names), one event per
// label, as GitHub does.
func (s *Server) labelEvents(r *repo, n int, before []string, sender *user) {
	p := r.pull(n)
	if p == nil {
		return
	}
	after := r.issueLabels[n]
	for _, name := range before {
		if !slicesContainsFold(after, name) {
			if l := r.label(name); l != nil {
				s.pullEvent(r, p, "unlabeled", sender, object{"label": labelObject(l)})
			}
		}
	}
	for _, name := range after {
		if !slicesContainsFold(before, name) {
			if l := r.label(name); l != nil {
				s.pullEvent(r, p, "labeled", sender, object{"label": labelObject(l)})
			}
		}
	}
}

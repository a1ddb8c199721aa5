// Package githubdouble is a test double of GitHub for the dependency-flow
// tests: the REST API routes the product uses, answered with complete
// objects as GitHub renders them, and git hosting of real bare repositories
// through `git http-backend`, both on one loopback httptest server (port 0)
// that lives as long as the test.
//
// The import path ends in test/github; the package is named githubdouble so
// that it does not clash with go-github's package github.
//
// # Using it
//
//	srv := githubdouble.NewServer(t)                       // knows DefaultLogin / DefaultToken
//	repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime",
//		Files: map[string]string{"eng/Version.Details.xml": "..."}})
//	client := srv.Client(githubdouble.DefaultToken)        // go-github, WithEnterpriseURLs(srv.APIURL())
//	// git clone repo.AuthCloneURL(githubdouble.DefaultToken) ...
//
// The API is served at URL()+"/api/v3/" (GitHub Enterprise Server's layout,
// what go-github's WithEnterpriseURLs uses) and also at the root, the way
// api.github.com serves it, so a client whose BaseURL is URL()+"/" works too.
// Repositories are cloned, fetched and pushed at URL()+"/OWNER/REPO.git".
//
// # What is real
//
// Each repository is a bare git repository on disk (t.TempDir). Refs, commit
// SHAs, pull request heads and commit lists come from it; pushes through
// http-backend change it, and open pull requests follow at once, as on
// GitHub: the head SHA (and refs/pull/N/head) follows the head branch, and
// deleting the branch closes the pull request. Test helpers write commits
// with `git fast-import` through a scratch ref (refs/double/scratch) that
// fetches, pushes and the refs API do not show. Merging a pull request
// writes a real commit in the bare repository: a merge commit or a squash commit made with
// `git merge-tree --write-tree` (no worktree; git 2.38 or newer is
// required), or the commits cherry-picked onto the base in a temporary
// worktree for the rebase method. Merge commits are committed by
// "GitHub <noreply@github.com>" and authored by the merging user. Pull
// requests, comments, reviews, check runs and statuses are kept in memory.
// GitHub keeps refs/pull/N/head up to date and refuses pushes to refs/pull/*
// ("deny updating a hidden ref"); so does the double.
//
// # Routes (relative to the API root)
//
//	GET    /user
//	GET    /repos/{o}/{r}
//	GET    /repos/{o}/{r}/git/ref/{ref}            GET /git/refs/{ref}, GET /git/matching-refs/{ref}
//	POST   /repos/{o}/{r}/git/refs                 PATCH, DELETE /git/refs/{ref}
//	GET    /repos/{o}/{r}/pulls                    state, head (owner:branch), base, sort, direction
//	POST   /repos/{o}/{r}/pulls
//	GET    /repos/{o}/{r}/pulls/{n}                PATCH (title, body, state, base)
//	GET    /repos/{o}/{r}/pulls/{n}/commits
//	GET    /repos/{o}/{r}/pulls/{n}/merge          PUT (merge, squash, rebase)
//	GET    /repos/{o}/{r}/pulls/{n}/reviews        POST (APPROVE, REQUEST_CHANGES, COMMENT)
//	GET    /repos/{o}/{r}/issues/{n}/comments      POST
//	PATCH  /repos/{o}/{r}/issues/comments/{id}
//	GET    /repos/{o}/{r}/issues/{n}/labels        POST (add), PUT (set), DELETE; DELETE /labels/{name}
//	GET    /repos/{o}/{r}/labels                   POST (adding a missing label to an issue creates it)
//	GET    /repos/{o}/{r}/branches/{b}/protection  PUT, DELETE (required_status_checks, required_pull_request_reviews)
//	GET    /repos/{o}/{r}/commits/{ref}/check-runs  check_name, status, filter, app_id
//	POST   /repos/{o}/{r}/check-runs               GET, PATCH /check-runs/{id} (GitHub Apps only)
//	GET    /repos/{o}/{r}/commits/{ref}/status     GET /commits/{ref}/statuses
//	POST   /repos/{o}/{r}/statuses/{sha}
//	GET    /repos/{o}/{r}/hooks                    POST; GET, DELETE /hooks/{id} (see Webhooks)
//	GET    /repos/{o}/{r}/hooks/{id}/deliveries    POST /deliveries/{delivery_id}/attempts (redeliver)
//	POST   /graphql                                also /api/graphql (see GraphQL below)
//
// # GraphQL
//
// POST /graphql parses and validates every query against GitHub's published
// schema (test/node_modules/@octokit/graphql-schema/schema.graphql, loaded
// once per test binary with github.com/vektah/gqlparser/v2) and answers
// invalid ones as GitHub does: status 200, {"errors": [{"message",
// "locations"}]}, an unknown field in GitHub's words ("Field 'foo' doesn't
// exist on type 'Repository'", extensions.code undefinedField), other rules
// in gqlparser's. Valid queries run over the double's state for what the
// product uses: viewer { login }, repository(owner, name) { id name
// nameWithOwner url autoMergeAllowed owner pullRequest(number) }, node(id)
// for pull requests and repositories (the REST node_id), and on a pull
// request id number title body url state merged closed isDraft headRefName
// baseRefName headRefOid baseRefOid mergeable mergeStateStatus author
// repository autoMergeRequest { enabledAt enabledBy mergeMethod
// commitHeadline commitBody authorEmail } viewerCanEnableAutoMerge
// viewerCanDisableAutoMerge; plus the mutations enablePullRequestAutoMerge
// and disablePullRequestAutoMerge. A valid field outside that set answers
// null with an error "The GitHub double does not serve Type.field", never a
// made-up value. Missing objects are errors of type NOT_FOUND ("Could not
// resolve to a PullRequest with the number of 9."), refused mutations of
// type UNPROCESSABLE, each with path and locations and a null in data.
// GraphQL requests count against the same primary budget as REST ones
// (GitHub keeps a separate GraphQL budget, counted in points).
//
// Auto-merge needs RepoSpec.AllowAutoMerge ("Auto merge is not allowed for
// this repository"), a merge method the repository allows (refused with the
// REST merge's wording, e.g. "Squash merges are not allowed on this
// repository.") and a pull request that cannot merge yet: one whose
// mergeable_state is not blocked or behind is refused with "Pull request
// Pull request is in clean status" (or that state), as GitHub does. The
// REST pull request shows auto_merge {enabled_by, merge_method,
// commit_title, commit_message}. After every API request on the repository
// (and every test helper), a pull request with auto-merge on whose base
// branch protection no longer blocks it is merged by its method, as the
// user who enabled it, with the commitHeadline/commitBody when given;
// closing or merging it turns auto-merge off. disablePullRequestAutoMerge
// turns it off; for a pull request whose auto-merge is off, or that is
// closed, merged or a draft, it answers UNPROCESSABLE "Can't disable
// auto-merge for this pull request." (see canDisableAutoMerge for what is
// known of GitHub's answer). Approximations: the messages
// for a closed pull request ("Pull request is not open") and for an
// expectedHeadOid that does not match.
//
// Lists paginate with per_page (default 30, at most 100) and page, and set a
// Link header, so go-github's Response.NextPage works.
//
// # Errors, as GitHub answers them
//
// Every request needs a token: "token T", "Bearer T", or Basic with the
// token as password. A wrong or revoked token gets 401 "Bad credentials"; no
// Authorization header gets 401 "Requires authentication" (GitHub would
// serve a public repository anonymously and answer 404 for a private one;
// the double asks for a token everywhere so that a missing one is loud).
// Unknown repositories, pull requests and routes get 404 "Not Found". Bodies
// that are not JSON get 400 "Problems parsing JSON"; bodies that break the
// operation's schema in GitHub's description (a missing required property,
// a wrong type, a value outside an enum; see "Held to GitHub's
// description") get 422 "Invalid request." with GitHub's detail line; a
// well-formed request that breaks a rule gets 422 "Validation Failed" with
// errors[] ({resource, field, code} or {resource, code: custom, message}),
// for instance "A pull request already exists for owner:branch." or
// "No commits between main and branch". The refs API answers 422 with
// "Reference already exists", "Reference does not exist", "Object does not
// exist", "Update is not a fast forward"; merging answers 405 "Pull Request
// is not mergeable" (closed, conflicting), 405 "... are not allowed on this
// repository." (disabled method), 409 "Head branch was modified. Review and
// try the merge again." (sha mismatch). Pull request bodies over 65,536
// characters get 422 Validation Failed with {resource: Issue, field: body,
// code: custom, message: "body is too long (maximum is 65536 characters)"};
// comment bodies over it get {resource: IssueComment, field: data, code:
// unprocessable, message: "Body is too long (maximum is 65536 characters)"}.
// Permissions: Server.SetPermissions(token, map[string]string{"contents":
// "read", ...}) gives a token GitHub's repository permissions (metadata is
// always readable); a request whose operation needs a permission the token
// lacks (read for GET, write otherwise: refs need contents, pulls
// pull_requests, merging contents write, comments issues or pull_requests,
// branch protection administration, check runs checks, statuses statuses,
// hooks repository_hooks) answers 403 "Resource not accessible by
// integration" for an installation token and "Resource not accessible by
// personal access token" for a person's; a missing repository is still
// 404. The GraphQL auto-merge mutations need pull_requests write (error
// type FORBIDDEN). Tokens without a set may do everything.
// Check runs are written by GitHub Apps only: a personal access token gets
// 403 "You must authenticate via a GitHub App."; a completed run (status
// completed, or completed_at) without a conclusion gets 422 "Invalid
// request." ("\"conclusion\" wasn't supplied.", the double's wording); a
// conclusion makes the run completed. Deleting the default branch through
// git/refs answers 422 "Cannot delete the default branch". The combined
// status of a ref that names no commit answers 404, its list of statuses
// 200 with none, its check runs 422 "No commit found for SHA: ref", and
// creating a status or check run on it 422 "No commit found for SHA: sha";
// a status description over 140 characters gets 422 "Validation Failed"
// ("description is too long (maximum is 140 characters)").
// The bodies carry documentation_url
// and status like GitHub's. A few messages are approximations where GitHub's
// wording is undocumented: reopening a merged pull request or one whose
// branch was deleted, and a REQUEST_CHANGES or COMMENT review without a body.
//
// Branch protection: GET or DELETE of an unprotected branch answers 404
// "Branch not protected", of a missing branch 404 "Branch not found".
// Merging into a protected branch is refused with 405 (documentation_url
// https://docs.github.com/articles/about-protected-branches) and the pull
// request shows mergeable_state "blocked": `Required status check "X" is
// expected.` (no status or check run named X on the head), `... is
// failing.`, `... is pending.`; "At least N approving review(s) is/are
// required by reviewers with write access." (counting each user's latest
// APPROVED, CHANGES_REQUESTED or DISMISSED review; with
// dismiss_stale_reviews only approvals of the head commit count); a
// user whose latest decision requests changes blocks the merge, with the
// double's wording "Changes were requested by reviewers with write
// access." (GitHub's API message for it is undocumented). With
// strict checks, a head that does not contain the base answers "Head branch
// is not up to date with the base branch" and shows mergeable_state
// "behind". Protection applies to every user: administrators' bypass
// (enforce_admins false) is not modelled. Push restrictions are refused with
// GitHub's 422 for user-owned repositories, "Only organization repositories
// can have users and team restrictions", whoever owns the repository.
//
// Rate limits: every user has a primary budget (5,000 requests an hour by
// default, Server.SetRateLimit), reported in x-ratelimit-limit, -remaining,
// -used, -reset and -resource and counted down per API request; the window
// opens with the user's first request and resets an hour later on the
// server's clock. A spent budget answers 403 "API rate limit exceeded for
// user ID N." with x-ratelimit-remaining 0 (go-github: *RateLimitError).
// Server.TripSecondaryRateLimit(n, d) makes the next n requests answer 403
// "You have exceeded a secondary rate limit. Please wait a few minutes
// before you try again." with Retry-After (go-github: *AbuseRateLimitError).
// GitHub documents 403 or 429 for both; the double sends 403, the status
// go-github v60 classifies. Requests without a valid token report the
// anonymous budget (60), which the double does not count down.
//
// # Webhooks
//
// A repository webhook, registered with Repo.AddHook(HookSpec{URL, Secret,
// Events}) or POST /repos/{o}/{r}/hooks (config.url, config.secret,
// config.content_type json or form — GitHub's default is form, HookSpec's
// json — events, default ["push"], "*" for all; active), gets deliveries
// as GitHub sends them
// (https://docs.github.com/webhooks/webhook-events-and-payloads): a POST
// with X-GitHub-Event, X-GitHub-Delivery (a GUID per event, shared by the
// hooks it goes to), X-GitHub-Hook-ID,
// X-GitHub-Hook-Installation-Target-ID/-Type (the repository),
// X-Hub-Signature-256 ("sha256=" and the hex HMAC-SHA256 of the body with
// the secret; X-Hub-Signature with SHA-1 too; none without a secret),
// User-Agent GitHub-Hookshot/..., and Content-Type application/json (or
// application/x-www-form-urlencoded with payload=). go-github's
// ValidatePayload and ParseWebHook accept them. Registering a hook sends
// ping. A test of a webhook receiver (such as `maestro serve`) reads:
//
//	repo.AddHook(githubdouble.HookSpec{URL: serveURL + "/webhooks/github", Secret: secret, Events: []string{"*"}})
//	// ... open a pull request, add a check run, merge, push ...
//	for _, d := range srv.WaitDeliveries() {
//		// d.Event, d.Action, d.GUID, d.StatusCode (the receiver's answer), d.Err, d.Payload
//		req, _ := d.NewRequest(ctx, otherReplicaURL) // the same delivery, to another replica
//	}
//
// Two hooks (one per replica) get every event with the same
// X-GitHub-Delivery, as GitHub sends one event to several hooks. The
// events, from the double's real state:
//
//	push                          any branch or tag that moves: git push, the refs API, merges, Repo.Commit
//	create, delete                a branch or tag that appears or goes (after its push)
//	pull_request opened           POST /pulls
//	pull_request synchronize      the head branch moves (before, after)
//	pull_request edited           PATCH /pulls: title, body or base (changes.*.from)
//	pull_request closed           PATCH state closed, merge or auto-merge (merged true), head branch deleted
//	pull_request reopened         PATCH state open
//	pull_request labeled, unlabeled  the issue labels API, one event per label
//	pull_request auto_merge_enabled, auto_merge_disabled  the GraphQL mutations
//	check_run created             POST /check-runs, Repo.AddCheckRun
//	check_run completed           a run created completed (after created), PATCH to completed
//	check_suite completed         the last run of a suite (one per app and commit) completes; worst conclusion
//	status                        POST /statuses/{sha}, Repo.AddStatus
//	pull_request_review submitted POST /pulls/{n}/reviews or Repo.AddReview, unless pending
//	issue_comment created         POST /issues/{n}/comments
//	issue_comment edited          PATCH /issues/comments/{id} (changes.body.from)
//
// Payloads are rendered from the same complete objects the REST API
// answers with (render.go) plus what only webhooks carry, and every payload
// is validated against its event and action's request body schema in
// @octokit/openapi-webhooks (test/node_modules, via package ghspec's
// CheckWebhook, loaded once per test binary when the first hook is
// registered) before it is sent. A payload that does not match fails the
// test that caused it (naming the event and the JSON pointer of each
// problem, e.g. "/pull_request/head: missing property 'sha'") and is
// recorded as a refused delivery; it is never sent.
//
// Deliveries are made one at a time, in the order the events happened, by
// a goroutine of the double, never under the API lock: a receiver may call
// the API while it answers. Each waits at most 10 seconds, GitHub's
// timeout. Server.WaitDeliveries waits for every queued delivery and returns
// Server.Deliveries: each with its headers, body, payload, the receiver's
// status code and answer, or Err when there was none (an unreachable URL is
// a failed delivery, not a test failure). GET of a hook shows the last
// delivery in last_response; GET /hooks/{id}/deliveries lists them newest
// first (status filter and per_page; no cursor). Server.Redeliver(id) and
// POST .../deliveries/{id}/attempts send a delivery again with the same
// GUID, headers and body (Delivery.Redelivery set), and Delivery.NewRequest
// rebuilds a delivery's request for another URL, so a test can send one
// delivery to two replicas or tamper with its body. Server.AddAppHook(slug,
// HookSpec) sets the webhook of a GitHub App registered with AddApp: it gets
// the events of every repository (the app's one installation covers them
// all), its payloads carry "installation" {id, node_id} and its deliveries
// X-GitHub-Hook-Installation-Target-Type "integration" with the app's id;
// it gets no ping. When the test ends,
// queued deliveries are dropped. A hook is refused (422 Validation Failed,
// {resource: Hook, code: custom}) for a URL that is not http(s) ("The URL
// you've entered is not valid. ..."), a URL the repository already has a
// hook for ("Hook already exists on this repository"), and, with messages
// the double makes up where GitHub's are undocumented, a missing URL, a
// content type other than json or form and a malformed event name. Not
// covered: organization hooks (and the organization key of payloads), pings
// and tests on demand, PATCH of a hook, the deliveries API's cursor, and
// GitHub's refusal of event names it does not know (the double accepts any
// lower-case name).
//
// # Held to GitHub's description
//
// The double keeps its state in go-github's structs but renders complete
// objects (render.go): every property GitHub's REST description requires,
// null where GitHub sends null (a pull request's merged_at, auto_merge,
// milestone; a check run's conclusion and details_url), [] for empty lists,
// users with all their URLs, repositories with every URL template, and
// _links on pull requests and reviews. go-github decodes all of it.
//
// Every exchange is held to @octokit/openapi's api.github.com.json (the
// REST description, loaded once per test binary by package ghspec, 0.2 s;
// conform.go), in every test that uses the double, the product's included:
//
//   - Requests: the route wrapper (repoRoute, and the installation-token
//     route) validates every request body against the operation's
//     requestBody schema before the handler runs. A body that breaks it
//     gets GitHub's 422 {"message": "Invalid request.\n\n<detail>",
//     "documentation_url": the operation's page}, the detail worded as
//     GitHub words it: "\"head\" wasn't supplied.", "For
//     'properties/title', 5 is not a string.", "For 'properties/state',
//     \"merged\" is not one of [\"open\", \"closed\"].", "For
//     'links/0/schema', [1,2] is not an object." for a body that is not an
//     object. Date formats are checked ("is not a date-time."), other
//     formats are not: GitHub answers a malformed hook URL with the hook's
//     own 422 Validation Failed. Handlers keep only GitHub's rules beyond the
//     schema (Validation Failed for a blank title, a body over 65,536
//     characters, an existing ref, ...). Two operations also take a form
//     their page names beside the schema, which the double rewrites into
//     the described form before validating: labels as a bare array of names,
//     and branch protection's checks without the deprecated contexts (both
//     of which go-github sends).
//   - Responses: after each API request the server checks the response it
//     is about to send (it holds it back until then): the status must be
//     one the operation lists, or one the allow-list in conform.go names
//     with GitHub's documentation, and the body must match the schema of
//     that status (basic-error for allow-listed statuses and unserved
//     routes). A mismatch fails the test that made the server, naming the
//     request, the operation, the status and the JSON pointer of each
//     problem, e.g. "POST /repos/{owner}/{repo}/pulls response 201 does not
//     match the description: (body): missing property '_links'".
//     WithMismatchReport sends mismatches elsewhere (FuzzAPI reports them on
//     the input's t). POST /graphql is outside the REST description; the
//     double checks its documents against GitHub's GraphQL schema.
//
// Without the description (test/node_modules not installed) the server
// logs "VALIDATION OFF" and validates nothing, except under CI=true, where
// NewServer fails the test.
//
// The allow-list (conform.go, one list for the server and TestConformance):
// 400 "Problems parsing JSON", 401, 403 (rate limits, permissions) and 404
// (a missing resource in the path) on every operation; 422 "Invalid
// request." on every operation that reads a body; 403 for check runs
// written without a GitHub App; 422 "No commit found for SHA" for
// creating a status or a check run on a commit the repository does not
// have and for the check runs of such a ref; the legacy GET
// .../git/refs/{ref}, which the description leaves out. The list of a
// ref's statuses answers 200 with no statuses for a ref that names no
// commit, as the description lists (GitHub documents no error for it); the
// combined status of such a ref answers 404, as listed.
//
// TestConformance (conformance_test.go) drives every route of the route
// table (routeTable in routes.go, plus the installation-token route)
// through go-github, and error cases through raw HTTP, and reports each
// exchange with the same checks; a route added to the table without a
// scenario fails it. It logs the table of routes, statuses seen and strict
// match (every status listed, every body valid, every request body in the
// described form): 5 of the 24 routes of the time before the complete
// objects; 32 of 44 routes now, and with the allow-list 44 of 44.
//
// # Test controls
//
// AddUser, AddToken, AddInstallationToken (a GitHub App bot "slug[bot]"),
// RevokeToken; AddRepo and Repo; on a Repo: Commit (push a commit as some
// author, e.g. to make a conflict or a foreign commit on a bot branch),
// Branch, File, AddCheckRun, AddStatus, AddReview, PullRequest,
// PullRequests, Comments. Requests returns the log of every request (API
// and git) with its status, user and body, for tests that assert the exact
// calls the product made. AddHook, AddAppHook, Deliveries, WaitDeliveries
// and Redeliver drive webhooks. WithClock fixes timestamps and commit dates;
// NewClock gives a clock that tests move with Advance (rate-limit resets,
// updated_at). SetRateLimit and TripSecondaryRateLimit drive rate limits;
// SetPermissions restricts a token; RepoSpec.AllowAutoMerge allows
// auto-merge; branch protection is set through the API (PUT
// .../branches/{branch}/protection, go-github's UpdateBranchProtection).
//
// API requests are answered one at a time under one lock, so results do not
// depend on scheduling; git transfers run concurrently, as git's own locking
// allows.
//
// # Not covered
//
// Forks and cross-repository pull requests, issues other than pull
// requests, review comments, GitHub's asynchronous mergeability (mergeable
// is computed on every GET, never null), the request ID in the secondary
// rate limit's message, ETags, GitHub's refusal of requests without a
// User-Agent; in branch protection, administrators' bypass, push
// restrictions, code-owner reviews; auto-merge being turned off
// by a push from someone without write access.
package githubdouble

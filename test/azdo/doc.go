// Package azdo is a test double of an Azure DevOps organization: the REST
// API 7.1 routes Maestro++ calls through github.com/microsoft/azure-devops-go-api
// (v7.1.0), and Git repositories served over HTTP, on a loopback port.
//
//	s := azdo.NewServer(t, azdo.WithPAT("pat"))
//	p := s.AddProject("dnceng")
//	r := s.AddRepository(p, "runtime")
//	r.Commit("main", map[string][]byte{"eng/Version.Details.xml": data}, "Initial commit")
//	pl := s.AddYAMLPipeline(p, azdo.YAMLPipeline{Name: "update", Repository: r, Path: "/eng/pipelines/update.yml"})
//	conn := azuredevops.NewPatConnection(s.OrganizationURL(), "pat")
//	// ... the product runs against conn; the test inspects s.RunRequests(),
//	// s.PullRequests(), s.RefUpdates(), s.Pushes(), s.Requests().
//
// # Discovery
//
// The client first asks OPTIONS {org}/_apis for the resource locations and
// builds every URL from their route templates, then GET
// {org}/_apis/ResourceAreas for each area's base URL. The double answers both
// from one table (locations.go): for each location the ID the client sends,
// the area, resource name, route template, resource version and the
// min/max/released versions. The same table routes requests, so what is
// advertised is what is served. Route matching follows the client's URL
// building: literal segments compare case-insensitively (the client
// lower-cases the organization URL), a parameter the client did not supply is
// left out of the URL, {*name} takes the rest of the path. Every area lives at
// the organization URL.
//
// The api-version travels in the Accept header (or the api-version query
// parameter). As the service does, the double requires it on writes
// (VssVersionNotSpecifiedException), rejects versions it cannot parse or
// above the location's maximum (VssVersionOutOfRangeException), and versions
// without -preview of a resource that is not released at that version
// (VssInvalidPreviewVersionException).
//
// # Authentication
//
// Every request needs an Authorization header with a token added to the
// double: Basic with a personal access token or a job token as the password
// (any user name), or Bearer with a job token (System.AccessToken). Anything
// else is answered 401 (UnauthorizedRequestException, TF400813) with a Basic
// challenge and recorded (UnauthorizedRequests). Each token acts as an
// identity, which becomes createdBy, author, requestedFor and pushedBy.
//
// # Errors
//
// Errors are WrappedError bodies ($id, innerException, message, typeName,
// typeKey, errorCode, eventId, customProperties), which the client turns into
// azuredevops.WrappedError with the status code. The typeKeys and status codes
// are the service's (its git controllers map, for instance, GitRepositoryNotFoundException
// and GitPullRequestNotFoundException to 404, GitPullRequestExistsException and
// GitReferenceStaleException to 409, InvalidArgumentValueException to 400).
// Messages with a TF number (TF200016, TF400813, TF401019, TF401028,
// TF401179, TF401180, TF401181, TF401398) are the service's; the others say
// the same thing in their own words.
//
// # Routes
//
// Core and location: projects (list, get), ResourceAreas, ConnectionData.
//
// Git: repositories (get by name or ID, list); refs (GetRefs with filter as a
// prefix after refs/, filterContains, $top and continuationToken;
// UpdateRefs, where each update succeeds or fails on its own and a stale
// oldObjectId gives success=false with updateStatus staleOldObjectId, an
// unknown commit unresolvableToCommit, a bad name invalidRefName); pushes
// (CreatePush: exactly one commit of add, edit, delete and rename changes, raw
// or base64 content, and one ref update; answered 201); pull requests (create,
// answered 201; list with searchCriteria; get by repository and by project;
// update: title, description, draft, retarget, abandon, reactivate,
// auto-complete, complete); pull request statuses (create, list, get, and
// delete, answered 204; IDs are never reused) and threads (create, list);
// thread comments (list, get, update content); pull request commits;
// pull request reviewers (CreatePullRequestReviewer: add a reviewer, or cast
// one's own vote of 10, 5, 0, -5 or -10; a vote for someone else is refused,
// as the service documents; the votes show in the pull request's reviewers);
// pull request labels (create, creating the project's tag when missing;
// list, get, delete; see labels.go). The not-found messages of a status,
// comment or label, the wording of a refused vote and of a refused label
// name, are approximations.
//
// Pipelines and builds: RunPipeline (YAML pipelines), GetRun, GetPipeline,
// QueueBuild (classic definitions and YAML pipelines), GetBuild,
// GetDefinition. A run is a build: it has a build ID and number
// (yyyyMMdd.r) and GetBuild shows it. Run requests are checked as the
// service checks them: templateParameters against the parameters the YAML
// declares at the branch being run (undeclared names, missing required ones,
// wrong types, values outside values:), variables against those settable at
// queue time, repository resources against self and the YAML's
// resources.repositories, and the branch must exist. SetBuildStatus moves a
// build or run on.
//
// Build artifacts: GetArtifacts, GetArtifact and GetArtifactContentZip
// (the container as a zip of {name}/{path} entries, also served at the
// artifact's resource.downloadUrl with $format=zip), for the Container
// artifacts a test uploads with AddArtifact to a build it adds with
// AddBuild. ServiceHookEvent writes the build.complete and
// ms.vss-pipelines.run-state-changed-event payloads a service hook
// subscription would deliver for a build. AddPullRequestBuild records the
// build that build validation queues for an Azure Repos pull request
// (reason pullRequest, refs/pull/{id}/merge at the preview merge,
// triggerInfo pr.number and pr.isFork, the system.pullRequest.* values in
// parameters), AddGitHubPullRequestBuild the build a pipeline of a GitHub
// repository makes of a GitHub pull request (repository type GitHub, the
// triggerInfo and parameters dnceng-public's builds show), and
// PullRequestHookEvent writes the git.pullrequest.created,
// .updated and .merged payloads of a pull request.
//
// Policy: GetPolicyEvaluations by pull request artifact
// (vstfs:///CodeReview/CodeReviewId/{projectId}/{pullRequestId}) and
// GetPolicyEvaluation, with the evaluations a test sets with
// SetPolicyEvaluations.
//
// # Git repositories
//
// Each repository is a bare repository on disk (under the test's temporary
// directory), created and changed only with the git CLI, and the single
// source of truth for refs: the REST API reads and updates the refs on disk
// (git update-ref with the expected old value, so a concurrent push makes an
// update stale rather than lost). CreatePush writes its commit with git
// plumbing (read-tree, hash-object, update-index, write-tree, commit-tree)
// into a temporary index. The repository is served for clone, fetch and push
// at its remoteUrl (http://{org}@host/{org}/{project}/_git/{repo}, the
// service's form) by git http-backend through net/http/cgi, with the same
// authentication as the REST API.
//
// A pull request's merge is computed as the service does after every push:
// git merge-tree --write-tree (git 2.38 or later) gives mergeStatus
// succeeded or conflicts, and a clean merge is committed as the preview merge
// at refs/pull/{id}/merge (lastMergeCommit). Completing a pull request needs
// lastMergeSourceCommit equal to the source branch's head (else 409
// GitPullRequestStaleException, "TF401192: The source branch has been
// modified since the last merge attempt.", and the request's completion
// options are not kept); it merges for real into the target branch
// (noFastForward with the message "Merged PR {id}: {title}", or squash;
// deleteSourceBranch deletes the source). Blocking policies that have not
// approved, a draft, or conflicts leave the pull request active with
// completionQueueTime set. A pull request with auto-complete completes as soon
// as nothing blocks it. Auto-complete is set with autoCompleteSetBy {id}
// naming the caller (anyone else: 400 InvalidArgumentValueException) and
// cancelled with the empty identity, id 00000000-0000-0000-0000-000000000000
// (as `az repos pr update --auto-complete false` sends it); abandoning a
// pull request cancels it.
//
// # Not emulated
//
// The rebase merge strategies (rejected with NotSupportedException), forks,
// group (team) votes rolled up from their members, system comment threads the service adds on pushes and
// status changes, pull request iterations beyond counting them for status
// iterationId, the items API, SSH URLs, and YAML template expansion (a preview
// run returns the YAML as written). Permissions: every accepted token may do
// everything.
//
// # Faithfulness checks
//
// The package's tests drive every route through the real client and check
// both successes and the service's errors; TestResponsesMatchTheSpec checks
// every response body against the response schema of its operation in the
// OpenAPI documents (../shared/specs/azure-devops-rest-7.1), strictly: no
// property the spec does not declare, every type, enum and format as
// declared. TestLocationsCoverTheClient reads the location IDs from the
// client's source in the module cache and checks that each is advertised.
package azdo

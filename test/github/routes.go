package githubdouble

import "net/http"

// routes is the REST API the double serves, by GitHub's paths (relative to
// the API root). Anything else answers 404 {"message":"Not Found"}, as
// GitHub does for unknown routes and methods. The installation-token route
// (POST /app/installations/{installation_id}/access_tokens) is answered
// before authentication, outside this table; see serveAccessToken.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for pattern, h := range routeTable() {
		mux.Handle(pattern, handle(h))
	}
	return mux
}

// routeTable maps ServeMux patterns to their handlers. The conformance test
// enumerates it: a route added here without coverage there fails that test.
func routeTable() map[string]func(*call) {
	const r = "/repos/{owner}/{repo}"
	return map[string]func(*call){
		"GET /user":     getAuthenticatedUser,
		"POST /graphql": serveGraphQL,

		"GET " + r: repoRoute("repos/repos#get-a-repository", getRepo),

		"GET " + r + "/git/ref/{ref...}":           repoRoute(docGetRef, getRef),
		"GET " + r + "/git/refs/{ref...}":          repoRoute(docGetRef, listRefs(true)),
		"GET " + r + "/git/matching-refs/{ref...}": repoRoute(docMatchRefs, listRefs(false)),
		"POST " + r + "/git/refs":                  repoRoute(docCreateRef, createRef),
		"PATCH " + r + "/git/refs/{ref...}":        repoRoute(docUpdateRef, updateRef),
		"DELETE " + r + "/git/refs/{ref...}":       repoRoute(docDeleteRef, deleteRef),

		"GET " + r + "/pulls":                   repoRoute(docListPulls, listPulls),
		"POST " + r + "/pulls":                  repoRoute(docCreatePull, createPull),
		"GET " + r + "/pulls/{number}":          repoRoute(docGetPull, getPull),
		"PATCH " + r + "/pulls/{number}":        repoRoute(docUpdatePull, updatePull),
		"GET " + r + "/pulls/{number}/commits":  repoRoute(docPullCommits, listPullCommits),
		"GET " + r + "/pulls/{number}/merge":    repoRoute(docIsMerged, isMerged),
		"PUT " + r + "/pulls/{number}/merge":    repoRoute(docMergePull, mergePull),
		"GET " + r + "/pulls/{number}/reviews":  repoRoute(docListReviews, listReviews),
		"POST " + r + "/pulls/{number}/reviews": repoRoute(docCreateReview, createReview),

		"GET " + r + "/issues/{number}/comments":            repoRoute(docListComments, listComments),
		"POST " + r + "/issues/{number}/comments":           repoRoute(docCreateComment, createComment),
		"PATCH " + r + "/issues/comments/{comment_id}":      repoRoute(docUpdateComment, updateComment),
		"GET " + r + "/issues/{number}/labels":              repoRoute(docListIssueLabels, listIssueLabels),
		"POST " + r + "/issues/{number}/labels":             repoRoute(docAddLabels, addIssueLabels(false)),
		"PUT " + r + "/issues/{number}/labels":              repoRoute(docSetLabels, addIssueLabels(true)),
		"DELETE " + r + "/issues/{number}/labels":           repoRoute(docRemoveAllLabels, removeAllIssueLabels),
		"DELETE " + r + "/issues/{number}/labels/{name...}": repoRoute(docRemoveLabel, removeIssueLabel),
		"GET " + r + "/labels":                              repoRoute(docListRepoLabels, listRepoLabels),
		"POST " + r + "/labels":                             repoRoute(docCreateLabel, createLabel),

		"GET " + r + "/branches/{rest...}":    repoRoute(docGetProtection, branchesRoute),
		"PUT " + r + "/branches/{rest...}":    repoRoute(docUpdateProtection, branchesRoute),
		"DELETE " + r + "/branches/{rest...}": repoRoute(docDeleteProtection, branchesRoute),

		"GET " + r + "/commits/{rest...}":           repoRoute(docCheckRuns, commitsRoute),
		"POST " + r + "/check-runs":                 repoRoute(docCreateCheckRun, createCheckRun),
		"GET " + r + "/check-runs/{check_run_id}":   repoRoute(docGetCheckRun, getCheckRun),
		"PATCH " + r + "/check-runs/{check_run_id}": repoRoute(docUpdateCheckRun, updateCheckRun),
		"POST " + r + "/statuses/{sha}":             repoRoute(docCreateStatus, createStatus),

		"GET " + r + "/hooks":                                              repoRoute(docListHooks, listHooks),
		"POST " + r + "/hooks":                                             repoRoute(docCreateHook, createHook),
		"GET " + r + "/hooks/{hook_id}":                                    repoRoute(docGetHook, getHook),
		"DELETE " + r + "/hooks/{hook_id}":                                 repoRoute(docDeleteHook, deleteHook),
		"GET " + r + "/hooks/{hook_id}/deliveries":                         repoRoute(docListDeliveries, listDeliveries),
		"POST " + r + "/hooks/{hook_id}/deliveries/{delivery_id}/attempts": repoRoute(docRedeliver, redeliverRoute),
	}
}

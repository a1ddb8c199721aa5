package server

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/maestroplusplus/maestro/internal/graph"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// The API routes the status site added: the JSON twins of the site's lists
// that had none (GET /api/flow/subscriptions, /api/flow/graph and
// /api/builds/{id}/graph). The site's pages call these handlers, and
// those of apiroutes.go, through callAPI: a page and its twin are one
// implementation.

// SubscriptionStatus is a subscription with what the flow made of it: its
// channel's name, its flow state (last outcome, last applied build, pending
// work, next due time) and the open dependency pull request that carries
// its updates (GET /api/flow/subscriptions).
type SubscriptionStatus struct {
	maestro.Subscription
	Channel   string             `json:"channel"`
	FlowState registry.FlowState `json:"flowState"`
	// Failing: the last attempt ended in failure or conflict (as the flow
	// graph marks it).
	Failing bool `json:"failing"`
	// PullRequest is the tracked pull request whose updates include this
	// subscription's, if one is open.
	PullRequest *maestro.PullRequest `json:"pullRequest,omitempty"`
}

// apiFlowSubscriptions: GET /api/flow/subscriptions: the subscriptions
// (filtered as GET /api/subscriptions filters them, and by state: failing
// or pending) with their flow state and open pull request.
func (s *Server) apiFlowSubscriptions(r *http.Request) (int, any, error) {
	q, err := query(r, "channelId", "sourceRepository", "targetRepository", "targetBranch", "state")
	if err != nil {
		return 0, nil, err
	}
	state := q["state"]
	if state != "" && state != "failing" && state != "pending" {
		return 0, nil, invalidf("state %q: use failing or pending", state)
	}
	f := registry.SubscriptionFilter{SourceRepository: q["sourceRepository"], TargetRepository: q["targetRepository"], TargetBranch: q["targetBranch"]}
	if f.ChannelID, err = intParam("channelId", q["channelId"], 1, 0); err != nil {
		return 0, nil, err
	}
	chans, err := s.reg.Channels(r.Context())
	if err != nil {
		return 0, nil, err
	}
	names := map[int]string{}
	for _, c := range chans {
		names[c.ID] = c.Name
	}
	if f.ChannelID != 0 && names[f.ChannelID] == "" {
		return 0, nil, invalidf("channelId %d: no such channel; GET /api/channels lists them", f.ChannelID)
	}
	subs, err := s.reg.Subscriptions(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	prs, err := callAPI[[]TrackedPullRequest](s.apiPullRequests, r, nil, nil)
	if err != nil {
		return 0, nil, err
	}
	open := map[string]*maestro.PullRequest{}
	for i := range prs {
		for _, u := range prs[i].Updates {
			open[u.SubscriptionID] = &prs[i].PullRequest
		}
	}
	out := []SubscriptionStatus{}
	for _, sub := range subs {
		st, _, err := s.reg.FlowState(r.Context(), sub.ID)
		if err != nil {
			return 0, nil, err
		}
		ss := SubscriptionStatus{Subscription: sub, Channel: names[sub.ChannelID], FlowState: st, PullRequest: open[sub.ID],
			Failing: st.LastResult == maestro.ResultFailure || st.LastResult == maestro.ResultConflict}
		if ss.ExcludedAssets == nil {
			ss.ExcludedAssets = []string{}
		}
		if state == "failing" && !ss.Failing || state == "pending" && st.Pending == nil {
			continue
		}
		out = append(out, ss)
	}
	slices.SortFunc(out, func(a, b SubscriptionStatus) int {
		return cmp.Or(cmp.Compare(a.SourceRepository, b.SourceRepository), cmp.Compare(a.TargetRepository, b.TargetRepository),
			cmp.Compare(a.TargetBranch, b.TargetBranch), cmp.Compare(a.ChannelID, b.ChannelID), cmp.Compare(a.ID, b.ID))
	})
	return http.StatusOK, out, nil
}

// apiBuildGraph: GET /api/builds/{id}/graph (maestro graph build --id N
// --format json): the build's dependency graph from the dependencies
// recorded at publish, with conflicts and newer builds.
func (s *Server) apiBuildGraph(r *http.Request) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	q, err := query(r, "depth")
	if err != nil {
		return 0, nil, err
	}
	depth, err := intParam("depth", q["depth"], 0, 0)
	if err != nil {
		return 0, nil, err
	}
	g, err := graph.BuildDependencies(r.Context(), s.reg, id, depth, s.now())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, g, nil
}

// apiFlowGraph: GET /api/flow/graph (maestro graph flow --format json):
// repositories and the subscriptions between them, failing ones and
// cycles marked.
func (s *Server) apiFlowGraph(r *http.Request) (int, any, error) {
	q, err := query(r, "channelId")
	if err != nil {
		return 0, nil, err
	}
	ch, err := intParam("channelId", q["channelId"], 1, 0)
	if err != nil {
		return 0, nil, err
	}
	if ch != 0 {
		if _, err := s.reg.Channel(r.Context(), ch); err != nil {
			return 0, nil, asInvalid("channelId", err)
		}
	}
	g, err := graph.FlowSubscriptions(r.Context(), s.reg, ch)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, g, nil
}

// callAPI runs the API handler h for the site on a copy of r with the
// query q and the path values path, and returns its value as T. The page
// renders what the API would answer.
func callAPI[T any](h apiHandler, r *http.Request, q url.Values, path map[string]string) (T, error) {
	var zero T
	req := r.Clone(r.Context())
	u := *r.URL
	u.RawQuery = q.Encode()
	req.URL = &u
	req.Body = http.NoBody
	req.ContentLength = 0
	req.Header = http.Header{}
	for k, v := range path {
		req.SetPathValue(k, v)
	}
	_, v, err := h(req)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("site: the API answered %T where the page expects %T", v, zero)
	}
	return t, nil
}

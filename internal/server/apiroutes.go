package server

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/service"
)

// The API's handlers. Each calls the registry or flow service function the
// matching command calls (named beside it) and answers the value that
// command prints with --output json.

// apiBuilds: GET /api/builds (maestro build list).
func (s *Server) apiBuilds(r *http.Request) (int, any, error) {
	q, err := query(r, "repository", "commit", "channelId", "limit", "before")
	if err != nil {
		return 0, nil, err
	}
	f := registry.BuildFilter{Repository: q["repository"], Commit: q["commit"]}
	if f.ChannelID, err = intParam("channelId", q["channelId"], 1, 0); err != nil {
		return 0, nil, err
	}
	if f.Limit, err = limitParam(q["limit"], 50); err != nil {
		return 0, nil, err
	}
	if f.Before, err = intParam("before", q["before"], 1, 0); err != nil {
		return 0, nil, err
	}
	if f.ChannelID != 0 {
		if _, err := s.reg.Channel(r.Context(), f.ChannelID); err != nil {
			return 0, nil, asInvalid("channelId", err)
		}
	}
	bs, err := s.reg.Builds(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nonNil(bs), nil
}

// apiLatestBuild: GET /api/builds/latest (maestro build latest).
func (s *Server) apiLatestBuild(r *http.Request) (int, any, error) {
	q, err := query(r, "repository", "channelId")
	if err != nil {
		return 0, nil, err
	}
	if q["repository"] == "" {
		return 0, nil, invalidf("query parameter repository is required: the repository URL")
	}
	ch, err := intParam("channelId", q["channelId"], 1, 0)
	if err != nil {
		return 0, nil, err
	}
	b, err := s.reg.LatestBuild(r.Context(), q["repository"], ch)
	if maestro.KindOf(err) == maestro.KindNotFound && ch != 0 {
		// No build: is it the channel that does not exist? (Checked
		// only then, to keep the common answer to one channels read.)
		if _, cerr := s.reg.Channel(r.Context(), ch); cerr != nil {
			return 0, nil, asInvalid("channelId", cerr)
		}
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, b, nil
}

// apiBuild: GET /api/builds/{id} (maestro build show): an official or a
// speculative build (an id from registry.SpeculativeIDBase up).
func (s *Server) apiBuild(r *http.Request) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if _, err := query(r); err != nil {
		return 0, nil, err
	}
	b, err := s.reg.AnyBuild(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, b, nil
}

// apiAssets: GET /api/assets (maestro asset find).
func (s *Server) apiAssets(r *http.Request) (int, any, error) {
	q, err := query(r, "name", "version", "limit")
	if err != nil {
		return 0, nil, err
	}
	if q["name"] == "" {
		return 0, nil, invalidf("query parameter name is required: the asset name")
	}
	limit, err := limitParam(q["limit"], 20)
	if err != nil {
		return 0, nil, err
	}
	ms, err := s.reg.FindAssets(r.Context(), q["name"], q["version"], limit)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nonNil(ms), nil
}

// apiChannels: GET /api/channels (maestro channel list).
func (s *Server) apiChannels(r *http.Request) (int, any, error) {
	if _, err := query(r); err != nil {
		return 0, nil, err
	}
	chs, err := s.reg.Channels(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nonNil(chs), nil
}

// apiChannel: GET /api/channels/{id}.
func (s *Server) apiChannel(r *http.Request) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	ch, err := s.reg.Channel(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ch, nil
}

// channelRequest is the body of POST /api/channels.
type channelRequest struct {
	Name           string `json:"name"`
	Classification string `json:"classification"`
}

// apiAddChannel: POST /api/channels (maestro channel add).
func (s *Server) apiAddChannel(r *http.Request) (int, any, error) {
	data, err := readBody(r, false)
	if err != nil {
		return 0, nil, err
	}
	req := channelRequest{Classification: "dev"}
	if err := decodeStrict(data, &req); err != nil {
		return 0, nil, err
	}
	ch, err := s.reg.AddChannel(r.Context(), req.Name, req.Classification)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, ch, nil
}

// apiDeleteChannel: DELETE /api/channels/{id} (maestro channel delete).
func (s *Server) apiDeleteChannel(r *http.Request) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := s.reg.DeleteChannel(r.Context(), id); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// apiDefaultChannels: GET /api/default-channels (maestro default-channel list).
func (s *Server) apiDefaultChannels(r *http.Request) (int, any, error) {
	q, err := query(r, "repository")
	if err != nil {
		return 0, nil, err
	}
	dcs, err := s.reg.DefaultChannels(r.Context())
	if err != nil {
		return 0, nil, err
	}
	out := []maestro.DefaultChannel{}
	for _, dc := range dcs {
		if q["repository"] == "" || repourl.Equal(dc.Repository, q["repository"]) {
			out = append(out, dc)
		}
	}
	return http.StatusOK, out, nil
}

// defaultChannelRequest is the body of POST /api/default-channels.
type defaultChannelRequest struct {
	Repository string `json:"repository"`
	Branch     string `json:"branch"`
	ChannelID  int    `json:"channelId"`
	Enabled    *bool  `json:"enabled"`
}

// apiAddDefaultChannel: POST /api/default-channels (maestro default-channel add).
func (s *Server) apiAddDefaultChannel(r *http.Request) (int, any, error) {
	data, err := readBody(r, false)
	if err != nil {
		return 0, nil, err
	}
	var req defaultChannelRequest
	if err := decodeStrict(data, &req); err != nil {
		return 0, nil, err
	}
	dc, err := s.reg.AddDefaultChannel(r.Context(), maestro.DefaultChannel{
		Repository: req.Repository, Branch: req.Branch, ChannelID: req.ChannelID, Enabled: req.Enabled == nil || *req.Enabled,
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, dc, nil
}

// apiPatchDefaultChannel: PATCH /api/default-channels/{id} {"enabled": bool}
// (maestro default-channel enable, disable).
func (s *Server) apiPatchDefaultChannel(r *http.Request) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	data, err := readBody(r, false)
	if err != nil {
		return 0, nil, err
	}
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeStrict(data, &req); err != nil {
		return 0, nil, err
	}
	if req.Enabled == nil {
		return 0, nil, invalidf("request body: give enabled (true or false); it is the one field that changes")
	}
	if err := s.reg.SetDefaultChannelEnabled(r.Context(), id, *req.Enabled); err != nil {
		return 0, nil, err
	}
	dcs, err := s.reg.DefaultChannels(r.Context())
	if err != nil {
		return 0, nil, err
	}
	for _, dc := range dcs {
		if dc.ID == id {
			return http.StatusOK, dc, nil
		}
	}
	return 0, nil, maestro.Errorf(maestro.KindNotFound, "default channel %d was deleted meanwhile", id)
}

// apiDeleteDefaultChannel: DELETE /api/default-channels/{id} (maestro default-channel delete).
func (s *Server) apiDeleteDefaultChannel(r *http.Request) (int, any, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	if err := s.reg.DeleteDefaultChannel(r.Context(), id); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// apiSubscriptions: GET /api/subscriptions (maestro subscription list).
func (s *Server) apiSubscriptions(r *http.Request) (int, any, error) {
	q, err := query(r, "channelId", "sourceRepository", "targetRepository", "targetBranch")
	if err != nil {
		return 0, nil, err
	}
	f := registry.SubscriptionFilter{SourceRepository: q["sourceRepository"], TargetRepository: q["targetRepository"], TargetBranch: q["targetBranch"]}
	if f.ChannelID, err = intParam("channelId", q["channelId"], 1, 0); err != nil {
		return 0, nil, err
	}
	subs, err := s.reg.Subscriptions(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nonNil(subs), nil
}

// subscriptionWithState is a subscription with its flow state, as
// `maestro subscription show --output json` prints it.
type subscriptionWithState struct {
	maestro.Subscription
	FlowState registry.FlowState `json:"flowState"`
}

// apiSubscription: GET /api/subscriptions/{id} (maestro subscription show).
func (s *Server) apiSubscription(r *http.Request) (int, any, error) {
	sub, err := s.reg.Subscription(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	st, _, err := s.reg.FlowState(r.Context(), sub.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, subscriptionWithState{sub, st}, nil
}

// Subscription fields the API never takes: the server assigns the id, and
// the flow records the last applied build.
var fixedSubscriptionFields = []string{"id", "lastAppliedBuildId"}

// apiAddSubscription: POST /api/subscriptions, a subscription's JSON
// without id (maestro subscription add). enabled defaults to true,
// policy.updateFrequency to everyDay as for the command.
func (s *Server) apiAddSubscription(r *http.Request) (int, any, error) {
	data, err := readBody(r, false)
	if err != nil {
		return 0, nil, err
	}
	if err := refuseFields(data, fixedSubscriptionFields); err != nil {
		return 0, nil, err
	}
	sub := maestro.Subscription{Enabled: true, ExcludedAssets: []string{}}
	if err := decodeStrict(data, &sub); err != nil {
		return 0, nil, err
	}
	if sub.ExcludedAssets == nil {
		sub.ExcludedAssets = []string{}
	}
	sub, err = s.reg.AddSubscription(r.Context(), sub)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, sub, nil
}

// apiPatchSubscription: PATCH /api/subscriptions/{id}, a JSON merge patch
// (RFC 7396) of the subscription (maestro subscription update, enable,
// disable): the fields given change, the others stay.
func (s *Server) apiPatchSubscription(r *http.Request) (int, any, error) {
	data, err := readBody(r, false)
	if err != nil {
		return 0, nil, err
	}
	var patch map[string]any
	if err := json.Unmarshal(data, &patch); err != nil || patch == nil {
		return 0, nil, invalidf("request body: a JSON object of the fields to change (a merge patch)")
	}
	if err := refuseFields(data, fixedSubscriptionFields); err != nil {
		return 0, nil, err
	}
	// Check the patch's fields and types before reading anything.
	var probe maestro.Subscription
	if err := decodeStrict(data, &probe); err != nil {
		return 0, nil, err
	}
	sub, err := s.reg.UpdateSubscription(r.Context(), r.PathValue("id"), func(sub *maestro.Subscription) error {
		cur, err := json.Marshal(sub)
		if err != nil {
			return err
		}
		var doc any
		if err := json.Unmarshal(cur, &doc); err != nil {
			return err
		}
		merged, err := json.Marshal(mergePatch(doc, patch))
		if err != nil {
			return err
		}
		var next maestro.Subscription
		if err := decodeStrict(merged, &next); err != nil {
			return err
		}
		if next.ExcludedAssets == nil {
			next.ExcludedAssets = []string{}
		}
		*sub = next
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, sub, nil
}

// mergePatch applies a JSON merge patch (RFC 7396) to target.
func mergePatch(target any, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// refuseFields refuses a JSON object that sets any of fields.
func refuseFields(data []byte, fields []string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return invalidf("request body: a JSON object: %v", err)
	}
	for _, f := range fields {
		if _, ok := m[f]; ok {
			return invalidf("request body: %s cannot be set", f)
		}
	}
	return nil
}

// apiDeleteSubscription: DELETE /api/subscriptions/{id} (maestro subscription delete).
func (s *Server) apiDeleteSubscription(r *http.Request) (int, any, error) {
	if err := s.reg.DeleteSubscription(r.Context(), r.PathValue("id")); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// triggerRequest is the optional body of POST /api/subscriptions/{id}/trigger.
type triggerRequest struct {
	BuildID int  `json:"buildId"`
	Force   bool `json:"force"`
}

// apiTrigger: POST /api/subscriptions/{id}/trigger (maestro subscription
// trigger): flows a build through the subscription now and answers the
// recorded outcome.
func (s *Server) apiTrigger(r *http.Request) (int, any, error) {
	data, err := readBody(r, true)
	if err != nil {
		return 0, nil, err
	}
	var req triggerRequest
	if len(data) > 0 {
		if err := decodeStrict(data, &req); err != nil {
			return 0, nil, err
		}
	}
	if req.BuildID < 0 {
		return 0, nil, invalidf("buildId %d: a BAR build id, or 0 for the newest in the subscription's channel", req.BuildID)
	}
	out, err := s.svc.Trigger(r.Context(), service.TriggerRequest{SubscriptionID: r.PathValue("id"), BuildID: req.BuildID, Force: req.Force})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

// apiRepositoryPolicies: GET /api/repository-policies (maestro repository-policy list).
func (s *Server) apiRepositoryPolicies(r *http.Request) (int, any, error) {
	if _, err := query(r); err != nil {
		return 0, nil, err
	}
	ps, err := s.reg.RepositoryPolicies(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nonNil(ps), nil
}

// repositoryBranch reads the repository and branch query parameters, both
// required.
func repositoryBranch(r *http.Request) (string, string, error) {
	q, err := query(r, "repository", "branch")
	if err != nil {
		return "", "", err
	}
	if q["repository"] == "" || q["branch"] == "" {
		return "", "", invalidf("query parameters repository and branch are required")
	}
	return q["repository"], q["branch"], nil
}

// apiRepositoryPolicy: GET /api/repository-policy?repository=&branch=
// (maestro repository-policy get).
func (s *Server) apiRepositoryPolicy(r *http.Request) (int, any, error) {
	repo, branch, err := repositoryBranch(r)
	if err != nil {
		return 0, nil, err
	}
	p, err := s.reg.RepositoryPolicy(r.Context(), repo, branch)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, p, nil
}

// apiSetRepositoryPolicy: PUT /api/repository-policy, the whole policy
// (maestro repository-policy set): fields left out take their defaults.
func (s *Server) apiSetRepositoryPolicy(r *http.Request) (int, any, error) {
	data, err := readBody(r, false)
	if err != nil {
		return 0, nil, err
	}
	p := maestro.RepositoryBranchPolicy{AutoMerge: true, MergeMethod: maestro.MergeMethodSquash, MergePolicies: []maestro.MergePolicy{}}
	if err := decodeStrict(data, &p); err != nil {
		return 0, nil, err
	}
	if p.MergePolicies == nil {
		p.MergePolicies = []maestro.MergePolicy{}
	}
	if err := s.reg.SetRepositoryPolicy(r.Context(), p); err != nil {
		return 0, nil, err
	}
	p, err = s.reg.RepositoryPolicy(r.Context(), p.Repository, p.Branch)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, p, nil
}

// apiDeleteRepositoryPolicy: DELETE /api/repository-policy?repository=&branch=
// (maestro repository-policy delete).
func (s *Server) apiDeleteRepositoryPolicy(r *http.Request) (int, any, error) {
	repo, branch, err := repositoryBranch(r)
	if err != nil {
		return 0, nil, err
	}
	if err := s.reg.DeleteRepositoryPolicy(r.Context(), repo, branch); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// apiHistory: GET /api/flow/history (maestro flow history).
func (s *Server) apiHistory(r *http.Request) (int, any, error) {
	q, err := query(r, "subscriptionId", "buildId")
	if err != nil {
		return 0, nil, err
	}
	f := registry.OutcomeFilter{SubscriptionID: q["subscriptionId"]}
	if f.BuildID, err = intParam("buildId", q["buildId"], 1, 0); err != nil {
		return 0, nil, err
	}
	if f.SubscriptionID == "" && f.BuildID == 0 {
		return 0, nil, invalidf("give subscriptionId, buildId or both")
	}
	outcomes, err := s.svc.History(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nonNil(outcomes), nil
}

// apiExplain: GET /api/flow/explain/{buildId} (maestro flow explain). It
// clones each target branch, so it takes seconds, and runs within the
// replica's bound of such requests (cloneSlot).
func (s *Server) apiExplain(r *http.Request) (int, any, error) {
	id, err := pathID(r, "buildId")
	if err != nil {
		return 0, nil, err
	}
	release, err := s.cloneSlot(r.Context())
	if err != nil {
		return 0, nil, err
	}
	defer release()
	ex, err := s.svc.Explain(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ex, nil
}

// Health limits the API uses when the query names none: those of
// `maestro flow health`.
var defaultHealthLimits = flow.HealthLimits{Failures: 3, PullRequestAge: 7 * 24 * time.Hour, PendingAge: 24 * time.Hour, Unused: 5, MirrorAge: 24 * time.Hour}

// apiHealth: GET /api/flow/health (maestro flow health): the problems that
// keep dependencies from flowing; an empty list is healthy. It clones
// every target branch, within the replica's bound of such requests
// (cloneSlot); the site's health page answers through it.
func (s *Server) apiHealth(r *http.Request) (int, any, error) {
	q, err := query(r, "failures", "prAge", "pendingAge", "unused", "mirrorAge")
	if err != nil {
		return 0, nil, err
	}
	lim := defaultHealthLimits
	if lim.Failures, err = intParam("failures", q["failures"], 1, lim.Failures); err != nil {
		return 0, nil, err
	}
	if lim.Unused, err = intParam("unused", q["unused"], 1, lim.Unused); err != nil {
		return 0, nil, err
	}
	if lim.PullRequestAge, err = durationParam("prAge", q["prAge"], lim.PullRequestAge); err != nil {
		return 0, nil, err
	}
	if lim.PendingAge, err = durationParam("pendingAge", q["pendingAge"], lim.PendingAge); err != nil {
		return 0, nil, err
	}
	if lim.MirrorAge, err = durationParam("mirrorAge", q["mirrorAge"], lim.MirrorAge); err != nil {
		return 0, nil, err
	}
	release, err := s.cloneSlot(r.Context())
	if err != nil {
		return 0, nil, err
	}
	defer release()
	problems, err := s.svc.Health(r.Context(), s.now(), lim)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nonNil(problems), nil
}

// TrackedPullRequest is one dependency pull request the flow keeps open,
// with where its merge policy evaluation stands (GET /api/pull-requests).
type TrackedPullRequest struct {
	maestro.TrackedPullRequest
	// Key is the tracking key: a subscription id, or "batched".
	Key string `json:"key"`
	// Policies are the merge policy results on EvaluatedHead, the head
	// commit judged last; Merge and MergeMessage what became of merging.
	Policies      []maestro.PolicyResult `json:"policies"`
	EvaluatedHead string                 `json:"evaluatedHead,omitempty"`
	Merge         string                 `json:"merge,omitempty"`
	MergeMessage  string                 `json:"mergeMessage,omitempty"`
	LastCheck     time.Time              `json:"lastCheck,omitzero"`
	NextCheck     time.Time              `json:"nextCheck,omitzero"`
}

// apiPullRequests: GET /api/pull-requests: the tracked dependency pull
// requests with their policy state, as `maestro pr check` and the server's
// re-checks left it (registry.TrackedForCheck).
func (s *Server) apiPullRequests(r *http.Request) (int, any, error) {
	q, err := query(r, "repository")
	if err != nil {
		return 0, nil, err
	}
	entries, _, err := s.reg.TrackedForCheck(r.Context(), s.now(), true)
	if err != nil {
		return 0, nil, err
	}
	out := []TrackedPullRequest{}
	for _, e := range entries {
		if q["repository"] != "" && !repourl.Equal(e.Repository, q["repository"]) {
			continue
		}
		t := TrackedPullRequest{TrackedPullRequest: e.Record, Key: e.Key, Policies: []maestro.PolicyResult{},
			LastCheck: e.Scheduled.LastCheck, NextCheck: e.Scheduled.NextCheck}
		if t.Updates == nil {
			t.Updates = []maestro.SubscriptionUpdate{}
		}
		if ev := e.Evaluation; ev.Number == e.Record.PullRequest.Number {
			t.EvaluatedHead, t.Merge, t.MergeMessage = ev.HeadCommit, ev.Merge, ev.MergeMessage
			if ev.Policies != nil {
				t.Policies = ev.Policies
			}
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b TrackedPullRequest) int {
		return cmp.Or(cmp.Compare(a.PullRequest.Repository, b.PullRequest.Repository), cmp.Compare(a.PullRequest.Number, b.PullRequest.Number))
	})
	return http.StatusOK, out, nil
}

// asInvalid makes a missing object named by a query parameter bad input, as
// the commands do for a --channel that names nothing.
func asInvalid(param string, err error) error {
	if maestro.KindOf(err) == maestro.KindNotFound {
		return maestro.Errorf(maestro.KindInvalid, "%s: %w", param, err)
	}
	return err
}

// nonNil is a list that encodes as [] when empty.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

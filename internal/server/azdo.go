package server

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	azgit "github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/manifest"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/speculative"
)

// Azure DevOps service hooks: POST /webhooks/azure-devops takes the "Web
// Hooks" consumer's deliveries. A delivery is authenticated by HTTP Basic
// authentication whose password is the shared secret (any user name), or
// by the header X-Maestro-Hook-Secret holding it; both are compared in
// constant time, before the body is read. The event's id de-duplicates it
// in the store (events/azdo/{id}.json, as GitHub deliveries are), so the
// same event delivered twice, to any replica, is processed once.
//
// Events acted on:
//   - build.complete and ms.vss-pipelines.run-state-changed-event: the
//     package-publish trigger. A build that succeeded or partially
//     succeeded, of a pipeline opted in (`maestro publish-trigger set`),
//     is read back from the Builds API, its AssetManifests artifact
//     downloaded and published as `maestro publish` would publish it in
//     the build's job (service.PipelineBuild, registry.PublishBuild:
//     same validation, idempotent on the Azure DevOps build, default
//     channels), and flowed.
//   - git.pullrequest.updated and git.pullrequest.merged: re-check the
//     tracked dependency pull request now, as GitHub's pull_request event
//     does.
//
// Other event types are acknowledged with 200, counted and not recorded.

const (
	routeAzureDevOps  = "/webhooks/azure-devops"
	sourceAzureDevOps = "azdo"
	// HeaderHookSecret is the header a service hook may carry the shared
	// secret in (the subscription's "HTTP headers" setting), instead of
	// Basic authentication.
	HeaderHookSecret = "X-Maestro-Hook-Secret"
	// maxAzureDevOpsPayload bounds a delivery's body.
	maxAzureDevOpsPayload = 25 << 20
)

// Azure DevOps event types the server acts on.
const (
	EventBuildComplete   = "build.complete"
	EventRunStateChanged = "ms.vss-pipelines.run-state-changed-event"
	EventPRUpdated       = "git.pullrequest.updated"
	EventPRMerged        = "git.pullrequest.merged"
)

// EnvAzureDevOpsHookSecret holds the service hooks' shared secret.
const EnvAzureDevOpsHookSecret = "MAESTRO_AZDO_HOOK_SECRET"

// AzureDevOpsConfig configures POST /webhooks/azure-devops.
type AzureDevOpsConfig struct {
	// Hooks enables the route.
	Hooks bool
	// HookSecret authenticates deliveries; required when Hooks.
	HookSecret string
}

// azdoFileConfig is the azureDevOps section of the configuration file.
type azdoFileConfig struct {
	Hooks      *bool  `yaml:"hooks"`
	HookSecret string `yaml:"hookSecret"`
}

func (f azdoFileConfig) apply(c *AzureDevOpsConfig) {
	if f.Hooks != nil {
		c.Hooks = *f.Hooks
	}
	c.HookSecret = f.HookSecret
}

func (c *AzureDevOpsConfig) applyEnv(getenv func(string) string) {
	if s := getenv(EnvAzureDevOpsHookSecret); s != "" {
		c.HookSecret = s
	}
}

func (c AzureDevOpsConfig) validate() error {
	if c.Hooks && c.HookSecret == "" {
		return maestro.Errorf(maestro.KindInvalid, "the Azure DevOps service hook route is enabled but has no secret: set %s (or azureDevOps.hookSecret in the configuration file) to the secret the service hooks send (Basic authentication password, or the %s header); deliveries are never taken unauthenticated", EnvAzureDevOpsHookSecret, HeaderHookSecret)
	}
	return nil
}

// AzureDevOpsHosts is what the publish trigger needs of the composition
// root (service/wire.Env): a connection to an organization with the
// configured token, and the hosts a published build's mirror goes through.
type AzureDevOpsHosts interface {
	service.MirrorHosts
	AzureDevOps(organization string) (*azuredevops.Connection, error)
}

// azdoState is the Azure DevOps side of a server.
type azdoState struct {
	hosts AzureDevOpsHosts

	mu       sync.Mutex
	received map[EventCount]int
}

// EventCount is a number of events received by source, type and result.
type EventCount struct {
	Source string // "azdo"
	Type   string // the event type, "" when the delivery had none
	// Result: accepted, duplicate (accepted before), ignored (a type the
	// server does not act on), invalid (400), unauthorized (401),
	// unavailable (the store failed).
	Result string
}

// WithAzureDevOps sets the hosts the publish trigger reads builds from;
// without it, build events fail (and are retried) saying so.
func WithAzureDevOps(h AzureDevOpsHosts) Option { return func(s *Server) { s.azdo.hosts = h } }

// EventsReceived returns the Azure DevOps events received so far by type
// and result, in a stable order (for /metrics).
func (s *Server) EventsReceived() map[EventCount]int {
	s.azdo.mu.Lock()
	defer s.azdo.mu.Unlock()
	out := make(map[EventCount]int, len(s.azdo.received))
	for k, v := range s.azdo.received {
		out[k] = v
	}
	return out
}

// countAzDOEvent counts a delivery here and in
// maestro_events_received_total (where unauthorized is "rejected" and
// unavailable "failed", as for every route).
func (s *Server) countAzDOEvent(typ, result string) {
	if len(typ) > 100 {
		typ = typ[:100]
	}
	metric := result
	switch result {
	case "unauthorized":
		metric = EventRejected
	case "unavailable":
		metric = EventFailed
	}
	s.countEvent(sourceAzureDevOps, typ, metric)
	s.azdo.mu.Lock()
	defer s.azdo.mu.Unlock()
	if s.azdo.received == nil {
		s.azdo.received = map[EventCount]int{}
	}
	s.azdo.received[EventCount{Source: sourceAzureDevOps, Type: typ, Result: result}]++
}

// authorized checks a delivery's Basic password or secret header against
// the secret in constant time (both hashed first, so lengths do not show).
func (s *Server) azdoAuthorized(r *http.Request) bool {
	var given string
	if _, pw, ok := r.BasicAuth(); ok {
		given = pw
	} else if h := r.Header.Get(HeaderHookSecret); h != "" {
		given = h
	} else {
		return false
	}
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(s.cfg.AzureDevOps.HookSecret))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// azureDevOpsHook answers POST /webhooks/azure-devops: authentication
// first (401 and nothing read otherwise), then the payload's shape (400),
// then an event it acts on is recorded in the store and answered 202; an
// event id accepted before answers 200 and changes nothing; other event
// types answer 200 and are not recorded.
func (s *Server) azureDevOpsHook(w http.ResponseWriter, r *http.Request) {
	if !s.azdoAuthorized(r) {
		s.countAzDOEvent("", "unauthorized")
		s.log.Warn("Azure DevOps delivery refused: no or wrong credentials", "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Basic realm="maestro service hooks"`)
		message(w, http.StatusUnauthorized, "authenticate with Basic authentication (the password is the service hook secret) or the "+HeaderHookSecret+" header")
		return
	}
	// Service hooks (Web Hooks) post JSON: application/json; charset=utf-8.
	if refuseMediaType(w, r, "an Azure DevOps service hook", "application/json") {
		s.countAzDOEvent("", "invalid")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAzureDevOpsPayload)
	var body bytes.Buffer
	if _, err := body.ReadFrom(r.Body); err != nil {
		// Authenticated, but no payload to act on: invalid, as a payload
		// of the wrong shape is.
		s.countAzDOEvent("", "invalid")
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			message(w, http.StatusRequestEntityTooLarge, "payload larger than 25 MB")
			return
		}
		message(w, http.StatusBadRequest, "read the payload: "+err.Error())
		return
	}
	payload := body.Bytes()
	env, err := parseAzureDevOpsEnvelope(payload)
	if err != nil {
		s.countAzDOEvent("", "invalid")
		message(w, http.StatusBadRequest, err.Error())
		return
	}
	if !azdoActedOn(env.EventType) {
		s.countAzDOEvent(env.EventType, "ignored")
		message(w, http.StatusOK, fmt.Sprintf("event %q acknowledged; maestro does not act on it", env.EventType))
		return
	}
	target, err := parseAzureDevOps(env)
	if err != nil {
		s.countAzDOEvent(env.EventType, "invalid")
		message(w, http.StatusBadRequest, err.Error())
		return
	}
	// Events of one pull request's repository, or of one pipeline, are
	// processed one at a time in the order received (ordering.go).
	var key string
	switch t := target.(type) {
	case azdoPRTarget:
		key = orderKey(t.Repositories[0])
	case azdoBuildTarget:
		key = orderKey(t.Organization + "/_build?definitionId=" + strconv.Itoa(t.DefinitionID))
	}
	accepted, err := s.reg.AcceptEvent(r.Context(), registry.Event{Source: sourceAzureDevOps, Delivery: env.ID, Type: env.EventType, Payload: payload, OrderKey: key})
	if err != nil {
		s.countAzDOEvent(env.EventType, "unavailable")
		s.log.Error("Azure DevOps event not recorded", "id", env.ID, "event", env.EventType, "error", err)
		code := http.StatusServiceUnavailable
		if maestro.KindOf(err) == maestro.KindInvalid {
			code = http.StatusBadRequest
		}
		message(w, code, "event not recorded; Azure DevOps retries the delivery")
		return
	}
	if !accepted {
		s.countAzDOEvent(env.EventType, "duplicate")
		message(w, http.StatusOK, "event "+env.ID+" was accepted before")
		return
	}
	s.countAzDOEvent(env.EventType, "accepted")
	s.wake()
	message(w, http.StatusAccepted, "accepted")
}

func azdoActedOn(eventType string) bool {
	switch eventType {
	case EventBuildComplete, EventRunStateChanged, EventPRUpdated, EventPRMerged:
		return true
	}
	return false
}

// azdoEnvelope is a service hook event (the Event of the service hooks
// REST API).
type azdoEnvelope struct {
	ID                 string                       `json:"id"`
	EventType          string                       `json:"eventType"`
	PublisherID        string                       `json:"publisherId"`
	Resource           json.RawMessage              `json:"resource"`
	ResourceVersion    string                       `json:"resourceVersion"`
	ResourceContainers map[string]azdoContainerInfo `json:"resourceContainers"`
}

type azdoContainerInfo struct {
	ID      string `json:"id"`
	BaseURL string `json:"baseUrl"`
}

// parseAzureDevOpsEnvelope reads the event around the resource: a JSON
// object with an id (a GUID) and an eventType.
func parseAzureDevOpsEnvelope(payload []byte) (azdoEnvelope, error) {
	var env azdoEnvelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return env, fmt.Errorf("payload is not a service hook event (a JSON object with id, eventType and resource): %v", err)
	}
	if env.EventType == "" {
		return env, errors.New("payload has no eventType")
	}
	if _, err := uuid.Parse(env.ID); err != nil || registry.ValidateEventID(env.ID) != nil {
		return env, fmt.Errorf("payload id %q is not the event's GUID", env.ID)
	}
	return env, nil
}

// azdoBuildTarget is what a build event says about a build.
type azdoBuildTarget struct {
	Organization string   // the organization's URL, without a trailing slash
	Projects     []string // the project's name and/or id
	BuildID      int
	DefinitionID int
	Completed    bool
	Result       string // succeeded, partiallySucceeded, failed, canceled
	Reason       string // the build's reason (build.complete only): pullRequest, individualCI, ...
}

// azdoPRTarget is what a pull request event says about a pull request.
type azdoPRTarget struct {
	Repositories []string // the repository's URLs
	Number       int
	Commit       string
	Status       string // active, completed, abandoned
}

// parseAzureDevOps reads the target of an event acted on from its resource
// (resource details "All" and resource containers, as the Web Hooks
// consumer sends them by default).
func parseAzureDevOps(env azdoEnvelope) (any, error) {
	where := env.EventType + " payload"
	if len(env.Resource) == 0 || string(env.Resource) == "null" {
		return nil, fmt.Errorf("%s: no resource; set the subscription's resource details to send to All", where)
	}
	org := ""
	for _, k := range []string{"collection", "account"} {
		if c, ok := env.ResourceContainers[k]; ok && c.BaseURL != "" {
			org = strings.TrimRight(c.BaseURL, "/")
			break
		}
	}
	switch env.EventType {
	case EventBuildComplete:
		var b build.Build
		if err := json.Unmarshal(env.Resource, &b); err != nil {
			return nil, fmt.Errorf("%s: resource is not a build: %v", where, err)
		}
		t := azdoBuildTarget{Organization: org, BuildID: deref(b.Id)}
		if b.Definition != nil {
			t.DefinitionID = deref(b.Definition.Id)
		}
		if b.Project != nil {
			t.Projects = nonEmpty(deref(b.Project.Name))
			if b.Project.Id != nil {
				t.Projects = append(t.Projects, b.Project.Id.String())
			}
		}
		if b.Status != nil {
			t.Completed = *b.Status == build.BuildStatusValues.Completed
		}
		if b.Result != nil {
			t.Result = string(*b.Result)
		}
		if b.Reason != nil {
			t.Reason = string(*b.Reason)
		}
		return t, checkBuildTarget(where, t, "resource.id", "resource.definition.id", "resource.project")
	case EventRunStateChanged:
		var res struct {
			Run *struct {
				ID       int    `json:"id"`
				State    string `json:"state"`
				Result   string `json:"result"`
				Pipeline *struct {
					ID int `json:"id"`
				} `json:"pipeline"`
			} `json:"run"`
			RunID      int `json:"runId"`
			PipelineID int `json:"pipelineId"`
		}
		if err := json.Unmarshal(env.Resource, &res); err != nil {
			return nil, fmt.Errorf("%s: resource is not a run: %v", where, err)
		}
		if res.Run == nil {
			return nil, fmt.Errorf("%s: resource.run is missing", where)
		}
		t := azdoBuildTarget{Organization: org, BuildID: res.Run.ID, DefinitionID: res.PipelineID,
			Completed: res.Run.State == "completed", Result: res.Run.Result}
		if t.DefinitionID == 0 && res.Run.Pipeline != nil {
			t.DefinitionID = res.Run.Pipeline.ID
		}
		if p, ok := env.ResourceContainers["project"]; ok {
			t.Projects = nonEmpty(p.ID)
		}
		return t, checkBuildTarget(where, t, "resource.run.id", "resource.pipelineId", "resourceContainers.project.id")
	case EventPRUpdated, EventPRMerged:
		var pr azgit.GitPullRequest
		if err := json.Unmarshal(env.Resource, &pr); err != nil {
			return nil, fmt.Errorf("%s: resource is not a pull request: %v", where, err)
		}
		t := azdoPRTarget{Number: deref(pr.PullRequestId), Status: string(deref(pr.Status))}
		if pr.LastMergeSourceCommit != nil {
			t.Commit = deref(pr.LastMergeSourceCommit.CommitId)
		}
		if t.Number <= 0 {
			return nil, fmt.Errorf("%s: resource.pullRequestId is missing", where)
		}
		if pr.Repository == nil || deref(pr.Repository.Name) == "" {
			return nil, fmt.Errorf("%s: resource.repository.name is missing", where)
		}
		if pr.Repository.Project != nil && deref(pr.Repository.Project.Name) != "" && org != "" {
			t.Repositories = append(t.Repositories, org+"/"+deref(pr.Repository.Project.Name)+"/_git/"+deref(pr.Repository.Name))
		}
		if u, err := url.Parse(deref(pr.Repository.RemoteUrl)); err == nil && u.Host != "" {
			u.User = nil
			t.Repositories = append(t.Repositories, u.String())
		}
		if len(t.Repositories) == 0 {
			return nil, fmt.Errorf("%s: neither resource.repository.remoteUrl nor the organization (resourceContainers) and resource.repository.project.name", where)
		}
		return t, nil
	}
	return nil, fmt.Errorf("event type %q is not acted on", env.EventType)
}

func checkBuildTarget(where string, t azdoBuildTarget, idField, defField, projectField string) error {
	switch {
	case t.Organization == "":
		return fmt.Errorf("%s: resourceContainers.collection.baseUrl (the organization) is missing; send the resource containers", where)
	case t.BuildID <= 0:
		return fmt.Errorf("%s: %s is missing", where, idField)
	case t.DefinitionID <= 0:
		return fmt.Errorf("%s: %s is missing", where, defField)
	case len(t.Projects) == 0:
		return fmt.Errorf("%s: %s is missing", where, projectField)
	}
	if u, err := url.Parse(t.Organization); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s: the organization's baseUrl %q is not an http(s) URL", where, t.Organization)
	}
	return nil
}

// handleAzureDevOps does an accepted Azure DevOps event's work.
func (s *Server) handleAzureDevOps(ctx context.Context, ev registry.Event) (string, error) {
	env, err := parseAzureDevOpsEnvelope(ev.Payload)
	if err != nil {
		return "ignored: " + err.Error(), nil // verified at intake
	}
	t, err := parseAzureDevOps(env)
	if err != nil {
		return "ignored: " + err.Error(), nil
	}
	switch t := t.(type) {
	case azdoPRTarget:
		var parts []string
		var errs []error
		for _, repo := range t.Repositories {
			var numbers []int
			numbers = append(numbers, t.Number)
			res, err := s.recheck(ctx, gitHubTarget{Repository: repo, Numbers: numbers, SHA: t.Commit})
			if res != "no tracked pull request concerned" || err != nil {
				parts = append(parts, res)
				errs = append(errs, err)
				break // the repository's URLs name one repository
			}
		}
		res := "no tracked pull request concerned"
		if len(parts) > 0 {
			res = strings.Join(parts, "; ")
		}
		if urls, ok := azdoPullRequestEnded(t); ok {
			// A completed or abandoned pull request moves or closes the
			// speculative pull requests below it now (specevents.go).
			spec, serr := s.speculativeParentEnded(ctx, urls)
			res = joinResults(res, spec)
			errs = append(errs, serr)
		}
		return res, errors.Join(errs...)
	case azdoBuildTarget:
		return s.publishTrigger(ctx, ev, t)
	}
	return "nothing to do", nil
}

// publishTrigger publishes and flows a completed build of an opted-in
// pipeline. Its result says what it did; its error is a failure to retry
// (the service or the store did not answer). What retrying cannot change
// (a failed build, a pipeline not opted in, no AssetManifests artifact,
// manifests that do not validate) is a result, not an error.
//
// Crash safety: the record is registry.PublishBuild's (one build per Azure
// DevOps build, whoever records it, and an interrupted publish is finished
// by publishing again). A worker that dies after the record and before
// the flow leaves the event queued; the next attempt finds the build
// recorded and, because an earlier attempt of this event may have
// recorded it, flows it to the subscriptions that have no outcome for it
// yet (service.FlowBuildPending). When the dead attempt still holds a
// subscription's flow claim, that flow is recorded rescheduled and kept as
// the subscription's pending work, which the next flow tick after the
// claim lapses runs (TestServePublishTriggerKilledAfterRecord). A first
// attempt that finds the build
// recorded (by the pipeline's publish task, which flowed it) flows
// nothing: the task's publish already did.
func (s *Server) publishTrigger(ctx context.Context, ev registry.Event, t azdoBuildTarget) (result string, err error) {
	what := fmt.Sprintf("build %d of %s", t.BuildID, t.Organization)
	// A pull request build's result is counted (maestro_pull_request_builds_total):
	// prOutcome, or not-published.
	isPR, prOutcome := t.Reason == string(build.BuildReasonValues.PullRequest), ""
	defer func() {
		if isPR && err == nil {
			s.countPullRequestBuild(cmp.Or(prOutcome, prBuildNotPublished))
		}
	}()
	if !t.Completed {
		return what + " has not completed: nothing to publish", nil
	}
	if t.Result != "succeeded" && t.Result != "partiallySucceeded" {
		return fmt.Sprintf("%s %s: nothing to publish", what, orNone(t.Result)), nil
	}
	triggers, err := s.reg.PublishTriggers(ctx)
	if err != nil {
		return "", err
	}
	// The pipelines of this organization and definition id opted in; the
	// project decides among them (a run event names it by id only, so the
	// build read back names it too).
	var cands []maestro.PublishTrigger
	for _, tr := range triggers {
		if _, ok := registry.MatchPublishTrigger([]maestro.PublishTrigger{tr}, t.Organization, []string{tr.Project}, t.DefinitionID); ok {
			cands = append(cands, tr)
		}
	}
	notIn := fmt.Sprintf("%s: definition %d is not opted in to the publish trigger (maestro publish-trigger set)", what, t.DefinitionID)
	if t.Reason == string(build.BuildReasonValues.PullRequest) {
		notIn = fmt.Sprintf("%s is a pull request build: the pull request builds of definition %d are not opted in to the publish trigger (maestro publish-trigger set --pull-requests)", what, t.DefinitionID)
	}
	if len(cands) == 0 {
		prOutcome = prBuildNotOptedIn
		return notIn, nil
	}
	if s.azdo.hosts == nil {
		return "", errors.New("the server has no Azure DevOps connection configured")
	}
	conn, err := s.azdo.hosts.AzureDevOps(cands[0].Organization)
	if err != nil {
		return "", err
	}
	b, err := azdo.Build(ctx, conn, t.Projects[0], t.BuildID)
	if maestro.KindOf(err) == maestro.KindNotFound {
		return "not published: " + err.Error(), nil
	}
	if err != nil {
		return "", err
	}
	projects := slices.Clone(t.Projects)
	if b.Project != nil {
		projects = append(projects, deref(b.Project.Name))
		if b.Project.Id != nil {
			projects = append(projects, b.Project.Id.String())
		}
	}
	// Official builds and pull request builds opt in apart
	// (maestro.PublishTrigger): only a trigger of the build's kind takes it.
	isPR = azdo.IsPullRequestBuild(b)
	var kind []maestro.PublishTrigger
	for _, c := range cands {
		if c.PullRequests == isPR {
			kind = append(kind, c)
		}
	}
	trig, ok := registry.MatchPublishTrigger(kind, t.Organization, projects, t.DefinitionID)
	switch {
	case !ok && isPR:
		prOutcome = prBuildNotOptedIn
		return fmt.Sprintf("%s is a pull request build: the pull request builds of definition %d are not opted in to the publish trigger (maestro publish-trigger set --pull-requests); not recorded", what, t.DefinitionID), nil
	case !ok && len(kind) < len(cands):
		return fmt.Sprintf("%s: definition %d is opted in to the publish trigger for its pull request builds only (maestro publish-trigger set without --pull-requests takes its official builds)", what, t.DefinitionID), nil
	case !ok:
		return notIn, nil
	}
	if b.TriggerInfo != nil && (*b.TriggerInfo)[speculative.TriggerInfoProductBuild] != "" {
		// Queued by `maestro speculative build --platform azure-devops`, which
		// records it as a speculative build: never an official one.
		return fmt.Sprintf("not published: %s was queued by speculative product build %s, which records it", what, (*b.TriggerInfo)[speculative.TriggerInfoProductBuild]), nil
	}
	if b.Result == nil || (*b.Result != build.BuildResultValues.Succeeded && *b.Result != build.BuildResultValues.PartiallySucceeded) ||
		b.Definition == nil || deref(b.Definition.Id) != trig.DefinitionID {
		return fmt.Sprintf("not published: the Builds API shows %s with result %s of definition %d", what, orNone(string(deref(b.Result))), deref(b.Definition.Id)), nil
	}
	files, err := azdo.ArtifactFiles(ctx, conn, trig.Project, t.BuildID, azdo.AssetManifestsArtifact)
	switch maestro.KindOf(err) {
	case maestro.KindNotFound, maestro.KindInvalid:
		return "not published: " + err.Error(), nil
	}
	if err != nil {
		return "", err
	}
	var ms []*manifest.Manifest
	for _, f := range files {
		if !strings.EqualFold(path.Ext(f.Path), ".xml") {
			continue
		}
		m, err := manifest.Parse(f.Data, azdo.AssetManifestsArtifact+"/"+f.Path)
		if err != nil {
			return "not published: " + err.Error(), nil
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return fmt.Sprintf("not published: artifact %s of %s holds no manifest (*.xml)", azdo.AssetManifestsArtifact, what), nil
	}
	vars := azdo.JobVariables(trig.Organization, b)
	rec, err := service.PipelineBuild(ms, func(k string) string { return vars[k] }, maestro.Build{}, s.now())
	if err != nil {
		return "not published: " + err.Error(), nil
	}
	if rec.AzureDevOpsBuildID != t.BuildID {
		return fmt.Sprintf("not published: the manifests name Azure DevOps build %d, not %d", rec.AzureDevOpsBuildID, t.BuildID), nil
	}
	if isPR {
		result, prOutcome, err = s.publishPullRequestBuild(ctx, ev, what, b, rec)
		return result, err
	}
	res, err := s.reg.PublishBuild(ctx, rec, registry.PublishOptions{})
	if maestro.KindOf(err) == maestro.KindInvalid || maestro.KindOf(err) == maestro.KindConflict {
		return "not published: " + err.Error(), nil
	}
	if err != nil {
		return "", fmt.Errorf("publish %s: %w", what, err)
	}
	var out []string
	var flowed []service.Triggered
	if res.Existing {
		out = append(out, fmt.Sprintf("%s was recorded before as BAR build %d", what, res.Build.ID))
		if ev.Attempts > 1 {
			var channels []int
			for _, c := range res.Build.Channels {
				channels = append(channels, c.ID)
			}
			flowed, err = s.svc.FlowBuildPending(ctx, res.Build, channels)
			if err != nil {
				return strings.Join(out, "; "), err
			}
		}
	} else {
		out = append(out, fmt.Sprintf("published %s as BAR build %d (channels %s)", what, res.Build.ID, ints(res.NewChannels)))
		flowed = s.svc.FlowBuild(ctx, res.Build, res.NewChannels)
	}
	for _, f := range flowed {
		if f.Err != nil {
			out = append(out, f.Err.Error())
			continue
		}
		out = append(out, fmt.Sprintf("subscription %s: %s", f.Outcome.SubscriptionID, f.Outcome.Result))
	}
	if !res.Existing || ev.Attempts > 1 {
		m, err := s.svc.MirrorBuild(ctx, res.Build, s.azdo.hosts)
		switch {
		case err != nil:
			out = append(out, fmt.Sprintf("mirror not queued: %v", err))
		case m.Triggered:
			out = append(out, fmt.Sprintf("mirror run %d", m.Run.RunID))
		}
	}
	return strings.Join(out, "; "), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func nonEmpty(vals ...string) []string {
	var out []string
	for _, v := range vals {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "no result"
	}
	return s
}

func ints(ids []int) string {
	sorted := append([]int(nil), ids...)
	sort.Ints(sorted)
	parts := make([]string, len(sorted))
	for i, id := range sorted {
		parts[i] = strconv.Itoa(id)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/internal/jsonscan"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/store"
)

const (
	routeGitHub  = "/webhooks/github"
	sourceGitHub = "github"
	// maxGitHubPayload is GitHub's cap on a delivery's payload (25 MB).
	maxGitHubPayload = 25 << 20
	// maxAttempts bounds the attempts at one event; the last failure is
	// recorded as its result (the pull request's periodic check still
	// covers it).
	maxAttempts = 5
	// busyRetry is how soon an event whose pull request was busy (another
	// check or an update held its lock) re-checks it: the other check may
	// have read the host before the change the event reports. At most
	// maxBusyAttempts attempts; then the periodic check covers it.
	busyRetry       = 2 * time.Second
	maxBusyAttempts = 30
)

// errBusy: a pull request the event concerns was busy; re-check it soon.
var errBusy = errors.New("busy: another check or an update of the pull request held its lock")

// gitHubRecheck are the events that re-check the tracked pull requests
// they concern.
var gitHubRecheck = []string{"pull_request", "pull_request_review", "check_run", "check_suite", "status"}

// gitHubWebhook answers POST /webhooks/github: it verifies
// X-Hub-Signature-256 (constant time, go-github's ValidatePayload, see
// readGitHubPayload) before anything else but the Content-Type (415 but
// for application/json and application/x-www-form-urlencoded, the
// webhook's two settings), then records an event it acts on in the store and answers
// 202; a delivery id accepted before answers 200 and changes nothing.
// Events it does not act on (ping included) are acknowledged with 200 and
// not recorded.
func (s *Server) gitHubWebhook(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(gh.SHA256SignatureHeader) == "" {
		s.countEvent(sourceGitHub, "", EventRejected)
		message(w, http.StatusUnauthorized, "missing "+gh.SHA256SignatureHeader+": configure the webhook with the secret maestro serve has")
		return
	}
	if refuseMediaType(w, r, "a GitHub webhook", gitHubMediaTypes...) {
		s.countEvent(sourceGitHub, "", EventRejected)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxGitHubPayload)
	payload, err := readGitHubPayload(r, []byte(s.cfg.GitHub.WebhookSecret))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.countEvent(sourceGitHub, "", EventRejected)
			message(w, http.StatusRequestEntityTooLarge, "payload larger than 25 MB")
			return
		}
		s.countEvent(sourceGitHub, "", EventRejected)
		s.log.Warn("GitHub delivery refused: signature does not verify", "delivery", gh.DeliveryID(r), "remote", r.RemoteAddr)
		message(w, http.StatusUnauthorized, "X-Hub-Signature-256 does not match the body: check the webhook's secret")
		return
	}
	event, delivery := gh.WebHookType(r), gh.DeliveryID(r)
	if err := registry.ValidateEventID(delivery); err != nil {
		s.countEvent(sourceGitHub, event, EventInvalid)
		message(w, http.StatusBadRequest, "X-GitHub-Delivery "+err.Error())
		return
	}
	var (
		repo string
		doc  jsonscan.Checked
	)
	switch {
	case event == "push":
		p, err := parsePush(payload)
		if err != nil {
			s.countEvent(sourceGitHub, event, EventInvalid)
			message(w, http.StatusBadRequest, err.Error())
			return
		}
		why, err := s.mirroredPush(r.Context(), p)
		if err != nil {
			s.log.Error("GitHub push not recorded: read the mirror configuration", "delivery", delivery, "error", err)
			s.countEvent(sourceGitHub, event, EventFailed)
			message(w, http.StatusServiceUnavailable, "delivery not recorded; GitHub may redeliver it")
			return
		}
		if why != "" {
			s.countEvent(sourceGitHub, event, EventIgnored)
			message(w, http.StatusOK, why)
			return
		}
		repo, doc = p.Repository, p.Payload
	case slices.Contains(gitHubRecheck, event):
		t, checked, err := parseGitHub(event, payload)
		if err != nil {
			s.countEvent(sourceGitHub, event, EventInvalid)
			message(w, http.StatusBadRequest, err.Error())
			return
		}
		repo, doc = t.Repository, checked
	default:
		s.countEvent(sourceGitHub, event, EventIgnored)
		message(w, http.StatusOK, fmt.Sprintf("event %q acknowledged; maestro does not act on it", event))
		return
	}
	s.accept(w, r, registry.Event{Source: sourceGitHub, Delivery: delivery, Type: event, OrderKey: orderKey(repo)}, doc)
}

// gitHubTarget is what an event says about pull requests: the repository,
// the pull request numbers it names, and the commit it is about.
type gitHubTarget struct {
	Repository string
	Numbers    []int
	SHA        string
}

// gitHubPayload is what parseGitHub reads of a recheck event's payload:
// the fields go-github's event types (PullRequestEvent,
// PullRequestReviewEvent, CheckRunEvent, CheckSuiteEvent, StatusEvent) give
// them, with the same JSON names and types. Decoding only these costs half
// of go-github's ParseWebHook, which builds the whole event (a tenth of the
// CPU of a delivery's intake); TestParseGitHubAsGoGitHub holds the two to
// the same answers, and to the same errors in these fields. A payload is
// refused when it is not JSON or when a field maestro reads has the wrong
// type; a wrong type elsewhere (which ParseWebHook refused) is not
// maestro's to judge: the signature says GitHub sent it.
type gitHubPayload struct {
	Repository  *gitHubRepository  `json:"repository"`
	PullRequest *gitHubPullRequest `json:"pull_request"`
	CheckRun    *gitHubCheck       `json:"check_run"`
	CheckSuite  *gitHubCheck       `json:"check_suite"`
	SHA         *string            `json:"sha"`
}

type gitHubRepository struct {
	HTMLURL *string `json:"html_url"`
}

type gitHubPullRequest struct {
	Number *int `json:"number"`
}

type gitHubCheck struct {
	HeadSHA      *string `json:"head_sha"`
	PullRequests []struct {
		Number *int `json:"number"`
	} `json:"pull_requests"`
}

// parseGitHub reads the target of a recheck event from its payload.
func parseGitHub(event string, payload []byte) (gitHubTarget, jsonscan.Checked, error) {
	if !slices.Contains(gitHubRecheck, event) {
		return gitHubTarget{}, jsonscan.Checked{}, fmt.Errorf("%s payload: not an event maestro re-checks pull requests on", event)
	}
	var p gitHubPayload
	doc, err := decodeGitHubPayload(payload, &p)
	if err != nil {
		return gitHubTarget{}, jsonscan.Checked{}, fmt.Errorf("%s payload: %v", event, err)
	}
	var t gitHubTarget
	deref := func(v *string) string {
		if v == nil {
			return ""
		}
		return *v
	}
	number := func(n *int) int {
		if n == nil {
			return 0
		}
		return *n
	}
	check := func(c *gitHubCheck) {
		if c == nil {
			return
		}
		t.SHA = deref(c.HeadSHA)
		for _, pr := range c.PullRequests {
			t.Numbers = append(t.Numbers, number(pr.Number))
		}
	}
	switch event {
	case "pull_request", "pull_request_review":
		n := 0
		if p.PullRequest != nil {
			n = number(p.PullRequest.Number)
		}
		t.Numbers = []int{n}
	case "check_run":
		check(p.CheckRun)
	case "check_suite":
		check(p.CheckSuite)
	case "status":
		t.SHA = deref(p.SHA)
	}
	if p.Repository != nil {
		t.Repository = deref(p.Repository.HTMLURL)
	}
	if t.Repository == "" {
		return t, jsonscan.Checked{}, fmt.Errorf("%s payload: no repository.html_url", event)
	}
	return t, doc, nil
}

// process claims one queued event, does its work and records the result;
// a failed attempt is retried later (1, 2, 4, 8 minutes), the last failure
// recorded as the result. An event without a record (no worker took it
// yet) whose processing would only read is recorded done without a claim
// (finishUnclaimed). It reports whether it processed the event, and
// whether the event's marker is gone (the event is finished: its marker
// was deleted, here or by the worker that finished it).
func (s *Server) process(ctx context.Context, j job) (processed, gone bool) {
	q := j.QueuedEvent
	if j.unrecorded && s.finishUnclaimed(ctx, q) {
		return true, true
	}
	now := s.now()
	ev, etag, ok, err := s.reg.ClaimEvent(ctx, q, s.owner, now, s.cfg.ClaimTimeout)
	if err != nil {
		s.log.Warn("claim event; trying again later", "delivery", q.Delivery, "error", err)
		return false, false
	}
	if !ok {
		return false, q.Gone(ev)
	}
	if ev.Attempts == 1 {
		s.metrics.queueLatency.Observe(now.Sub(ev.ReceivedAt).Seconds())
	}
	start := time.Now()
	var result string
	etag, err = s.holding(ctx, ev, etag, func() error {
		// One attempt's work is bounded (Config.EventTimeout): the clients
		// of GitHub and Azure DevOps have no timeout of their own, and the
		// claim is renewed while the work runs.
		work, cancel := context.WithTimeout(ctx, s.cfg.EventTimeout)
		defer cancel()
		var herr error
		result, herr = s.handle(work, ev)
		if herr != nil && errors.Is(work.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			herr = fmt.Errorf("the attempt took longer than eventTimeout (%s), cut short; it is tried again: %w", s.cfg.EventTimeout, herr)
		}
		return herr
	})
	log := s.log.With("delivery", ev.Delivery, "event", ev.Type, "attempt", ev.Attempts, "took", time.Since(start).Round(time.Millisecond))
	if wait, ok := errors.AsType[waitUntil](err); ok {
		log.Info("event waits", "why", wait.Why, "until", wait.At.UTC().Format(time.RFC3339), "result", result)
		if rerr := s.reg.ReleaseEvent(ctx, ev, etag, wait.At, err, false); rerr != nil {
			log.Warn("release event", "error", rerr)
		}
		return true, false
	}
	switch {
	case errors.Is(err, errBusy) && ev.Attempts < maxBusyAttempts:
		s.metrics.eventDuration.WithLabelValues("busy").Observe(time.Since(start).Seconds())
		log.Info("pull request busy with another check or update; re-checking shortly", "result", result)
		if rerr := s.reg.ReleaseEvent(ctx, ev, etag, s.now().Add(busyRetry), err, false); rerr != nil {
			log.Warn("release event", "error", rerr)
		}
		return true, false
	case err != nil && !errors.Is(err, errBusy) && ev.Failures+1 < maxAttempts:
		next := s.now().Add(time.Minute << ev.Failures)
		s.metrics.eventDuration.WithLabelValues("retry").Observe(time.Since(start).Seconds())
		log.Warn("event failed; trying again", "next", next.UTC().Format(time.RFC3339), "error", err)
		if rerr := s.reg.ReleaseEvent(ctx, ev, etag, next, err, true); rerr != nil {
			log.Warn("release event", "error", rerr)
		}
		return true, false
	case errors.Is(err, errBusy):
		err = nil // the pull request's periodic check covers it
	}
	if err != nil {
		result = "failed: " + err.Error()
	}
	s.metrics.eventDuration.WithLabelValues("done").Observe(time.Since(start).Seconds())
	if ferr := s.reg.FinishEvent(ctx, q, ev, etag, s.now(), result); errors.Is(ferr, store.ErrPrecondition) {
		log.Warn("event processed, but its claim had lapsed and another worker took it over", "result", result)
		return true, false
	} else if ferr != nil {
		log.Warn("record the event's result", "error", ferr)
		return true, false
	}
	log.Info("event processed", "result", result)
	return true, true
}

// finishUnclaimed records the event of batch entry q done in one write,
// without claiming it, when its processing would only read the store
// (withoutEffects), and reports whether it did. It does not when the
// event's record exists by now (a worker of another replica took it, or
// the delivery is a copy of one recorded from another batch): the event is
// claimed then, as any other (registry.FinishUnclaimedEvent says why both
// are safe).
func (s *Server) finishUnclaimed(ctx context.Context, q registry.QueuedEvent) bool {
	start := time.Now()
	ev, err := s.reg.QueuedEntry(ctx, q)
	if err != nil {
		return false
	}
	result, ok := s.withoutEffects(ctx, ev)
	if !ok {
		return false
	}
	now := s.now()
	if done, err := s.reg.FinishUnclaimedEvent(ctx, q, ev, now, result); err != nil {
		s.log.Warn("record an event without effects", "delivery", ev.Delivery, "error", err)
		return false
	} else if !done {
		return false
	}
	s.metrics.queueLatency.Observe(now.Sub(ev.ReceivedAt).Seconds())
	s.metrics.eventDuration.WithLabelValues("done").Observe(time.Since(start).Seconds())
	s.log.Info("event processed", "delivery", ev.Delivery, "event", ev.Type, "attempt", 1, "took", time.Since(start).Round(time.Millisecond), "result", result)
	return true
}

// holding runs work while renewing ev's claim every third of the claim
// timeout, so that a long piece of work is not taken over while it runs,
// and returns the claim's last ETag.
func (s *Server) holding(ctx context.Context, ev registry.Event, etag string, work func() error) (string, error) {
	stop, renewed := make(chan struct{}), make(chan string)
	go func() {
		tick := time.NewTicker(s.cfg.ClaimTimeout / 3)
		defer tick.Stop()
		claim := *ev.Claim
		ev.Claim = &claim
		for {
			select {
			case <-stop:
				renewed <- etag
				return
			case <-tick.C:
				next, err := s.reg.RenewEvent(ctx, ev, etag, s.now().Add(s.cfg.ClaimTimeout))
				if err != nil {
					s.log.Warn("renew the claim of an event", "delivery", ev.Delivery, "error", err)
					continue
				}
				etag = next
			}
		}
	}()
	err := work()
	close(stop)
	return <-renewed, err
}

// handle does an event's work and says what it did.
func (s *Server) handle(ctx context.Context, ev registry.Event) (string, error) {
	switch {
	case ev.Source == sourceAzureDevOps:
		return s.handleAzureDevOps(ctx, ev)
	case ev.Source == sourceGitHub && ev.Type == "push":
		p, err := parsePush(ev.Payload)
		if err != nil {
			return "ignored: " + err.Error(), nil // verified at intake
		}
		return s.mirrorPush(ctx, p)
	case ev.Source == sourceLegacy && ev.Type == "push":
		return s.legacyPush(ctx, ev)
	case ev.Source != sourceGitHub || !slices.Contains(gitHubRecheck, ev.Type):
		return "nothing to do for a " + ev.Source + " " + ev.Type + " event", nil
	}
	t, _, err := parseGitHub(ev.Type, ev.Payload)
	if err != nil {
		return "ignored: " + err.Error(), nil // verified at intake; cannot happen but for a format change
	}
	res, err := s.recheck(ctx, t)
	if ev.Type == "pull_request" {
		if u, ok := gitHubPullRequestEnded(ev.Payload); ok {
			// A closed pull request moves or closes the speculative pull
			// requests below it now (specevents.go).
			spec, serr := s.speculativeParentEnded(ctx, []string{u})
			res, err = joinResults(res, spec), errors.Join(err, serr)
		}
	}
	return res, err
}

// noTrackedPullRequest is the result of a recheck event that concerns no
// tracked pull request.
const noTrackedPullRequest = "no tracked pull request concerned"

// withoutEffects returns the result of ev when its processing would only
// read the store: a GitHub recheck event that concerns no tracked pull
// request (a status or check of a commit maestro did not push, most of
// what a repository's webhook sends) and does not end a pull request
// (which moves speculative pull requests). ok is false when processing
// may have effects, or deciding failed: the event is claimed and handled.
func (s *Server) withoutEffects(ctx context.Context, ev registry.Event) (result string, ok bool) {
	if ev.Source != sourceGitHub || !slices.Contains(gitHubRecheck, ev.Type) {
		return "", false
	}
	if ev.Type == "pull_request" {
		if _, ended := gitHubPullRequestEnded(ev.Payload); ended {
			return "", false
		}
	}
	t, _, err := parseGitHub(ev.Type, ev.Payload)
	if err != nil {
		return "", false // handle records why
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.EventTimeout)
	defer cancel()
	concerned, err := s.concerned(ctx, t)
	if err != nil || len(concerned) > 0 {
		return "", false
	}
	return noTrackedPullRequest, true
}

// concerned are the tracked pull requests of t's repository that t names
// by number or whose head is t's commit.
func (s *Server) concerned(ctx context.Context, t gitHubTarget) ([]maestro.TrackedPullRequest, error) {
	tracked, err := s.reg.TrackedPullRequests(ctx)
	if err != nil {
		return nil, err
	}
	var out []maestro.TrackedPullRequest
	for _, tp := range tracked {
		pr := tp.PullRequest
		if pr.Number == 0 || !repourl.Equal(pr.Repository, t.Repository) ||
			!slices.Contains(t.Numbers, pr.Number) && (t.SHA == "" || tp.HeadCommit != t.SHA) {
			continue
		}
		out = append(out, tp)
	}
	return out, nil
}

// recheck evaluates now the tracked pull requests t concerns.
func (s *Server) recheck(ctx context.Context, t gitHubTarget) (string, error) {
	concerned, err := s.concerned(ctx, t)
	if err != nil {
		return "", err
	}
	var parts []string
	var errs []error
	for _, tp := range concerned {
		pr := tp.PullRequest
		results, err := s.svc.CheckPullRequests(ctx, s.now(), service.CheckRequest{Repository: pr.Repository, Number: pr.Number})
		s.countChecks(results)
		if maestro.KindOf(err) == maestro.KindNotFound && len(results) == 0 {
			parts = append(parts, fmt.Sprintf("#%d: no longer tracked", pr.Number))
			continue
		}
		for _, r := range results {
			parts = append(parts, fmt.Sprintf("#%d: %s", r.PullRequest.Number, r.Action))
			if r.Action == service.ActionBusy {
				errs = append(errs, fmt.Errorf("pull request #%d of %s: %w", r.PullRequest.Number, pr.Repository, errBusy))
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("check pull request #%d of %s: %w", pr.Number, pr.Repository, err))
		}
	}
	if len(parts) == 0 {
		return noTrackedPullRequest, errors.Join(errs...)
	}
	return "checked " + strings.Join(parts, ", "), errors.Join(errs...)
}

package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"github.com/google/uuid"

	"github.com/maestroplusplus/maestro/internal/jsonscan"
	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

const (
	// routeCommitPushed is the old Maestro's push webhook path.
	routeCommitPushed = "/CommitPushed"
	sourceLegacy      = "legacy"
)

// commitPushed answers POST /CommitPushed, the old Maestro's GitHub push
// webhook, with its signature check: X-Hub-Signature, the HMAC-SHA1 of the
// body with the legacy secret, is required (and X-Hub-Signature-256, which
// GitHub sends beside it, must match too when present), compared in
// constant time before anything else. A push to a branch is recorded in
// the store as a legacy event and answered 202; a delivery id accepted
// before answers 200 and changes nothing; other events (ping included),
// pushes to tags and deleted branches answer 200 and are not recorded.
func (s *Server) commitPushed(w http.ResponseWriter, r *http.Request) {
	sig1, sig256 := r.Header.Get(gh.SHA1SignatureHeader), r.Header.Get(gh.SHA256SignatureHeader)
	if !strings.HasPrefix(sig1, "sha1=") {
		s.countEvent(sourceLegacy, "", EventRejected)
		message(w, http.StatusUnauthorized, "missing "+gh.SHA1SignatureHeader+" (sha1=...): configure the webhook with the secret maestro serve has for /CommitPushed")
		return
	}
	if refuseMediaType(w, r, "a GitHub webhook", gitHubMediaTypes...) {
		s.countEvent(sourceLegacy, "", EventRejected)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxGitHubPayload)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.countEvent(sourceLegacy, "", EventRejected)
			message(w, http.StatusRequestEntityTooLarge, "payload larger than 25 MB")
			return
		}
		s.countEvent(sourceLegacy, "", EventRejected)
		message(w, http.StatusBadRequest, "read the body: "+err.Error())
		return
	}
	contentType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	secret := []byte(s.cfg.Legacy.WebhookSecret)
	payload, err := gh.ValidatePayloadFromBody(contentType, bytes.NewReader(body), sig1, secret)
	if err == nil && sig256 != "" {
		err = gh.ValidateSignature(sig256, body, secret)
	}
	if err != nil {
		s.countEvent(sourceLegacy, "", EventRejected)
		s.log.Warn("legacy delivery refused: signature does not verify", "delivery", gh.DeliveryID(r), "remote", r.RemoteAddr)
		message(w, http.StatusUnauthorized, gh.SHA1SignatureHeader+" does not match the body: check the webhook's secret")
		return
	}
	event, delivery := gh.WebHookType(r), gh.DeliveryID(r)
	if err := registry.ValidateEventID(delivery); err != nil {
		s.countEvent(sourceLegacy, event, EventInvalid)
		message(w, http.StatusBadRequest, "X-GitHub-Delivery "+err.Error())
		return
	}
	if event != "push" {
		s.countEvent(sourceLegacy, "other", EventIgnored)
		message(w, http.StatusOK, fmt.Sprintf("event %q acknowledged; /CommitPushed acts on push events only", event))
		return
	}
	p, err := parsePush(payload)
	if err != nil {
		s.countEvent(sourceLegacy, event, EventInvalid)
		message(w, http.StatusBadRequest, err.Error())
		return
	}
	if why := p.ignored(); why != "" {
		s.countEvent(sourceLegacy, event, EventIgnored)
		message(w, http.StatusOK, why+"; ignored")
		return
	}
	s.accept(w, r, registry.Event{Source: sourceLegacy, Delivery: delivery, Type: event, OrderKey: orderKey(p.Repository)}, p.Payload)
}

// accept records an event that passed its route's checks and answers 202,
// or 200 when the delivery was accepted before.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, ev registry.Event, payload jsonscan.Checked) {
	accepted, err := s.reg.AcceptCheckedEvent(r.Context(), ev, payload)
	if err != nil {
		s.log.Error("delivery not recorded", "source", ev.Source, "delivery", ev.Delivery, "event", ev.Type, "error", err)
		code, result := http.StatusServiceUnavailable, EventFailed
		if maestro.KindOf(err) == maestro.KindInvalid {
			code, result = http.StatusBadRequest, EventInvalid
		}
		s.countEvent(ev.Source, ev.Type, result)
		message(w, code, "delivery not recorded; GitHub may redeliver it")
		return
	}
	if !accepted {
		s.countEvent(ev.Source, ev.Type, EventDuplicate)
		message(w, http.StatusOK, "delivery "+ev.Delivery+" was accepted before")
		return
	}
	s.countEvent(ev.Source, ev.Type, EventAccepted)
	s.wake()
	message(w, http.StatusAccepted, "accepted")
}

// legacyPush feeds a recorded push to the legacy matching and pending
// actions of its repository and branch, as `maestro legacy watch` keeps
// them (legacy.Watcher: the same watch state in the store), then queues
// the actions that are due. The push is taken once per delivery (the watch
// state remembers it), also when this attempt is a retry after a crash.
// While actions of the branch wait for their delay, the event waits too
// and comes back when the first is due.
func (s *Server) legacyPush(ctx context.Context, ev registry.Event) (string, error) {
	p, err := parsePush(ev.Payload)
	if err != nil {
		return "ignored: " + err.Error(), nil
	}
	if why := p.ignored(); why != "" {
		return why + "; ignored", nil
	}
	if s.legacyQueue == nil {
		return "", fmt.Errorf("legacy push of %s %s: %w", p.FullName, p.Branch, errNoHosts)
	}
	file, err := s.cfg.Legacy.subscriptions()
	if err != nil {
		return "", err
	}
	w := &legacy.Watcher{Store: s.reg.Store(), File: file, GitHubRepo: p.FullName, Branch: p.Branch,
		Queuer: s.legacyQueue, Now: s.now, NewID: uuid.NewString, ClaimTTL: s.cfg.Legacy.ClaimTimeout}
	push := legacy.Push{Repository: p.FullName, Ref: "refs/heads/" + p.Branch}
	for _, c := range p.Event.Commits {
		var paths []string
		paths = append(paths, c.Added...)
		paths = append(paths, c.Removed...)
		paths = append(paths, c.Modified...)
		push.Commits = append(push.Commits, legacy.Commit{ID: c.GetID(), Paths: paths})
	}
	taken, triggers, err := w.TakePush(ctx, legacy.Delivered{ID: ev.Delivery, Push: push, Before: p.Before, After: p.After})
	if err != nil {
		return "", fmt.Errorf("legacy push of %s %s: %w", p.FullName, p.Branch, err)
	}
	var parts []string
	if taken {
		parts = append(parts, fmt.Sprintf("%d actions triggered", len(triggers)))
	}
	rep, err := w.QueueDue(ctx)
	if err != nil {
		return strings.Join(parts, "; "), fmt.Errorf("legacy push of %s %s: %w", p.FullName, p.Branch, err)
	}
	for _, q := range rep.Queued {
		how := "queued"
		if q.Found {
			how = "found queued"
		}
		parts = append(parts, fmt.Sprintf("subscription %d, action %s: %s build %d", q.Subscription, q.Action, how, q.Build.ID))
	}
	result := strings.Join(parts, "; ")
	if len(rep.Errors) > 0 {
		return result, fmt.Errorf("legacy push of %s %s: %w (kept as pending work)", p.FullName, p.Branch, errors.Join(rep.Errors...))
	}
	if !rep.NextDue.IsZero() {
		return result, waitUntil{At: rep.NextDue, Why: fmt.Sprintf("%d legacy actions of %s %s wait for their delay", rep.Waiting, p.FullName, p.Branch)}
	}
	return result, nil
}

// legacyQueuer builds the legacy actions' queue at start, so that an
// enabled route without an Azure DevOps token refuses to start.
func (s *Server) legacyQueuer() error {
	if !s.cfg.Legacy.CommitPushed {
		return nil
	}
	if s.hosts == nil {
		return maestro.Errorf(maestro.KindInvalid, "the legacy /CommitPushed route needs Azure DevOps hosts to queue builds: %v", errNoHosts)
	}
	q, err := s.hosts.LegacyQueuer(s.cfg.Legacy.VSOURLs)
	if err != nil {
		return fmt.Errorf("the legacy /CommitPushed route: %w", err)
	}
	s.legacyQueue = q
	return nil
}

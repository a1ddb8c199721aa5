package githubdouble

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

const (
	docCreateHook = "repos/webhooks#create-a-repository-webhook"
	docListHooks  = "repos/webhooks#list-repository-webhooks"
	docGetHook    = "repos/webhooks#get-a-repository-webhook"
	docDeleteHook = "repos/webhooks#delete-a-repository-webhook"

	// hookTimeout is how long GitHub waits for a receiver to answer a
	// delivery before it records a timeout
	// (https://docs.github.com/webhooks/testing-and-troubleshooting-webhooks/troubleshooting-webhooks#timed-out).
	hookTimeout = 10 * time.Second

	// hookUserAgent is the User-Agent of deliveries; GitHub's always starts
	// with "GitHub-Hookshot/"
	// (https://docs.github.com/webhooks/webhook-events-and-payloads#delivery-headers).
	hookUserAgent = "GitHub-Hookshot/double"

	// maxResponseKept bounds the part of a receiver's answer a delivery keeps.
	maxResponseKept = 64 << 10

	// GitHub's messages for hooks it refuses, as its 422 errors carry them
	// ({resource: Hook, code: custom, message}).
	msgHookURL    = "The URL you've entered is not valid. Please make sure that you encode all special characters first"
	msgHookExists = "Hook already exists on this repository"
)

// hook is a repository webhook: where deliveries go and which events it
// wants. Fields are guarded by the server lock.
type hook struct {
	id          int64
	url         string
	contentType string // json or form
	secret      string
	insecureSSL string
	events      []string // event names; "*" is every event
	active      bool
	app         *app // the GitHub App whose hook this is; nil for a repository hook
	createdAt   time.Time
	updatedAt   time.Time
}

// wants reports whether the hook subscribes to event.
func (h *hook) wants(event string) bool {
	return h.active && (contains(h.events, "*") || contains(h.events, event))
}

// HookSpec is a repository webhook as a test registers it with Repo.AddHook;
// the same settings POST /repos/{owner}/{repo}/hooks takes.
type HookSpec struct {
	URL         string   // where deliveries are POSTed
	Secret      string   // signs deliveries (X-Hub-Signature-256); none when empty
	Events      []string // event names, "*" for every event; ["push"] when empty, as on GitHub
	ContentType string   // "json" (the default) or "form" (payload=<url-encoded JSON>)
}

// Delivery is one webhook delivery: the request the double sent (or could
// not send) and the receiver's answer.
type Delivery struct {
	ID     int64  // the delivery's own id, unique per hook and event
	GUID   string // X-GitHub-Delivery; shared by every hook's delivery of one event
	HookID int64  // X-GitHub-Hook-ID
	Repo   string // "owner/name" of the repository the hook belongs to
	Event  string // X-GitHub-Event, e.g. pull_request
	Action string // the payload's action, "" for events without one (push, status)
	URL    string
	// Header and Body are the request as sent. Body is Payload for
	// content type json, and "payload=" + its URL encoding for form.
	Header  http.Header
	Body    []byte
	Payload []byte // the JSON payload, validated against @octokit/openapi-webhooks

	Redelivery  bool   // sent again by Redeliver (or the API's redeliver)
	StatusCode  int    // the receiver's status code; 0 when there was no answer
	Response    []byte // the start of the receiver's answer
	Err         string // why the delivery failed without an answer ("" when the receiver answered)
	DeliveredAt time.Time
	Duration    time.Duration
}

// OK reports whether the receiver accepted the delivery with a 2xx status,
// which is what GitHub counts as delivered.
func (d Delivery) OK() bool { return d.Err == "" && d.StatusCode >= 200 && d.StatusCode < 300 }

// deliverer sends deliveries one at a time, in the order events happened,
// off the API's request path: the server lock is never held while a
// receiver is called, so a receiver may call the API while it answers.
type deliverer struct {
	client *http.Client

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*Delivery
	done    []Delivery
	running bool // a goroutine is draining the queue
	closed  bool // the test ended: queued deliveries are dropped
	nextID  int64
	last    map[int64]Delivery // the latest finished delivery of each hook
}

func newDeliverer() *deliverer {
	d := &deliverer{
		client: &http.Client{Timeout: hookTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // GitHub does not follow redirects of deliveries
		}},
		last:   map[int64]Delivery{},
		nextID: 1,
	}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// hookState is the webhooks of the server: the hooks of each repository and
// the deliverer. Guarded by the server lock, except d, which is set once
// in NewServer and has a lock of its own.
type hookState struct {
	byRepo map[*repo][]*hook
	apps   []*hook                     // GitHub Apps' hooks (apphooks.go), for every repository
	heads  map[*repo]map[string]string // the branch and tag tips push events were last computed from
	d      *deliverer
	spec   *ghspec.Document // @octokit/openapi-webhooks, loaded with the first hook
}

// hooksOf returns the hooks of r, in creation order.
func (s *Server) hooksOf(r *repo) []*hook { return s.hooks.byRepo[r] }

// AddHook registers a repository webhook, as POST /repos/{owner}/{repo}/hooks
// does, and returns its id. Like GitHub it sends a ping event at once.
func (h *Repo) AddHook(spec HookSpec) int64 {
	h.s.tb.Helper()
	var id int64
	h.locked(func(r *repo) {
		hk, msg := h.s.newHook(spec)
		if msg == "" && slices.ContainsFunc(h.s.hooksOf(r), func(o *hook) bool { return o.url == spec.URL }) {
			msg = msgHookExists
		}
		if msg != "" {
			h.s.tb.Fatalf("github double: hook on %s: %s", r.fullName(), msg)
		}
		_ = h.s.loadWebhookSpec(h.s.tb) // skips or fails the test itself
		id = h.s.addHook(r, hk, r.owner)
	})
	return id
}

// newHook checks a hook's settings as GitHub does and returns the hook, or
// the message of GitHub's 422.
func (s *Server) newHook(spec HookSpec) (*hook, string) {
	u, err := url.Parse(spec.URL)
	if spec.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, msgHookURL
	}
	ct := spec.ContentType
	if ct == "" {
		ct = "json"
	}
	if ct != "json" && ct != "form" {
		return nil, "content_type is not included in the list"
	}
	events := spec.Events
	if len(events) == 0 {
		events = []string{"push"}
	}
	for _, e := range events {
		if e != "*" && !eventNameRe.MatchString(e) {
			return nil, fmt.Sprintf("%s is not a valid event name", e)
		}
	}
	now := s.now()
	return &hook{
		url: spec.URL, contentType: ct, secret: spec.Secret, insecureSSL: "0",
		events: slices.Clone(events), active: true, createdAt: now, updatedAt: now,
	}, ""
}

// addHook stores a checked hook on r and pings it, as GitHub does on creation.
// The webhooks description must be loaded (loadWebhookSpec).
func (s *Server) addHook(r *repo, hk *hook, sender *user) int64 {
	hk.id = s.newID()
	if s.hooks.byRepo == nil {
		s.hooks.byRepo = map[*repo][]*hook{}
	}
	s.hooks.byRepo[r] = append(s.hooks.byRepo[r], hk)
	s.trackHeads(r)
	s.ping(r, hk, sender)
	return hk.id
}

// Deliveries returns every finished delivery so far (sent, failed or
// refused because its payload broke the schema), in the order they were
// made. Call WaitDeliveries first to include the queued ones.
func (s *Server) Deliveries() []Delivery {
	d := s.hooks.d
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.done)
}

// WaitDeliveries waits until every delivery queued so far has been made
// (each is bounded by GitHub's 10-second timeout) and returns
// Deliveries().
func (s *Server) WaitDeliveries() []Delivery {
	d := s.hooks.d
	d.mu.Lock()
	for len(d.queue) > 0 || d.running {
		d.cond.Wait()
	}
	out := slices.Clone(d.done)
	d.mu.Unlock()
	return out
}

// newGUID returns a random version 4 UUID, the form of X-GitHub-Delivery.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// sign is X-Hub-Signature-256: "sha256=" and the hex HMAC-SHA256 of the
// body with the secret as key
// (https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries).
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// enqueue queues the delivery of one payload to each hook, with the headers
// GitHub sends
// (https://docs.github.com/webhooks/webhook-events-and-payloads#delivery-headers).
// It is called with the server lock held.
func (s *Server) enqueue(r *repo, hooks []*hook, event, action string, payload []byte) {
	d := s.hooks.d
	guid := newGUID()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, hk := range hooks {
		body := payload
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		if hk.contentType == "form" {
			body = []byte("payload=" + url.QueryEscape(string(payload)))
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		h.Set("User-Agent", hookUserAgent)
		h.Set("X-GitHub-Event", event)
		h.Set("X-GitHub-Delivery", guid)
		h.Set("X-GitHub-Hook-ID", strconv.FormatInt(hk.id, 10))
		targetType, targetID := targetOf(hk, r)
		h.Set("X-GitHub-Hook-Installation-Target-ID", targetID)
		h.Set("X-GitHub-Hook-Installation-Target-Type", targetType)
		if hk.secret != "" {
			h.Set("X-Hub-Signature-256", sign(hk.secret, body))
			m := hmac.New(sha1.New, []byte(hk.secret))
			m.Write(body)
			h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(m.Sum(nil)))
		}
		dl := &Delivery{
			ID: d.nextID, GUID: guid, HookID: hk.id, Repo: r.fullName(), Event: event, Action: action,
			URL: hk.url, Header: h, Body: body, Payload: payload,
		}
		d.nextID++
		if d.closed {
			continue
		}
		d.queue = append(d.queue, dl)
	}
	d.kick()
}

// kick starts draining the queue unless a drain is running. Called with
// d.mu held.
func (d *deliverer) kick() {
	if !d.running && len(d.queue) > 0 {
		d.running = true
		go d.drain()
	}
}

// refuse records a delivery that was not sent because its payload broke
// the schema. It is called with the server lock held.
func (s *Server) refuse(r *repo, event, action string, payload []byte, why error) {
	d := s.hooks.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done = append(d.done, Delivery{
		ID: d.nextID, GUID: newGUID(), Repo: r.fullName(), Event: event, Action: action,
		Payload: payload, Err: "payload does not match @octokit/openapi-webhooks: " + why.Error(),
	})
	d.nextID++
	d.cond.Broadcast()
}

// drain sends queued deliveries until the queue is empty.
func (d *deliverer) drain() {
	d.mu.Lock()
	for len(d.queue) > 0 && !d.closed {
		dl := d.queue[0]
		d.queue = d.queue[1:]
		d.mu.Unlock()
		d.send(dl)
		d.mu.Lock()
		d.done = append(d.done, *dl)
		d.last[dl.HookID] = *dl
		d.cond.Broadcast()
	}
	d.queue = nil
	d.running = false
	d.cond.Broadcast()
	d.mu.Unlock()
}

// send POSTs one delivery and records the answer or the failure; a
// receiver that cannot be reached is a failed delivery, as on GitHub.
// Deliveries are timed by the wall clock, not the server's clock: they
// happen outside the lock that orders the clock's readings.
func (d *deliverer) send(dl *Delivery) {
	start := time.Now()
	defer func() { dl.Duration = time.Since(start) }()
	dl.DeliveredAt = start.UTC()
	req, err := http.NewRequest(http.MethodPost, dl.URL, bytes.NewReader(dl.Body))
	if err != nil {
		dl.Err = err.Error()
		return
	}
	req.Header = dl.Header.Clone()
	resp, err := d.client.Do(req)
	if err != nil {
		dl.Err = err.Error()
		return
	}
	defer resp.Body.Close()
	dl.StatusCode = resp.StatusCode
	dl.Response, _ = io.ReadAll(io.LimitReader(resp.Body, maxResponseKept))
	_, _ = io.Copy(io.Discard, resp.Body)
}

// close drops the deliveries still queued and waits for the one in flight:
// deliveries do not outlive the test.
func (d *deliverer) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.queue = nil
	for d.running {
		d.cond.Wait()
	}
}

// createHook answers POST /repos/{owner}/{repo}/hooks.
func createHook(c *call) {
	doc := docURL(docCreateHook)
	b, aerr := decodeBody(c.body, doc)
	if aerr != nil {
		writeError(c.w, aerr)
		return
	}
	var extra struct {
		Config *struct {
			URL         *string `json:"url"`
			ContentType *string `json:"content_type"`
			Secret      *string `json:"secret"`
			InsecureSSL any     `json:"insecure_ssl"`
		} `json:"config"`
		Events []string `json:"events"`
	}
	if err := json.Unmarshal(c.body, &extra); err != nil {
		writeError(c.w, invalidRequest(fmt.Sprintf("For 'properties/config' or 'properties/events': %v.", err), doc))
		return
	}
	if b.has("name") && b.str("name") != "web" {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "Hook", Field: "name", Code: "invalid"}))
		return
	}
	if extra.Config == nil || extra.Config.URL == nil {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "Hook", Code: "custom", Message: "Config must contain URL for webhooks"}))
		return
	}
	// GitHub's default content type is form, unlike HookSpec's
	// (https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook).
	spec := HookSpec{URL: *extra.Config.URL, Events: extra.Events, ContentType: "form"}
	if extra.Config.ContentType != nil {
		spec.ContentType = *extra.Config.ContentType
	}
	if extra.Config.Secret != nil {
		spec.Secret = *extra.Config.Secret
	}
	hk, msg := c.s.newHook(spec)
	if msg == "" && slices.ContainsFunc(c.s.hooksOf(c.repo), func(h *hook) bool { return h.url == spec.URL }) {
		msg = msgHookExists
	}
	if msg != "" {
		writeError(c.w, validationFailed(doc, fieldError{Resource: "Hook", Code: "custom", Message: msg}))
		return
	}
	switch v := extra.Config.InsecureSSL.(type) {
	case string:
		hk.insecureSSL = v
	case float64:
		hk.insecureSSL = strconv.FormatFloat(v, 'f', -1, 64)
	}
	if b.has("active") {
		hk.active = b.boolean("active")
	}
	if err := c.s.loadWebhookSpec(nil); err != nil {
		c.fail(err)
		return
	}
	c.s.addHook(c.repo, hk, c.user)
	out := c.s.hookJSON(c.repo, hk)
	c.w.Header().Set("Location", out["url"].(string))
	writeJSON(c.w, http.StatusCreated, out)
}

// listHooks answers GET /repos/{owner}/{repo}/hooks.
func listHooks(c *call) {
	out := []map[string]any{}
	for _, hk := range c.s.hooksOf(c.repo) {
		out = append(out, c.s.hookJSON(c.repo, hk))
	}
	writeJSON(c.w, http.StatusOK, paginate(c, out))
}

// hookFromPath finds the hook of the {hook_id} path value, writing 404 when
// there is none.
func hookFromPath(c *call, doc string) *hook {
	id, err := strconv.ParseInt(c.r.PathValue("hook_id"), 10, 64)
	for _, hk := range c.s.hooksOf(c.repo) {
		if err == nil && hk.id == id {
			return hk
		}
	}
	writeError(c.w, notFound(docURL(doc)))
	return nil
}

// getHook answers GET /repos/{owner}/{repo}/hooks/{hook_id}.
func getHook(c *call) {
	if hk := hookFromPath(c, docGetHook); hk != nil {
		writeJSON(c.w, http.StatusOK, c.s.hookJSON(c.repo, hk))
	}
}

// deleteHook answers DELETE /repos/{owner}/{repo}/hooks/{hook_id}; queued
// deliveries of the hook are still made.
func deleteHook(c *call) {
	hk := hookFromPath(c, docDeleteHook)
	if hk == nil {
		return
	}
	c.s.hooks.byRepo[c.repo] = slices.DeleteFunc(c.s.hooks.byRepo[c.repo], func(h *hook) bool { return h == hk })
	writeNoContent(c.w)
}

// hookJSON renders a hook as the API shows it: the secret is masked, and
// last_response is the latest delivery's answer ("unused" before the first).
func (s *Server) hookJSON(r *repo, hk *hook) map[string]any {
	base := s.apiURL("repos", r.owner.Login, r.spec.Name, "hooks", strconv.FormatInt(hk.id, 10))
	config := map[string]any{"url": hk.url, "content_type": hk.contentType, "insecure_ssl": hk.insecureSSL}
	if hk.secret != "" {
		config["secret"] = "********"
	}
	last := map[string]any{"code": nil, "status": "unused", "message": nil}
	d := s.hooks.d
	d.mu.Lock()
	dl, ok := d.last[hk.id]
	d.mu.Unlock()
	if ok {
		last = lastResponse(dl)
	}
	return map[string]any{
		"type":           "Repository",
		"id":             hk.id,
		"name":           "web",
		"active":         hk.active,
		"events":         hk.events,
		"config":         config,
		"updated_at":     hk.updatedAt.UTC().Format(time.RFC3339),
		"created_at":     hk.createdAt.UTC().Format(time.RFC3339),
		"url":            base,
		"test_url":       base + "/test",
		"ping_url":       base + "/pings",
		"deliveries_url": base + "/deliveries",
		"last_response":  last,
	}
}

// lastResponse is a hook's last_response for a finished delivery.
func lastResponse(dl Delivery) map[string]any {
	switch {
	case dl.Err != "":
		return map[string]any{"code": nil, "status": "failed", "message": dl.Err}
	case dl.OK():
		return map[string]any{"code": dl.StatusCode, "status": "active", "message": "OK"}
	default:
		return map[string]any{"code": dl.StatusCode, "status": "misconfigured", "message": fmt.Sprintf("Invalid HTTP Response: %d", dl.StatusCode)}
	}
}

var eventNameRe = regexp.MustCompile(`^[a-z][a-z_]*$`)

package githubdouble

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
)

const (
	docListDeliveries = "repos/webhooks#list-deliveries-for-a-repository-webhook"
	docRedeliver      = "repos/webhooks#redeliver-a-delivery-for-a-repository-webhook"
)

// NewRequest rebuilds the request of a delivery for url: the same method,
// headers and body, so a test can send one delivery again (to another
// replica, or after changing the body or a header).
func (d Delivery) NewRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return nil, err
	}
	req.Header = d.Header.Clone()
	return req, nil
}

// Redeliver sends a finished delivery again to its hook, as GitHub's
// "Redeliver" does: the same headers (X-GitHub-Delivery included) and body,
// recorded as a new delivery with Redelivery set. It returns the new
// delivery's id; WaitDeliveries waits for it.
func (s *Server) Redeliver(id int64) int64 {
	s.tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	newID, ok := s.redeliver(0, id)
	if !ok {
		s.tb.Fatalf("github double: no finished delivery %d to redeliver", id)
	}
	return newID
}

// redeliver queues a finished delivery again (of hook hookID, any hook when
// 0) and reports whether there was one. Called with the server lock held.
func (s *Server) redeliver(hookID, id int64) (int64, bool) {
	d := s.hooks.d
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(d.done, func(dl Delivery) bool {
		return dl.ID == id && dl.HookID != 0 && (hookID == 0 || dl.HookID == hookID)
	})
	if i < 0 || d.closed {
		return 0, false
	}
	old := d.done[i]
	again := &Delivery{
		ID: d.nextID, GUID: old.GUID, HookID: old.HookID, Repo: old.Repo, Event: old.Event, Action: old.Action,
		URL: old.URL, Header: old.Header.Clone(), Body: old.Body, Payload: old.Payload, Redelivery: true,
	}
	d.nextID++
	d.queue = append(d.queue, again)
	d.kick()
	return again.ID, true
}

// listDeliveries answers GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries:
// the hook's deliveries, newest first, with GitHub's status filter
// (success, failure) and per_page; the cursor is not supported.
func listDeliveries(c *call) {
	hk := hookFromPath(c, docListDeliveries)
	if hk == nil {
		return
	}
	status := c.r.URL.Query().Get("status")
	if status != "" && status != "success" && status != "failure" {
		writeError(c.w, validationFailed(docURL(docListDeliveries), fieldError{Resource: "HookDelivery", Field: "status", Code: "invalid", Value: status}))
		return
	}
	var mine []Delivery
	d := c.s.hooks.d
	d.mu.Lock()
	for _, dl := range d.done {
		if dl.HookID == hk.id && (status == "" || (status == "success") == dl.OK()) {
			mine = append(mine, dl)
		}
	}
	d.mu.Unlock()
	slices.Reverse(mine)
	perPage := c.page().perPage
	out := []object{}
	for _, dl := range mine[:min(len(mine), perPage)] {
		out = append(out, c.s.deliveryJSON(c.repo, dl))
	}
	writeJSON(c.w, http.StatusOK, out)
}

// deliveryJSON renders a delivery as the deliveries API lists it
// (hook-delivery-item).
func (s *Server) deliveryJSON(r *repo, dl Delivery) object {
	status := "OK"
	switch {
	case dl.Err != "":
		status = dl.Err
	case !dl.OK():
		status = "Invalid HTTP Response: " + strconv.Itoa(dl.StatusCode)
	}
	return object{
		"id":              dl.ID,
		"guid":            dl.GUID,
		"delivered_at":    timeJSON(dl.DeliveredAt.Truncate(1e9)),
		"redelivery":      dl.Redelivery,
		"duration":        dl.Duration.Seconds(),
		"status":          status,
		"status_code":     dl.StatusCode,
		"event":           dl.Event,
		"action":          nilIfEmpty(dl.Action),
		"installation_id": nil,
		"repository_id":   r.id,
		"throttled_at":    nil,
	}
}

// redeliverRoute answers POST
// /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts
// with 202 and sends the delivery again.
func redeliverRoute(c *call) {
	hk := hookFromPath(c, docRedeliver)
	if hk == nil {
		return
	}
	id, err := strconv.ParseInt(c.r.PathValue("delivery_id"), 10, 64)
	if err != nil {
		writeError(c.w, notFound(docURL(docRedeliver)))
		return
	}
	if _, ok := c.s.redeliver(hk.id, id); !ok {
		writeError(c.w, notFound(docURL(docRedeliver)))
		return
	}
	writeJSON(c.w, http.StatusAccepted, object{})
}

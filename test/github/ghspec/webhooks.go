package ghspec

import "strings"

// WebhookPointer is the JSON pointer of the request body schema of one
// webhook event and action in the webhooks description, whose webhooks are
// keyed "event-action" with dashes: pull_request with auto_merge_enabled is
// #/webhooks/pull-request-auto-merge-enabled/...; an event without actions
// (push, status, ping) has action "".
func WebhookPointer(event, action string) string {
	key := event
	if action != "" {
		key += "-" + action
	}
	return "#/webhooks/" + strings.ReplaceAll(key, "_", "-") + "/post/requestBody/content/application~1json/schema"
}

// CheckWebhook validates a webhook payload (the JSON body of a delivery)
// against its event and action's schema; an event or action the
// description does not have is an error too.
func (d *Document) CheckWebhook(event, action string, payload []byte) error {
	return d.Check(WebhookPointer(event, action), payload)
}

package githubdouble

import (
	"errors"
	"strings"

	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

// webhookPointer is the JSON pointer of the request body schema of one
// event and action in @octokit/openapi-webhooks, whose webhooks are keyed
// "event-action" with dashes ("pull-request-opened", "push").
func webhookPointer(event, action string) string {
	key := event
	if action != "" {
		key += "-" + action
	}
	key = strings.ReplaceAll(key, "_", "-") // pull-request-auto-merge-enabled
	return "#/webhooks/" + key + "/post/requestBody/content/application~1json/schema"
}

// checkWebhook validates a payload against its event and action's schema in
// @octokit/openapi-webhooks. The description is loaded when the first hook
// is registered (once per test binary).
func (s *Server) checkWebhook(event, action string, payload []byte) error {
	if s.hooks.spec == nil {
		return errors.New("the webhooks description is not loaded")
	}
	return s.hooks.spec.Check(webhookPointer(event, action), payload)
}

// loadWebhookSpec loads @octokit/openapi-webhooks for the hooks (once per
// test binary); a missing description skips the test, or fails it under
// CI=true.
func (s *Server) loadWebhookSpec() {
	if s.hooks.spec == nil {
		s.hooks.spec = ghspec.Webhooks(s.tb)
	}
}

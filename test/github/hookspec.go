package githubdouble

import (
	"errors"
	"fmt"
	"testing"

	"github.com/maestroplusplus/maestro/test/github/ghspec"
)

// checkWebhook validates a payload against its event and action's schema in
// @octokit/openapi-webhooks. The description is loaded when the first hook
// is registered (once per test binary).
func (s *Server) checkWebhook(event, action string, payload []byte) error {
	if s.hooks.spec == nil {
		return errors.New("the webhooks description is not loaded")
	}
	return s.hooks.spec.CheckWebhook(event, action, payload)
}

// loadWebhookSpec loads @octokit/openapi-webhooks for the hooks, once per
// test binary. From a test's goroutine (tb set), a missing description
// skips the test, or fails it under CI=true; from an API handler (tb nil),
// which may not skip, it is an error the handler reports.
func (s *Server) loadWebhookSpec(tb testing.TB) error {
	if s.hooks.spec != nil {
		return nil
	}
	if tb != nil {
		s.hooks.spec = ghspec.Webhooks(tb)
		return nil
	}
	doc, err := ghspec.Find(ghspec.WebhooksFile)
	if err != nil {
		return fmt.Errorf("load @octokit/openapi-webhooks for webhook payloads: %w", err)
	}
	s.hooks.spec = doc
	return nil
}

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// Events drive the gate of speculative flow (docs/speculative.md): a
// pull request that ended — a GitHub pull_request event with action
// closed (merged or not), an Azure DevOps git.pullrequest.updated or
// git.pullrequest.merged event whose pull request is completed or
// abandoned — makes the speculative pull requests below it due at once
// and advances them (service.SpeculativeParentEnded), besides the
// re-check of a tracked pull request it names. The pull request needs not
// be tracked: the root of a chain is a person's pull request.

// gitHubClosedPayload is what a pull_request event says of its pull
// request's end (go-github's PullRequestEvent names).
type gitHubClosedPayload struct {
	Action      string `json:"action"`
	PullRequest *struct {
		HTMLURL string `json:"html_url"`
		Merged  bool   `json:"merged"`
	} `json:"pull_request"`
}

// gitHubPullRequestEnded returns the web URL of the pull request a
// pull_request event says was closed (merged or not).
func gitHubPullRequestEnded(payload []byte) (string, bool) {
	var p gitHubClosedPayload
	if json.Unmarshal(payload, &p) != nil || p.Action != "closed" || p.PullRequest == nil || p.PullRequest.HTMLURL == "" {
		return "", false
	}
	return p.PullRequest.HTMLURL, true
}

// azdoPullRequestEnded returns the web URLs (one per spelling of its
// repository) of the pull request an Azure DevOps pull request event says
// was completed or abandoned. git.pullrequest.merged ("merge attempted")
// comes after every merge the service computes, so only the status says
// the pull request ended.
func azdoPullRequestEnded(t azdoPRTarget) ([]string, bool) {
	if t.Status != "completed" && t.Status != "abandoned" {
		return nil, false
	}
	var urls []string
	seen := map[string]bool{}
	for _, r := range t.Repositories {
		if k := repourl.Key(r); !seen[k] {
			seen[k] = true
			urls = append(urls, strings.TrimSuffix(repourl.Normalize(r), "/")+"/pullrequest/"+strconv.Itoa(t.Number))
		}
	}
	return urls, len(urls) > 0
}

// speculativeParentEnded makes the speculative pull requests below each
// of the pull requests urls due and advances them. Its result says what
// it did ("" when there were none); its error is a failure to mark them
// due, which retrying the event repairs. An attempt that failed is part of
// the result: its document keeps its own next attempt.
func (s *Server) speculativeParentEnded(ctx context.Context, urls []string) (string, error) {
	var parts []string
	var errs []error
	for _, u := range urls {
		res, err := s.svc.SpeculativeParentEnded(ctx, u, s.now())
		if err != nil {
			errs = append(errs, fmt.Errorf("make the speculative pull requests below %s due: %w", u, err))
			continue
		}
		if res.Due == 0 {
			continue
		}
		s.countFlow(res.Outcomes...)
		part := fmt.Sprintf("%d speculative pull request(s) below %s due", res.Due, u)
		for _, sp := range res.Advanced {
			what := sp.TargetRepository
			if sp.PullRequestURL != "" {
				what = sp.PullRequestURL
			}
			state := sp.State
			if sp.Waiting != "" && sp.State != maestro.SpeculativeClosed {
				state += " (waiting for " + sp.Waiting + ")"
			}
			part += fmt.Sprintf("; %s: %s", what, state)
		}
		for _, f := range res.Failed {
			part += "; " + f.Error()
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; "), errors.Join(errs...)
}

// joinResults joins an event's results, leaving out empty ones.
func joinResults(a, b string) string {
	switch {
	case b == "":
		return a
	case a == "":
		return b
	}
	return a + "; " + b
}

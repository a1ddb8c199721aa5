package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
)

var _ platform.AutoMerger = (*Platform)(nil)

// enableAutoMerge switches auto-merge on, squashing, only while the head is
// expectedHeadOid (https://docs.github.com/graphql/reference/mutations#enablepullrequestautomerge).
const enableAutoMerge = `mutation EnableAutoMerge($id: ID!, $head: GitObjectID!, $headline: String!, $body: String!) {
  enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: SQUASH, expectedHeadOid: $head, commitHeadline: $headline, commitBody: $body}) {
    pullRequest { autoMergeRequest { enabledAt } }
  }
}`

// EnableAutoMerge implements platform.AutoMerger with GitHub's auto-merge:
// the GraphQL mutation enablePullRequestAutoMerge on the pull request's
// node (its node_id, read with the REST pull request), merge method
// SQUASH, expectedHeadOid opts.Head, and the message's first line and rest
// as commitHeadline and commitBody. GitHub then merges the pull request as
// soon as its base branch's protection is satisfied. It deletes the head
// branch only where the repository deletes head branches on merge; callers
// delete it (DeleteBranch) once Status reports the pull request merged.
//
// A pull request whose auto-merge is on already, at head opts.Head, is
// success without a request. GitHub's refusals (GraphQL errors of type
// UNPROCESSABLE: auto-merge not allowed in the repository, a pull request
// in clean status that can be merged now, a head that is not opts.Head, a
// pull request that is not open) are maestro.KindConflict errors wrapping
// platform.ErrMergeRefused with GitHub's message.
func (p *Platform) EnableAutoMerge(ctx context.Context, pr maestro.PullRequest, opts platform.MergeOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return err
	}
	op := "enable auto-merge of " + pr.URL
	cur, _, err := p.client.PullRequests.Get(ctx, owner, name, pr.Number)
	if err != nil {
		return wrap(op, err)
	}
	switch head := cur.GetHead().GetSHA(); {
	case StateOf(cur) != maestro.PullRequestOpen:
		return refused(op, fmt.Sprintf("the pull request is %s", StateOf(cur)), nil)
	case head != opts.Head:
		return refused(op, fmt.Sprintf("the head is %s, not %s, the commit the merge policies judged", head, opts.Head), nil)
	case cur.AutoMerge != nil && cur.AutoMerge.GetMergeMethod() == "squash":
		return nil
	}
	title, body := platform.SplitMessage(opts.Message)
	var answer struct {
		Errors []graphQLError `json:"errors"`
	}
	if err := p.graphQL(ctx, enableAutoMerge, map[string]any{"id": cur.GetNodeID(), "head": opts.Head, "headline": title, "body": body}, &answer); err != nil {
		return wrap(op, err)
	}
	if len(answer.Errors) == 0 {
		return nil
	}
	gerr := graphQLErrors(answer.Errors)
	switch answer.Errors[0].Type {
	case "UNPROCESSABLE":
		return refused(op, gerr.Error(), gerr)
	case "NOT_FOUND":
		return fmt.Errorf("%s: %w: %w", op, platform.ErrNotFound, gerr)
	}
	return fmt.Errorf("%s: %w", op, gerr)
}

// disableAutoMerge switches auto-merge off
// (https://docs.github.com/graphql/reference/mutations#disablepullrequestautomerge).
const disableAutoMerge = `mutation DisableAutoMerge($id: ID!) {
  disablePullRequestAutoMerge(input: {pullRequestId: $id}) {
    pullRequest { autoMergeRequest { enabledAt } }
  }
}`

// DisableAutoMerge implements platform.AutoMerger: the GraphQL mutation
// disablePullRequestAutoMerge on the pull request's node, when the REST
// pull request shows auto_merge. A pull request without auto_merge —
// never enabled, disabled already, or closed or merged, which turns it off
// — is success without a request.
//
// GitHub refuses the mutation (UNPROCESSABLE, "Can't disable auto-merge
// for this pull request.") for a pull request that is closed, merged or a
// draft, and has been seen to refuse it for one whose auto-merge is off,
// while a version of its server code answers that case with success. So a
// refusal is read again: when the pull request shows no auto_merge any
// more (it merged, or someone turned auto-merge off, between the read and
// the mutation) the call succeeds, and Status tells whether it merged.
func (p *Platform) DisableAutoMerge(ctx context.Context, pr maestro.PullRequest) error {
	owner, name, err := p.ownerRepo(pr.Repository)
	if err != nil {
		return err
	}
	op := "disable auto-merge of " + pr.URL
	cur, _, err := p.client.PullRequests.Get(ctx, owner, name, pr.Number)
	if err != nil {
		return wrap(op, err)
	}
	if cur.AutoMerge == nil {
		return nil
	}
	var answer struct {
		Data struct {
			Disable *struct {
				PullRequest *struct {
					AutoMergeRequest *struct{} `json:"autoMergeRequest"`
				} `json:"pullRequest"`
			} `json:"disablePullRequestAutoMerge"`
		} `json:"data"`
		Errors []graphQLError `json:"errors"`
	}
	if err := p.graphQL(ctx, disableAutoMerge, map[string]any{"id": cur.GetNodeID()}, &answer); err != nil {
		return wrap(op, err)
	}
	if len(answer.Errors) == 0 {
		if d := answer.Data.Disable; d != nil && d.PullRequest != nil && d.PullRequest.AutoMergeRequest != nil {
			return fmt.Errorf("%s: GitHub answered with auto-merge still on; turn it off on the pull request's page", op)
		}
		return nil
	}
	gerr := graphQLErrors(answer.Errors)
	switch answer.Errors[0].Type {
	case "UNPROCESSABLE":
		now, _, err := p.client.PullRequests.Get(ctx, owner, name, pr.Number)
		if err != nil {
			return fmt.Errorf("%s: GitHub refused (%w), and reading the pull request again failed: %w", op, gerr, wrap("pull request "+pr.URL, err))
		}
		if now.AutoMerge == nil {
			return nil
		}
		return fmt.Errorf("%s: GitHub refused and auto-merge stays on: %w; the token's user needs push access to the repository, or turn auto-merge off on the pull request's page", op, gerr)
	case "NOT_FOUND":
		return fmt.Errorf("%s: %w: %w", op, platform.ErrNotFound, gerr)
	case "FORBIDDEN":
		return fmt.Errorf("%s: %w; the token needs pull requests write access to the repository", op, gerr)
	}
	return fmt.Errorf("%s: %w", op, gerr)
}

// graphQLError is one entry of a GraphQL answer's "errors": GitHub answers
// 200 with them when it refuses a query or a mutation.
type graphQLError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// graphQLErrors is the error of a GraphQL answer's errors: their messages.
func graphQLErrors(list []graphQLError) error {
	msgs := make([]string, 0, len(list))
	for _, e := range list {
		msgs = append(msgs, e.Message)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// graphQL posts query with vars to the host's GraphQL endpoint through the
// REST client (the same token, transport and error handling) and decodes
// the answer into out.
func (p *Platform) graphQL(ctx context.Context, query string, vars map[string]any, out any) error {
	endpoint, err := GraphQLURL(p.client.BaseURL)
	if err != nil {
		return err
	}
	req, err := p.client.NewRequest("POST", endpoint, map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	_, err = p.client.Do(ctx, req, out)
	return err
}

// GraphQLURL is the GraphQL endpoint of the host whose REST API is at api:
// https://api.github.com/graphql for github.com, and {host}/api/graphql for
// a GitHub Enterprise Server, whose REST API is at {host}/api/v3/.
func GraphQLURL(api *url.URL) (string, error) {
	if api == nil {
		return "", errors.New("the GitHub client has no API address")
	}
	u := *api
	if base, ok := strings.CutSuffix(u.Path, "/api/v3/"); ok {
		u.Path = base + "/api/graphql"
	} else {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/graphql"
	}
	u.RawPath = ""
	return u.String(), nil
}

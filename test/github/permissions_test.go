package githubdouble_test

import (
	"testing"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

func TestTokenPermissions(t *testing.T) {
	f := newFixture(t, githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", AllowAutoMerge: true,
		Files: map[string]string{"README.md": "# runtime\n", "eng/Versions.props": versionsProps}})
	pr := f.openPR(t, "darc-main-1")
	sha := pr.GetHead().GetSHA()
	f.srv.AddInstallationToken("maestro-app", "ghs_app")
	f.srv.SetPermissions("ghs_app", map[string]string{"pull_requests": "read", "contents": "read"})
	app := f.srv.Client("ghs_app")
	ctx := t.Context()
	const integration = "Resource not accessible by integration"

	// What the permissions allow.
	if _, _, err := app.PullRequests.Get(ctx, "dotnet", "runtime", 1); err != nil {
		t.Fatalf("read a pull request with pull_requests read: %v", err)
	}
	if _, _, err := app.Repositories.Get(ctx, "dotnet", "runtime"); err != nil {
		t.Fatalf("read the repository (metadata, always granted): %v", err)
	}
	if _, _, err := app.Git.GetRef(ctx, "dotnet", "runtime", "heads/main"); err != nil {
		t.Fatalf("read a ref with contents read: %v", err)
	}
	// What they do not.
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"update a pull request", func() error {
			_, _, err := app.PullRequests.Edit(ctx, "dotnet", "runtime", 1, &github.PullRequest{Title: github.String("x")})
			return err
		}},
		{"comment", func() error {
			_, _, err := app.Issues.CreateComment(ctx, "dotnet", "runtime", 1, &github.IssueComment{Body: github.String("x")})
			return err
		}},
		{"create a check run", func() error {
			_, _, err := app.Checks.CreateCheckRun(ctx, "dotnet", "runtime", github.CreateCheckRunOptions{Name: "x", HeadSHA: sha})
			return err
		}},
		{"list check runs", func() error {
			_, _, err := app.Checks.ListCheckRunsForRef(ctx, "dotnet", "runtime", sha, nil)
			return err
		}},
		{"read statuses", func() error {
			_, _, err := app.Repositories.GetCombinedStatus(ctx, "dotnet", "runtime", sha, nil)
			return err
		}},
		{"merge", func() error {
			_, _, err := app.PullRequests.Merge(ctx, "dotnet", "runtime", 1, "", nil)
			return err
		}},
		{"delete a branch", func() error {
			_, err := app.Git.DeleteRef(ctx, "dotnet", "runtime", "heads/darc-main-1")
			return err
		}},
		{"read branch protection", func() error {
			_, _, err := app.Repositories.GetBranchProtection(ctx, "dotnet", "runtime", "main")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, tc.call(), 403, integration)
		})
	}
	if got := f.repo.PullRequest(1); got.GetMerged() || got.GetTitle() == "x" || len(f.repo.Comments(1)) != 0 {
		t.Fatal("a refused request changed the pull request")
	}
	// A repository that does not exist is still 404.
	_, _, err := app.PullRequests.Get(ctx, "dotnet", "nope", 1)
	wantAPIError(t, err, 404, "Not Found")

	// The GraphQL auto-merge mutations need pull_requests write.
	f.protect(t, &github.ProtectionRequest{RequiredStatusChecks: requireChecks(false, "build")})
	wantGQLError(t, graphql(t, f.srv, "/graphql", "ghs_app", enableMutation, map[string]any{"id": pr.GetNodeID()}),
		"FORBIDDEN", integration, "enablePullRequestAutoMerge")

	// Either issues or pull_requests write allows comments on a pull request.
	f.srv.SetPermissions("ghs_app", map[string]string{"issues": "write", "checks": "write"})
	if _, _, err := app.Issues.CreateComment(ctx, "dotnet", "runtime", 1, &github.IssueComment{Body: github.String("ok")}); err != nil {
		t.Fatalf("comment with issues write: %v", err)
	}
	if _, _, err := app.Checks.CreateCheckRun(ctx, "dotnet", "runtime", github.CreateCheckRunOptions{Name: "x", HeadSHA: sha}); err != nil {
		t.Fatalf("check run with checks write: %v", err)
	}

	// A person's fine-grained token gets its own wording; nil lifts the limit.
	f.srv.SetPermissions(githubdouble.DefaultToken, map[string]string{"contents": "read"})
	_, _, err = f.client.PullRequests.Edit(ctx, "dotnet", "runtime", 1, &github.PullRequest{Title: github.String("x")})
	wantAPIError(t, err, 403, "Resource not accessible by personal access token")
	f.srv.SetPermissions(githubdouble.DefaultToken, nil)
	if _, _, err := f.client.PullRequests.Edit(ctx, "dotnet", "runtime", 1, &github.PullRequest{Title: github.String("x")}); err != nil {
		t.Fatalf("after lifting the restriction: %v", err)
	}
}

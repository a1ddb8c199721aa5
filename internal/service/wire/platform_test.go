package wire_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"maps"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

// TestGitHubPolicyReportsFollowTheToken: with GITHUB_TOKEN (a person's
// token, which may not write check runs) merge policies are reported as
// commit statuses; with a GitHub App (MAESTRO_GITHUB_APP_*) as check runs;
// with both, GITHUB_TOKEN is the token and statuses it is.
func TestGitHubPolicyReportsFollowTheToken(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	appEnv := map[string]string{"MAESTRO_GITHUB_APP_ID": "4242", "MAESTRO_GITHUB_APP_INSTALLATION_ID": "99", "MAESTRO_GITHUB_APP_PRIVATE_KEY": pemKey}
	tokenEnv := map[string]string{"GITHUB_TOKEN": githubdouble.DefaultToken}
	both := maps.Clone(appEnv)
	maps.Copy(both, tokenEnv)
	tests := []struct {
		name             string
		env              map[string]string
		statuses, checks int
	}{
		{"GITHUB_TOKEN", tokenEnv, 1, 0},
		{"GitHub App", appEnv, 0, 1},
		{"both", both, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			srv := githubdouble.NewServer(t)
			srv.AddApp("maestro-app", 4242, &key.PublicKey, 99)
			repo := srv.AddRepo(githubdouble.RepoSpec{Owner: "dotnet", Name: "runtime", Files: map[string]string{"README.md": "hello\n"}})
			head := repo.Commit(githubdouble.CommitSpec{Branch: "darc-main-1", Files: map[string]string{"README.md": "changed\n"}})
			vars := map[string]string{wire.EnvGitHubURL: srv.URL(), wire.EnvAllowHTTPLoopback: "true"}
			maps.Copy(vars, tt.env)
			p, err := wire.Env{Getenv: env(vars), Now: time.Now}.Platform(nil, srv.URL()+"/dotnet/runtime")
			require.NoError(t, err)
			rep, ok := p.(platform.PolicyReporter)
			require.True(t, ok)
			pr, err := p.CreatePullRequest(ctx, maestro.PullRequest{Repository: srv.URL() + "/dotnet/runtime", Title: "t", Body: "b", HeadBranch: "darc-main-1", BaseBranch: "main"})
			require.NoError(t, err)
			require.NoError(t, rep.ReportPolicies(ctx, pr, head, []platform.PolicyResult{{Name: "NoRequestedChanges", State: platform.CheckSuccess, Message: "No changes requested."}}))

			client := srv.Client(githubdouble.DefaultToken)
			statuses, _, err := client.Repositories.ListStatuses(ctx, "dotnet", "runtime", head, nil)
			require.NoError(t, err)
			runs, _, err := client.Checks.ListCheckRunsForRef(ctx, "dotnet", "runtime", head, &gh.ListCheckRunsOptions{Filter: gh.String("all")})
			require.NoError(t, err)
			assert.Len(t, statuses, tt.statuses, "commit statuses")
			assert.Len(t, runs.CheckRuns, tt.checks, "check runs")
			got, err := rep.PolicyResults(ctx, pr, head)
			require.NoError(t, err)
			assert.Equal(t, []platform.PolicyResult{{Name: "NoRequestedChanges", State: platform.CheckSuccess, Message: "No changes requested."}}, got)
		})
	}
}

package cmdutil

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	gh "github.com/google/go-github/v60/github"
	"github.com/google/uuid"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/azrepos"
	"github.com/maestroplusplus/maestro/internal/platform/github"
	"github.com/maestroplusplus/maestro/internal/platform/local"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/updater"
)

// Bot identity defaults; MAESTRO_BOT_NAME and MAESTRO_BOT_EMAIL override them.
const (
	defaultBotName  = "maestro-bot"
	defaultBotEmail = "maestro-bot@users.noreply.localhost"
)

// Bot is the author of the flow's commits.
func (f *Factory) Bot() git.Identity {
	id := git.Identity{Name: f.Getenv("MAESTRO_BOT_NAME"), Email: f.Getenv("MAESTRO_BOT_EMAIL")}
	if id.Name == "" {
		id.Name = defaultBotName
	}
	if id.Email == "" {
		id.Email = defaultBotEmail
	}
	return id
}

// Platform returns the git host of a repository: local repositories (an
// absolute path or file:// URL), and GitHub — github.com, or the GitHub
// Enterprise Server at MAESTRO_GITHUB_URL — with the token in GITHUB_TOKEN.
func (f *Factory) Platform(reg *registry.Registry, repo string) (platform.Platform, error) {
	if local.Handles(repo) {
		return local.New(reg, git.Runner{Author: f.Bot()}), nil
	}
	web := strings.TrimSuffix(f.Getenv("MAESTRO_GITHUB_URL"), "/")
	if web == "" {
		web = "https://github.com"
	}
	if strings.HasPrefix(strings.ToLower(repo), strings.ToLower(web)+"/") {
		client := gh.NewClient(nil)
		if web != "https://github.com" {
			var err error
			if client, err = client.WithEnterpriseURLs(web+"/api/v3/", web+"/api/uploads/"); err != nil {
				return nil, UsageErrorf("MAESTRO_GITHUB_URL %q: %v", web, err)
			}
		}
		token, err := f.gitHubToken(client)
		if err != nil {
			return nil, err
		}
		if token == "" {
			return nil, UsageErrorf("repository %s: set GITHUB_TOKEN, or MAESTRO_GITHUB_APP_ID, MAESTRO_GITHUB_APP_INSTALLATION_ID and MAESTRO_GITHUB_APP_PRIVATE_KEY (PEM) for a GitHub App", repo)
		}
		return github.New(client.WithAuthToken(token), web, token, f.Bot()), nil
	}
	if strings.Contains(repo, "/_git/") {
		token, bearer := f.azdoToken()
		if token == "" {
			return nil, UsageErrorf("repository %s: set MAESTRO_AZDO_TOKEN (or run in a job with SYSTEM_ACCESSTOKEN) to push branches and open pull requests", repo)
		}
		org := organizationOf(repo)
		return azrepos.New(org, azdo.Connection(org, token, bearer), token, f.Bot()), nil
	}
	return nil, UsageErrorf("repository %s: pull requests go to local repositories (an absolute path or file:// URL), GitHub (%s) and Azure Repos (https://dev.azure.com/ORG/PROJECT/_git/REPO)", repo, web)
}

// gitHubToken is GITHUB_TOKEN, or else an installation token of the GitHub
// App that MAESTRO_GITHUB_APP_ID, MAESTRO_GITHUB_APP_INSTALLATION_ID and
// MAESTRO_GITHUB_APP_PRIVATE_KEY (the PEM text) name; "" when neither is set.
func (f *Factory) gitHubToken(client *gh.Client) (string, error) {
	if t := f.Getenv("GITHUB_TOKEN"); t != "" {
		return t, nil
	}
	id := f.Getenv("MAESTRO_GITHUB_APP_ID")
	if id == "" {
		return "", nil
	}
	appID, err1 := strconv.ParseInt(id, 10, 64)
	inst, err2 := strconv.ParseInt(f.Getenv("MAESTRO_GITHUB_APP_INSTALLATION_ID"), 10, 64)
	if err1 != nil || err2 != nil {
		return "", UsageErrorf("MAESTRO_GITHUB_APP_ID and MAESTRO_GITHUB_APP_INSTALLATION_ID must be numbers")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(f.Getenv("MAESTRO_GITHUB_APP_PRIVATE_KEY")))
	if err != nil {
		return "", UsageErrorf("MAESTRO_GITHUB_APP_PRIVATE_KEY: not an RSA private key in PEM: %v", err)
	}
	return github.InstallationToken(context.Background(), client, github.App{ID: appID, InstallationID: inst, Key: key}, f.Now())
}

// organizationOf is the organization URL of an Azure Repos repository URL
// (everything before /PROJECT/_git/REPO).
func organizationOf(repo string) string {
	i := strings.Index(repo, "/_git/")
	return repo[:strings.LastIndexByte(repo[:i], '/')]
}

// azdoToken is the Azure DevOps token: MAESTRO_AZDO_TOKEN (a personal access
// token), else the job's SYSTEM_ACCESSTOKEN (a bearer token).
func (f *Factory) azdoToken() (token string, bearer bool) {
	if t := f.Getenv("MAESTRO_AZDO_TOKEN"); t != "" {
		return t, false
	}
	return f.Getenv("SYSTEM_ACCESSTOKEN"), true
}

// Updater returns the updater that flows subscriptions with reg. Update
// pipelines are queued with MAESTRO_AZDO_TOKEN (a personal access token) or
// else the job's SYSTEM_ACCESSTOKEN.
func (f *Factory) Updater(reg *registry.Registry) *updater.Updater {
	u := &updater.Updater{
		Registry: reg,
		Platform: func(repo string) (platform.Platform, error) { return f.Platform(reg, repo) },
		Now:      f.Now,
		NewID:    uuid.NewString,
		BotEmail: f.Bot().Email,
		BodyLimit: func(repo string) int {
			if strings.Contains(repo, "/_git/") {
				return azrepos.MaxDescription
			}
			return 0
		},
	}
	if token, bearer := f.azdoToken(); token != "" {
		u.Queue = func(ctx context.Context, up maestro.UpdatePipeline, subID string, buildID int) (string, error) {
			q, err := azdo.Queue(ctx, azdo.Connection(up.Organization, token, bearer), up, subID, buildID)
			if q.URL == "" {
				q.URL = fmt.Sprintf("%s run %d", azdo.PipelineURL(up), q.ID)
			}
			return q.URL, err
		}
	}
	return u
}

// DescribeOutcome says a flow outcome in one line.
func DescribeOutcome(o maestro.FlowOutcome) string {
	s := fmt.Sprintf("subscription %s, build %d: %s", o.SubscriptionID, o.BuildID, o.Result)
	if o.PullRequestURL != "" {
		s += " " + o.PullRequestURL
	}
	if o.Message != "" {
		s += " — " + o.Message
	}
	return s
}

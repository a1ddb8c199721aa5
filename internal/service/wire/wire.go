// Package wire is the composition root of the flow: it decides which git
// host serves a repository URL, which token goes to it, how update pipelines
// are queued and who the bot is, all from the process environment, and
// assembles the flow service from them. The command line and `maestro serve`
// both build their service here, so they flow identically.
package wire

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	gh "github.com/google/go-github/v60/github"
	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/httptimeout"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/platform/azrepos"
	"github.com/maestroplusplus/maestro/internal/platform/github"
	"github.com/maestroplusplus/maestro/internal/platform/local"
	"github.com/maestroplusplus/maestro/internal/prbody"
	"github.com/maestroplusplus/maestro/internal/redact"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/updater"
)

// Bot identity defaults; MAESTRO_BOT_NAME and MAESTRO_BOT_EMAIL override them.
const (
	defaultBotName  = "maestro-bot"
	defaultBotEmail = "maestro-bot@users.noreply.localhost"
)

// Env is the configuration the wiring reads: an environment lookup and a clock.
type Env struct {
	Getenv func(string) string
	Now    func() time.Time
}

// Bot is the author of the flow's commits.
func (e Env) Bot() git.Identity {
	id := git.Identity{Name: e.Getenv("MAESTRO_BOT_NAME"), Email: e.Getenv("MAESTRO_BOT_EMAIL")}
	if id.Name == "" {
		id.Name = defaultBotName
	}
	if id.Email == "" {
		id.Email = defaultBotEmail
	}
	return id
}

// Service assembles the flow service on reg.
func (e Env) Service(reg *registry.Registry) *service.Service {
	return &service.Service{Registry: reg, Updater: e.Updater(reg), Platform: func(repo string) (platform.Platform, error) { return e.Platform(reg, repo) }, Now: e.Now}
}

// Platform returns the git host of a repository: local repositories (an
// absolute path or file:// URL); GitHub — github.com, or the GitHub
// Enterprise Server at MAESTRO_GITHUB_URL — with GITHUB_TOKEN or a GitHub
// App's installation token (github.AsApp: merge policies are then reported
// as check runs, else as commit statuses); Azure Repos on dev.azure.com, *.visualstudio.com
// or an Azure DevOps Server in MAESTRO_AZDO_SERVER_URLS, with
// MAESTRO_AZDO_TOKEN or the job's SYSTEM_ACCESSTOKEN. Any other URL is
// refused before a token is read (see Hosts).
func (e Env) Platform(reg *registry.Registry, repo string) (platform.Platform, error) {
	if local.Handles(repo) {
		return local.New(reg, git.Runner{Author: e.Bot()}), nil
	}
	hosts, err := ParseHosts(e.Getenv)
	if err != nil {
		return nil, err
	}
	kind, org, err := hosts.Repository(repo)
	if err != nil {
		return nil, err
	}
	if kind == HostAzureDevOps {
		token, bearer := e.azdoToken()
		if token == "" {
			return nil, maestro.Errorf(maestro.KindInvalid, "repository %s: set MAESTRO_AZDO_TOKEN (or run in a job with SYSTEM_ACCESSTOKEN) to push branches and open pull requests", repo)
		}
		conn, err := e.azdoConnection(org, token, bearer)
		if err != nil {
			return nil, err
		}
		return azrepos.New(org, conn, token, e.Bot()), nil
	}
	web := hosts.GitHub.String()
	hc, err := e.apiClient()
	if err != nil {
		return nil, err
	}
	client := gh.NewClient(hc)
	if web != "https://github.com" {
		if client, err = client.WithEnterpriseURLs(web+"/api/v3/", web+"/api/uploads/"); err != nil {
			return nil, maestro.Errorf(maestro.KindInvalid, "%s %q: %v", EnvGitHubURL, web, err)
		}
	}
	token, app, err := e.gitHubToken(client)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "repository %s: set GITHUB_TOKEN, or MAESTRO_GITHUB_APP_ID, MAESTRO_GITHUB_APP_INSTALLATION_ID and MAESTRO_GITHUB_APP_PRIVATE_KEY (PEM) for a GitHub App", repo)
	}
	var opts []github.Option
	if app {
		opts = append(opts, github.AsApp()) // merge policies as check runs, which only an App may write
	}
	return github.New(client.WithAuthToken(token), web, token, e.Bot(), opts...), nil
}

var _ maestro.HostChecker = Env{}

// CheckTarget says whether a platform serves a target repository in this
// configuration: a local repository, or a URL Hosts.Repository recognises
// (the same test Platform applies before it reads a token).
func (e Env) CheckTarget(repo string) error {
	if local.Handles(repo) {
		return nil
	}
	hosts, err := ParseHosts(e.Getenv)
	if err != nil {
		return err
	}
	_, _, err = hosts.Repository(repo)
	return err
}

// CheckPipelineOrganization says whether an update pipeline's organization
// lies on a configured Azure DevOps host (the test Updater's queue applies
// before it sends a token).
func (e Env) CheckPipelineOrganization(org string) error {
	hosts, err := ParseHosts(e.Getenv)
	if err != nil {
		return err
	}
	_, err = hosts.Organization(org)
	return err
}

// gitHubToken is GITHUB_TOKEN (app false: taken for a person's token), or
// else an installation token of the GitHub App that MAESTRO_GITHUB_APP_ID,
// MAESTRO_GITHUB_APP_INSTALLATION_ID and MAESTRO_GITHUB_APP_PRIVATE_KEY (the
// PEM text) name (app true); "" when neither is set.
func (e Env) gitHubToken(client *gh.Client) (token string, app bool, err error) {
	if t := e.Getenv("GITHUB_TOKEN"); t != "" {
		return t, false, nil
	}
	id := e.Getenv("MAESTRO_GITHUB_APP_ID")
	if id == "" {
		return "", false, nil
	}
	appID, err1 := strconv.ParseInt(id, 10, 64)
	inst, err2 := strconv.ParseInt(e.Getenv("MAESTRO_GITHUB_APP_INSTALLATION_ID"), 10, 64)
	if err1 != nil || err2 != nil {
		return "", false, maestro.Errorf(maestro.KindInvalid, "MAESTRO_GITHUB_APP_ID and MAESTRO_GITHUB_APP_INSTALLATION_ID must be numbers")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(e.Getenv("MAESTRO_GITHUB_APP_PRIVATE_KEY")))
	if err != nil {
		return "", false, maestro.Errorf(maestro.KindInvalid, "MAESTRO_GITHUB_APP_PRIVATE_KEY: not an RSA private key in PEM: %v", err)
	}
	hc, err := e.apiClient() // its requests bounded, its errors redacted
	if err != nil {
		return "", false, err
	}
	token, err = github.InstallationToken(context.Background(), client, github.App{ID: appID, InstallationID: inst, Key: key, HTTPClient: hc}, e.Now())
	return token, err == nil, err
}

// azdoToken is the Azure DevOps token: MAESTRO_AZDO_TOKEN (a personal access
// token), else the job's SYSTEM_ACCESSTOKEN (a bearer token).
func (e Env) azdoToken() (token string, bearer bool) {
	if t := e.Getenv("MAESTRO_AZDO_TOKEN"); t != "" {
		return t, false
	}
	return e.Getenv("SYSTEM_ACCESSTOKEN"), true
}

// Updater returns the updater that flows subscriptions with reg. Update
// pipelines are queued with MAESTRO_AZDO_TOKEN (a personal access token) or
// else the job's SYSTEM_ACCESSTOKEN, only in organizations that Hosts
// recognises.
func (e Env) Updater(reg *registry.Registry) *updater.Updater {
	u := &updater.Updater{
		Registry: reg,
		Platform: func(repo string) (platform.Platform, error) { return e.Platform(reg, repo) },
		Now:      e.Now,
		NewID:    uuid.NewString,
		BotEmail: e.Bot().Email,
		BodyLimit: func(repo string) prbody.Limit {
			if local.Handles(repo) {
				return prbody.Limit{}
			}
			hosts, err := ParseHosts(e.Getenv)
			if err != nil {
				return prbody.Limit{}
			}
			switch kind, _, _ := hosts.Repository(repo); kind {
			case HostAzureDevOps:
				return azrepos.BodyLimit
			case HostGitHub:
				return github.BodyLimit
			}
			return prbody.Limit{}
		},
	}
	if token, bearer := e.azdoToken(); token != "" {
		u.Queue = func(ctx context.Context, up maestro.UpdatePipeline, subID string, buildID int) (string, error) {
			hosts, err := ParseHosts(e.Getenv)
			if err != nil {
				return "", err
			}
			if up.Organization, err = hosts.Organization(up.Organization); err != nil {
				return "", fmt.Errorf("update pipeline: %w", err)
			}
			conn, err := e.azdoConnection(up.Organization, token, bearer)
			if err != nil {
				return "", err
			}
			q, err := azdo.Queue(ctx, conn, up, subID, buildID)
			if q.URL == "" {
				q.URL = fmt.Sprintf("%s run %d", azdo.PipelineURL(up), q.ID)
			}
			return q.URL, err
		}
	}
	return u
}

// apiClient is the HTTP client of the GitHub API: each request bounded
// by MAESTRO_HTTP_TIMEOUT (a host that never answers fails, naming
// itself, instead of hanging the command), errors and error bodies
// without the token.
func (e Env) apiClient() (*http.Client, error) {
	d, err := httptimeout.FromEnv(e.Getenv)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: &redact.Transport{Base: &httptimeout.Transport{Timeout: d}}}, nil
}

// azdoConnection connects to an Azure DevOps organization with each
// request bounded by MAESTRO_HTTP_TIMEOUT (the client's Timeout: its
// transport cannot be replaced; httptimeout.Explain names the host).
func (e Env) azdoConnection(org, token string, bearer bool) (*azuredevops.Connection, error) {
	d, err := httptimeout.FromEnv(e.Getenv)
	if err != nil {
		return nil, err
	}
	conn := azdo.Connection(org, token, bearer)
	conn.Timeout = &d
	return conn, nil
}

package wire

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
	"github.com/maestroplusplus/maestro/internal/platform/local"
	"github.com/maestroplusplus/maestro/internal/redact"
	"github.com/maestroplusplus/maestro/internal/service"
)

// MirrorGit returns the git runner a mirror run from source to target
// uses: the bot as author, and for each side on a configured host that
// host's token, scoped to that repository's URL. The source is a local
// repository, a GitHub repository (GITHUB_TOKEN or the GitHub App, when
// set: public repositories need none) or an Azure Repos one; the target is
// a local repository or an Azure Repos one, and then MAESTRO_AZDO_TOKEN or
// the job's SYSTEM_ACCESSTOKEN is required. Errors are of kind invalid and
// name the flag (--source, --target) they are about.
func (e Env) MirrorGit(source, target string) (git.Runner, error) {
	g := git.Runner{Author: e.Bot()}
	var hosts Hosts
	if !local.Handles(source) || !local.Handles(target) {
		var err error
		if hosts, err = ParseHosts(e.Getenv); err != nil {
			return g, err
		}
	}
	if !local.Handles(target) {
		cred, err := e.mirrorTargetCredential(hosts, target)
		if err != nil {
			return g, err
		}
		g.Credentials = append(g.Credentials, cred)
	}
	if !local.Handles(source) {
		kind, _, err := hosts.Repository(source)
		if err != nil {
			return g, fmt.Errorf("--source: %w", err)
		}
		var token string
		switch kind {
		case HostAzureDevOps:
			token, _ = e.azdoToken()
		case HostGitHub:
			hc, err := e.apiClient()
			if err != nil {
				return g, err
			}
			client := gh.NewClient(hc)
			if web := hosts.GitHub.String(); web != "https://github.com" {
				if client, err = client.WithEnterpriseURLs(web+"/api/v3/", web+"/api/uploads/"); err != nil {
					return g, maestro.Errorf(maestro.KindInvalid, "%s %q: %v", EnvGitHubURL, web, err)
				}
			}
			if token, _, err = e.gitHubToken(client); err != nil {
				return g, err
			}
		}
		if token != "" {
			g.Credentials = append(g.Credentials, git.Credential{URL: source, Token: token})
		}
	}
	return g, nil
}

// mirrorTargetCredential is the token for target, an Azure Repos
// repository on one of hosts (see MirrorGit).
func (e Env) mirrorTargetCredential(hosts Hosts, target string) (git.Credential, error) {
	kind, _, err := hosts.Repository(target)
	if err != nil {
		return git.Credential{}, fmt.Errorf("--target: %w", err)
	}
	if kind != HostAzureDevOps {
		return git.Credential{}, maestro.Errorf(maestro.KindInvalid, "--target %s: not an Azure Repos repository (https://dev.azure.com/ORG/PROJECT/_git/REPO); mirrors write to Azure Repos or a local repository", redact.String(target))
	}
	token, _ := e.azdoToken()
	if token == "" {
		return git.Credential{}, maestro.Errorf(maestro.KindInvalid, "--target %s: set MAESTRO_AZDO_TOKEN (or run in a job with SYSTEM_ACCESSTOKEN) to push the mirror", target)
	}
	return git.Credential{URL: target, Token: token}, nil
}

var _ maestro.MirrorHostChecker = Env{}

// CheckMirrorTarget says whether repo is an Azure Repos repository on a
// configured Azure DevOps host (dev.azure.com, *.visualstudio.com, or a
// server in MAESTRO_AZDO_SERVER_URLS): what a mirror may write to.
func (e Env) CheckMirrorTarget(repo string) error {
	hosts, err := ParseHosts(e.Getenv)
	if err != nil {
		return err
	}
	kind, _, err := hosts.Repository(repo)
	if err != nil {
		return err
	}
	if kind != HostAzureDevOps {
		return maestro.Errorf(maestro.KindInvalid, "%s is not an Azure Repos repository (https://dev.azure.com/ORG/PROJECT/_git/REPO, or on a server in %s)", redact.String(repo), EnvAzdoServerURLs)
	}
	return nil
}

// MirrorQueue queues mirror pipelines with MAESTRO_AZDO_TOKEN (a personal
// access token) or else the job's SYSTEM_ACCESSTOKEN, only in organizations
// that Hosts recognises, and reads their runs back.
func (e Env) MirrorQueue() (mirror.Queuer, error) {
	token, bearer := e.azdoToken()
	if token == "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "set MAESTRO_AZDO_TOKEN (or run in a job with SYSTEM_ACCESSTOKEN) to queue mirror pipelines")
	}
	return mirrorQueue{e: e, token: token, bearer: bearer}, nil
}

type mirrorQueue struct {
	e      Env
	token  string
	bearer bool
}

func (q mirrorQueue) pipelines(up maestro.UpdatePipeline) (azdo.Pipelines, maestro.UpdatePipeline, error) {
	hosts, err := ParseHosts(q.e.Getenv)
	if err != nil {
		return azdo.Pipelines{}, up, err
	}
	if up.Organization, err = hosts.Organization(up.Organization); err != nil {
		return azdo.Pipelines{}, up, fmt.Errorf("mirror pipeline: %w", err)
	}
	conn, err := q.e.azdoConnection(up.Organization, q.token, q.bearer)
	if err != nil {
		return azdo.Pipelines{}, up, err
	}
	return azdo.Pipelines{Conn: conn}, up, nil
}

func (q mirrorQueue) Queue(ctx context.Context, up maestro.UpdatePipeline, params [][2]string) (int, string, error) {
	p, up, err := q.pipelines(up)
	if err != nil {
		return 0, "", err
	}
	return p.Queue(ctx, up, params)
}

func (q mirrorQueue) Active(ctx context.Context, up maestro.UpdatePipeline, id int) (bool, error) {
	p, up, err := q.pipelines(up)
	if err != nil {
		return false, err
	}
	return p.Active(ctx, up, id)
}

var _ service.MirrorHosts = Env{}

// MirrorOnTarget reports whether commit is on branch of a mirror's target
// (see mirror.Mirror.OnTarget), asking the target with its token and
// nothing else (see MirrorGit).
func (e Env) MirrorOnTarget(ctx context.Context, target, branch, commit string) (bool, error) {
	g := git.Runner{Author: e.Bot()}
	if !local.Handles(target) {
		hosts, err := ParseHosts(e.Getenv)
		if err != nil {
			return false, err
		}
		cred, err := e.mirrorTargetCredential(hosts, target)
		if err != nil {
			return false, err
		}
		g.Credentials = []git.Credential{cred}
	}
	return mirror.Mirror{Git: g}.OnTarget(ctx, target, branch, commit)
}

// Package azdo queues dependency-update pipelines in Azure DevOps through the
// azure-devops-go-api client: a YAML pipeline run with template parameters,
// or a classic build with variables, carrying the subscription and build.
package azdo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/pipelines"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
)

// Template parameters (YAML pipelines) and variables (classic definitions)
// that carry the work to pipelines/dependency-update.yml.
const (
	ParamSubscriptionID = "subscriptionId"
	ParamBuildID        = "buildId"
)

// ParsePipelineURL reads a pipeline's address as a browser shows it,
// https://dev.azure.com/{org}/{project}/_build?definitionId={id} (or
// https://{org}.visualstudio.com/{project}/...).
func ParsePipelineURL(raw string) (maestro.UpdatePipeline, error) {
	var up maestro.UpdatePipeline
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return up, fmt.Errorf("pipeline URL %q: use https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID", redact.String(raw))
	}
	if u.User != nil {
		return up, fmt.Errorf("pipeline URL %q: remove the user name and password; the token comes from the environment (MAESTRO_AZDO_TOKEN or SYSTEM_ACCESSTOKEN)", redact.String(raw))
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	base := u.Scheme + "://" + u.Host
	if org, ok := strings.CutSuffix(strings.ToLower(u.Host), ".visualstudio.com"); ok {
		base = "https://dev.azure.com/" + org
	} else if len(parts) > 0 {
		base += "/" + parts[0]
		parts = parts[1:]
	}
	id, err := strconv.Atoi(u.Query().Get("definitionId"))
	if len(parts) == 0 || parts[0] == "" || err != nil || id <= 0 {
		return up, fmt.Errorf("pipeline URL %q: use https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID", raw)
	}
	project, err := url.PathUnescape(parts[0])
	if err != nil {
		return up, fmt.Errorf("pipeline URL %q: %w", raw, err)
	}
	return maestro.UpdatePipeline{Organization: base, Project: project, PipelineID: id}, nil
}

// PipelineURL is the browser address of a pipeline, as ParsePipelineURL reads it.
func PipelineURL(up maestro.UpdatePipeline) string {
	return fmt.Sprintf("%s/%s/_build?definitionId=%d", strings.TrimSuffix(up.Organization, "/"), url.PathEscape(up.Project), up.PipelineID)
}

// Connection opens a connection to an organization with a token: a personal
// access token (Basic) or, with bearer, the job's System.AccessToken.
func Connection(organization, token string, bearer bool) *azuredevops.Connection {
	if bearer {
		c := azuredevops.NewAnonymousConnection(organization)
		c.AuthorizationString = "Bearer " + token
		return c
	}
	return azuredevops.NewPatConnection(organization, token)
}

// Queued describes a queued update.
type Queued struct {
	ID  int    // run or build id
	URL string // its web page
}

// Queue queues the update pipeline for a subscription and build.
// Its errors pass through redact: the service may echo the token.
func Queue(ctx context.Context, conn *azuredevops.Connection, up maestro.UpdatePipeline, subscriptionID string, buildID int) (_ Queued, err error) {
	defer func() { err = redact.Error(err, redact.AuthorizationSecrets(conn.AuthorizationString)...) }()
	if up.Classic {
		return queueClassic(ctx, conn, up, subscriptionID, buildID)
	}
	client := pipelines.NewClient(ctx, conn)
	run, err := client.RunPipeline(ctx, pipelines.RunPipelineArgs{
		Project:    &up.Project,
		PipelineId: &up.PipelineID,
		RunParameters: &pipelines.RunPipelineParameters{
			TemplateParameters: &map[string]string{
				ParamSubscriptionID: subscriptionID,
				ParamBuildID:        strconv.Itoa(buildID),
			},
		},
	})
	if err != nil {
		return Queued{}, fmt.Errorf("queue pipeline %s: %w", PipelineURL(up), err)
	}
	q := Queued{ID: deref(run.Id)}
	if run.Links != nil {
		q.URL = webLink(run.Links)
	}
	return q, nil
}

func queueClassic(ctx context.Context, conn *azuredevops.Connection, up maestro.UpdatePipeline, subscriptionID string, buildID int) (Queued, error) {
	client, err := build.NewClient(ctx, conn)
	if err != nil {
		return Queued{}, fmt.Errorf("connect to %s: %w", up.Organization, err)
	}
	params, err := json.Marshal(map[string]string{ParamSubscriptionID: subscriptionID, ParamBuildID: strconv.Itoa(buildID)})
	if err != nil {
		return Queued{}, err
	}
	p := string(params)
	b, err := client.QueueBuild(ctx, build.QueueBuildArgs{
		Project: &up.Project,
		Build:   &build.Build{Definition: &build.DefinitionReference{Id: &up.PipelineID}, Parameters: &p},
	})
	if err != nil {
		return Queued{}, fmt.Errorf("queue build definition %s: %w", PipelineURL(up), err)
	}
	q := Queued{ID: deref(b.Id)}
	if b.Links != nil {
		q.URL = webLink(b.Links)
	}
	return q, nil
}

// webLink reads _links.web.href from a links object.
func webLink(links any) string {
	data, err := json.Marshal(links)
	if err != nil {
		return ""
	}
	var l struct {
		Web struct {
			Href string `json:"href"`
		} `json:"web"`
	}
	if json.Unmarshal(data, &l) != nil {
		return ""
	}
	return l.Web.Href
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// QueueWith queues a pipeline with parameters (name, value): a YAML
// pipeline's run with them as template parameters, or a classic
// definition's build with them as variables. Its errors pass through
// redact: the service may echo the token.
func QueueWith(ctx context.Context, conn *azuredevops.Connection, up maestro.UpdatePipeline, params [][2]string) (_ Queued, err error) {
	if up.Classic {
		return QueueBuild(ctx, conn, BuildRequest{Project: up.Project, DefinitionID: up.PipelineID, Parameters: params})
	}
	defer func() { err = redact.Error(err, redact.AuthorizationSecrets(conn.AuthorizationString)...) }()
	tp := make(map[string]string, len(params))
	for _, p := range params {
		tp[p[0]] = p[1]
	}
	run, err := pipelines.NewClient(ctx, conn).RunPipeline(ctx, pipelines.RunPipelineArgs{
		Project: &up.Project, PipelineId: &up.PipelineID,
		RunParameters: &pipelines.RunPipelineParameters{TemplateParameters: &tp},
	})
	if err != nil {
		return Queued{}, fmt.Errorf("queue pipeline %s: %w", PipelineURL(up), err)
	}
	q := Queued{ID: deref(run.Id)}
	if run.Links != nil {
		q.URL = webLink(run.Links)
	}
	return q, nil
}

// Active reports whether the run or build id of a project is queued or
// running (Builds API status notStarted, inProgress or postponed): a
// pipeline run is a build, so both kinds are read the same way. A build the
// service does not have (404: deleted by retention or by hand) is not
// active.
func Active(ctx context.Context, conn *azuredevops.Connection, project string, id int) (_ bool, err error) {
	defer func() { err = redact.Error(err, redact.AuthorizationSecrets(conn.AuthorizationString)...) }()
	client, err := build.NewClient(ctx, conn)
	if err != nil {
		return false, fmt.Errorf("connect to %s: %w", conn.BaseUrl, err)
	}
	b, err := client.GetBuild(ctx, build.GetBuildArgs{Project: &project, BuildId: &id})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read build %d of %s/%s: %w", id, conn.BaseUrl, project, err)
	}
	if b.Status == nil {
		return false, nil
	}
	switch *b.Status {
	case build.BuildStatusValues.NotStarted, build.BuildStatusValues.InProgress, build.BuildStatusValues.Postponed:
		return true, nil
	}
	return false, nil
}

// Pipelines queues runs with QueueWith and reads them with Active, over
// one connection (one organization).
type Pipelines struct{ Conn *azuredevops.Connection }

// Queue queues up with params and returns the run's id and web page.
func (p Pipelines) Queue(ctx context.Context, up maestro.UpdatePipeline, params [][2]string) (int, string, error) {
	q, err := QueueWith(ctx, p.Conn, up, params)
	if q.URL == "" && err == nil {
		q.URL = fmt.Sprintf("%s run %d", PipelineURL(up), q.ID)
	}
	return q.ID, q.URL, err
}

// Active reports whether run id of up's project is queued or running.
func (p Pipelines) Active(ctx context.Context, up maestro.UpdatePipeline, id int) (bool, error) {
	return Active(ctx, p.Conn, up.Project, id)
}

// isNotFound reports whether err is the service's 404. The client returns
// its WrappedError both as a value and as a pointer, so both are checked.
func isNotFound(err error) bool {
	var e azuredevops.WrappedError
	if errors.As(err, &e) && e.StatusCode != nil && *e.StatusCode == http.StatusNotFound {
		return true
	}
	var ep *azuredevops.WrappedError
	return errors.As(err, &ep) && ep.StatusCode != nil && *ep.StatusCode == http.StatusNotFound
}

package wire

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
)

// LegacyQueuer queues the builds of legacy subscriptions' actions through
// the Azure DevOps Build - Queue API with MAESTRO_AZDO_TOKEN (or the job's
// SYSTEM_ACCESSTOKEN). An action's vsoInstance (a host such as
// dnceng.visualstudio.com) is reached at https://{vsoInstance}, or at the
// organization URL instances maps it to; the token goes only to an
// organization Hosts recognises.
func (e Env) LegacyQueuer(instances map[string]string) (legacy.Queuer, error) {
	token, bearer := e.azdoToken()
	if token == "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "set MAESTRO_AZDO_TOKEN (or run in a job with SYSTEM_ACCESSTOKEN) to queue the actions' builds")
	}
	hosts, err := ParseHosts(e.Getenv)
	if err != nil {
		return nil, err
	}
	q := &legacyQueuer{env: e, token: token, bearer: bearer, orgs: map[string]string{}}
	for instance, raw := range instances {
		org, err := hosts.Organization(raw)
		if err != nil {
			return nil, fmt.Errorf("--vso-url %s=%s: %w", instance, redact.String(raw), err)
		}
		q.orgs[strings.ToLower(instance)] = org
	}
	q.hosts = hosts
	return q, nil
}

type legacyQueuer struct {
	env    Env
	token  string
	bearer bool
	hosts  Hosts
	orgs   map[string]string // lower-case vsoInstance → organization URL
}

func (q *legacyQueuer) request(t legacy.Trigger, marker string) (string, azdo.BuildRequest, error) {
	org, ok := q.orgs[strings.ToLower(t.Action.VSOInstance)]
	if !ok {
		var err error
		if org, err = q.hosts.Organization("https://" + t.Action.VSOInstance); err != nil {
			return "", azdo.BuildRequest{}, fmt.Errorf("action %s: %w; map its vsoInstance with --vso-url %s=URL", t.Action.Name, err, t.Action.VSOInstance)
		}
	}
	return org, azdo.BuildRequest{
		Project: t.Action.VSOProject, DefinitionID: t.Action.BuildDefinitionID,
		SourceBranch: t.SourceBranch, Parameters: t.Parameters(),
		TriggerInfo: triggerInfo(marker),
	}, nil
}

// triggerInfo marks a build with its pending action's marker.
func triggerInfo(marker string) map[string]string {
	if marker == "" {
		return nil
	}
	return map[string]string{legacy.MarkerKey: marker}
}

func (q *legacyQueuer) Queue(ctx context.Context, t legacy.Trigger, marker string) (legacy.QueuedBuild, error) {
	org, req, err := q.request(t, marker)
	if err != nil {
		return legacy.QueuedBuild{}, err
	}
	conn, err := q.env.azdoConnection(org, q.token, q.bearer)
	if err != nil {
		return legacy.QueuedBuild{}, err
	}
	b, err := azdo.QueueBuild(ctx, conn, req)
	return legacy.QueuedBuild{ID: b.ID, URL: b.URL}, err
}

func (q *legacyQueuer) Find(ctx context.Context, t legacy.Trigger, marker string, since time.Time, skip []int) (legacy.QueuedBuild, bool, error) {
	org, req, err := q.request(t, marker)
	if err != nil {
		return legacy.QueuedBuild{}, false, err
	}
	conn, err := q.env.azdoConnection(org, q.token, q.bearer)
	if err != nil {
		return legacy.QueuedBuild{}, false, err
	}
	b, found, err := azdo.FindQueued(ctx, conn, req, since, skip...)
	return legacy.QueuedBuild{ID: b.ID, URL: b.URL}, found, err
}

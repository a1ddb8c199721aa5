package azdo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"

	"github.com/maestroplusplus/maestro/internal/redact"
)

// BuildRequest is a build of a definition with its source branch and
// parameters, as the old Maestro queued them.
type BuildRequest struct {
	Project      string
	DefinitionID int
	SourceBranch string // "": the definition's default branch
	// SourceVersion is the commit to build ("": the branch's head).
	SourceVersion string
	Parameters    [][2]string // name, value; sent in this order as a JSON object
	// TriggerInfo is sent as the build's triggerInfo, which the Builds API
	// returns with it: FindQueued takes only a build that carries all of
	// it, so a marker here tells one request's build from another's with
	// the same definition, branch and parameters.
	TriggerInfo map[string]string
}

// ParametersJSON is the parameters as QueueBuild takes them: a JSON object
// of names and values, as a string, in the request's order.
func (r BuildRequest) ParametersJSON() string {
	if len(r.Parameters) == 0 {
		return ""
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range r.Parameters {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p[0])
		v, _ := json.Marshal(p[1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

// QueueBuild queues a build (the Build - Queue operation). Its errors pass
// through redact: the service may echo the token.
func QueueBuild(ctx context.Context, conn *azuredevops.Connection, r BuildRequest) (_ Queued, err error) {
	defer func() { err = redact.Error(err, redact.AuthorizationSecrets(conn.AuthorizationString)...) }()
	client, err := build.NewClient(ctx, conn)
	if err != nil {
		return Queued{}, fmt.Errorf("connect to %s: %w", conn.BaseUrl, err)
	}
	b := &build.Build{Definition: &build.DefinitionReference{Id: &r.DefinitionID}}
	if r.SourceBranch != "" {
		branch := r.SourceBranch
		if !strings.HasPrefix(branch, "refs/") {
			branch = "refs/heads/" + branch
		}
		b.SourceBranch = &branch
	}
	if r.SourceVersion != "" {
		b.SourceVersion = &r.SourceVersion
	}
	if p := r.ParametersJSON(); p != "" {
		b.Parameters = &p
	}
	if len(r.TriggerInfo) > 0 {
		info := maps.Clone(r.TriggerInfo)
		b.TriggerInfo = &info
	}
	queued, err := client.QueueBuild(ctx, build.QueueBuildArgs{Project: &r.Project, Build: b})
	if err != nil {
		return Queued{}, fmt.Errorf("queue build definition %d in %s/%s: %w", r.DefinitionID, conn.BaseUrl, r.Project, err)
	}
	q := Queued{ID: deref(queued.Id)}
	if queued.Links != nil {
		q.URL = webLink(queued.Links)
	}
	return q, nil
}

// FindQueued looks for a build of r's definition queued at or after since
// with r's source branch and parameters and carrying r's TriggerInfo, other
// than the builds skip names:
// the build an earlier attempt queued before it could record having done so
// (skip: the builds the caller knows were queued for something else).
func FindQueued(ctx context.Context, conn *azuredevops.Connection, r BuildRequest, since time.Time, skip ...int) (_ Queued, found bool, err error) {
	defer func() { err = redact.Error(err, redact.AuthorizationSecrets(conn.AuthorizationString)...) }()
	client, err := build.NewClient(ctx, conn)
	if err != nil {
		return Queued{}, false, fmt.Errorf("connect to %s: %w", conn.BaseUrl, err)
	}
	min := azuredevops.Time{Time: since}
	res, err := client.GetBuilds(ctx, build.GetBuildsArgs{Project: &r.Project, Definitions: &[]int{r.DefinitionID}, MinTime: &min})
	if err != nil {
		return Queued{}, false, fmt.Errorf("list builds of definition %d in %s/%s: %w", r.DefinitionID, conn.BaseUrl, r.Project, err)
	}
	want := r.ParametersJSON()
	for _, b := range res.Value {
		if b.Definition == nil || deref(b.Definition.Id) != r.DefinitionID || b.QueueTime == nil || b.QueueTime.Time.Before(since) {
			continue
		}
		if r.SourceBranch != "" && strings.TrimPrefix(derefString(b.SourceBranch), "refs/heads/") != strings.TrimPrefix(r.SourceBranch, "refs/heads/") {
			continue
		}
		if derefString(b.Parameters) != want || slices.Contains(skip, deref(b.Id)) || !carries(b.TriggerInfo, r.TriggerInfo) {
			continue
		}
		q := Queued{ID: deref(b.Id)}
		if b.Links != nil {
			q.URL = webLink(b.Links)
		}
		return q, true, nil
	}
	return Queued{}, false, nil
}

// carries reports whether a build's triggerInfo holds every entry of want.
func carries(info *map[string]string, want map[string]string) bool {
	for k, v := range want {
		if info == nil {
			return false
		}
		if got, ok := (*info)[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

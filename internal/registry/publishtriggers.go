package registry

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
)

// publishTriggersKey holds every publish trigger in one document, rewritten
// whole under its ETag: each change is one compare-and-swap, so concurrent
// writers never lose each other's change and a crash leaves the document
// before or after one change.
const publishTriggersKey = "config/publish-triggers.json"

type publishTriggersDoc struct {
	Triggers []maestro.PublishTrigger `json:"triggers"`
}

// NormalizeOrganization is an organization URL as publish triggers keep
// and compare it: without trailing slashes; https://{org}.visualstudio.com
// becomes https://dev.azure.com/{org}.
func NormalizeOrganization(raw string) string {
	s := strings.TrimRight(strings.TrimSpace(raw), "/")
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	if org, ok := strings.CutSuffix(strings.ToLower(u.Host), ".visualstudio.com"); ok && strings.Trim(u.Path, "/") == "" {
		return "https://dev.azure.com/" + org
	}
	return s
}

// ValidatePublishTrigger checks a publish trigger, naming the field at
// fault: organization an http(s) URL without user info, query or fragment;
// a project; a positive definitionId. With hosts, the organization must be
// one this configuration sends Azure DevOps tokens to.
func ValidatePublishTrigger(t maestro.PublishTrigger, hosts maestro.HostChecker) error {
	u, err := url.Parse(t.Organization)
	switch {
	case t.Organization == "":
		return maestro.Errorf(maestro.KindInvalid, "publish trigger: organization: give the organization's URL, e.g. https://dev.azure.com/dnceng")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return maestro.Errorf(maestro.KindInvalid, "publish trigger: organization %q: use the organization's URL, e.g. https://dev.azure.com/dnceng (no user name, password, query or fragment)", redact.String(t.Organization))
	case strings.TrimSpace(t.Project) == "" || strings.ContainsAny(t.Project, "/\\?#"):
		return maestro.Errorf(maestro.KindInvalid, "publish trigger: project %q: give the project's name", t.Project)
	case t.DefinitionID <= 0:
		return maestro.Errorf(maestro.KindInvalid, "publish trigger: definitionId %d: give the pipeline's id (definitionId=N in its address)", t.DefinitionID)
	}
	if hosts != nil {
		if err := hosts.CheckPipelineOrganization(t.Organization); err != nil {
			return maestro.Errorf(maestro.KindInvalid, "publish trigger: organization: %v", err)
		}
	}
	return nil
}

func samePublishTrigger(a, b maestro.PublishTrigger) bool {
	return strings.EqualFold(NormalizeOrganization(a.Organization), NormalizeOrganization(b.Organization)) &&
		strings.EqualFold(a.Project, b.Project) && a.DefinitionID == b.DefinitionID && a.PullRequests == b.PullRequests
}

// SetPublishTrigger opts a pipeline's official builds, or with
// t.PullRequests its pull request builds, in to the publish trigger (see
// ValidatePublishTrigger; hosts may be nil). It returns false, and writes
// nothing, when they are opted in already.
func (r *Registry) SetPublishTrigger(ctx context.Context, t maestro.PublishTrigger, hosts maestro.HostChecker) (bool, error) {
	t.Organization = NormalizeOrganization(t.Organization)
	t.Project = strings.TrimSpace(t.Project)
	if err := ValidatePublishTrigger(t, hosts); err != nil {
		return false, err
	}
	added := false
	_, err := update(ctx, r.st, publishTriggersKey, func(d *publishTriggersDoc, _ bool) error {
		if slices.ContainsFunc(d.Triggers, func(x maestro.PublishTrigger) bool { return samePublishTrigger(x, t) }) {
			return errUnchanged
		}
		d.Triggers = append(d.Triggers, t)
		added = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("publish trigger: %w", err)
	}
	return added, nil
}

// PublishTriggers lists the pipelines opted in to the publish trigger, in
// the order they were set.
func (r *Registry) PublishTriggers(ctx context.Context) ([]maestro.PublishTrigger, error) {
	d, err := readDoc[publishTriggersDoc](ctx, r.st, publishTriggersKey)
	if err != nil {
		return nil, fmt.Errorf("publish triggers: %w", err)
	}
	return d.Triggers, nil
}

// DeletePublishTrigger opts a pipeline's official builds, or with
// t.PullRequests its pull request builds, out; KindNotFound when they were
// not in.
func (r *Registry) DeletePublishTrigger(ctx context.Context, t maestro.PublishTrigger) error {
	_, err := update(ctx, r.st, publishTriggersKey, func(d *publishTriggersDoc, _ bool) error {
		i := slices.IndexFunc(d.Triggers, func(x maestro.PublishTrigger) bool { return samePublishTrigger(x, t) })
		if i < 0 {
			return maestro.Errorf(maestro.KindNotFound, "no publish trigger for %sdefinition %d of %s/%s; `maestro publish-trigger list` shows them", map[bool]string{true: "the pull request builds of "}[t.PullRequests], t.DefinitionID, NormalizeOrganization(t.Organization), t.Project)
		}
		d.Triggers = slices.Delete(d.Triggers, i, i+1)
		return nil
	})
	return err
}

// MatchPublishTrigger returns the trigger among ts that opts in definition
// id of a project (by name or id) of an organization, if any; callers pass
// the triggers of one kind (official, or pull requests).
func MatchPublishTrigger(ts []maestro.PublishTrigger, organization string, projects []string, definitionID int) (maestro.PublishTrigger, bool) {
	for _, t := range ts {
		if t.DefinitionID != definitionID || !strings.EqualFold(NormalizeOrganization(t.Organization), NormalizeOrganization(organization)) {
			continue
		}
		if slices.ContainsFunc(projects, func(p string) bool { return p != "" && strings.EqualFold(p, t.Project) }) {
			return t, true
		}
	}
	return maestro.PublishTrigger{}, false
}

package registry

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// mirrorsKey holds every mirror configuration in one document, rewritten
// whole under its ETag: each change is one compare-and-swap, so concurrent
// writers never lose each other's change and a crash leaves the document
// before or after one change.
const mirrorsKey = "config/mirrors.json"

type mirrorsDoc struct {
	Mirrors []maestro.Mirror `json:"mirrors"`
}

// ValidateMirror checks a mirror configuration, naming the field at fault
// (sourceRepository, targetRepository, branches[i].pattern,
// branches[i].mode, pipeline): URLs without user info, at least one branch
// pattern, each a regular expression that compiles, each mode known, and a
// pipeline with an organization, project and positive id. With hosts, the
// hosts are checked as for a new mirror (see CheckMirrorHosts).
func ValidateMirror(m maestro.Mirror, hosts maestro.HostChecker) error {
	if err := validateMirror(m); err != nil {
		return err
	}
	return mirrorHostsError(m, nil, hosts)
}

// mirrorHostsError is CheckMirrorHosts as one error naming the field.
func mirrorHostsError(m maestro.Mirror, before *maestro.Mirror, hosts maestro.HostChecker) error {
	target, pipeline := CheckMirrorHosts(m, before, hosts)
	if target != nil {
		return maestro.Errorf(maestro.KindInvalid, "mirror %s: targetRepository: %v", m.SourceRepository, target)
	}
	if pipeline != nil {
		return maestro.Errorf(maestro.KindInvalid, "mirror %s: pipeline: %v", m.SourceRepository, pipeline)
	}
	return nil
}

func validateMirror(m maestro.Mirror) error {
	if err := ValidateMirrorURL(m.SourceRepository); err != nil {
		return invalid("mirror: sourceRepository", err, "")
	}
	field := func(f string) string { return fmt.Sprintf("mirror %s: %s", m.SourceRepository, f) }
	if err := ValidateMirrorURL(m.TargetRepository); err != nil {
		return invalid(field("targetRepository"), err, "")
	}
	if len(m.Branches) == 0 {
		return maestro.Errorf(maestro.KindInvalid, "%s: name at least one branch pattern", field("branches"))
	}
	for i, b := range m.Branches {
		if err := validateText(b.Pattern, maxBranchLen); err != nil || b.Pattern == "" {
			if err == nil {
				err = fmt.Errorf("is empty")
			}
			return invalid(field(fmt.Sprintf("branches[%d].pattern", i)), err, "")
		}
		if _, err := regexp.Compile(`^(?:` + b.Pattern + `)$`); err != nil {
			return maestro.Errorf(maestro.KindInvalid, "%s %q: bad regular expression: %v", field(fmt.Sprintf("branches[%d].pattern", i)), b.Pattern, err)
		}
		if _, err := maestro.ParseMirrorMode(string(b.Mode)); err != nil {
			return maestro.Errorf(maestro.KindInvalid, "%s: %v", field(fmt.Sprintf("branches[%d].mode", i)), err)
		}
	}
	if p := m.Pipeline; p.Organization == "" || p.Project == "" || p.PipelineID <= 0 {
		return maestro.Errorf(maestro.KindInvalid, "%s: name the mirror pipeline (https://dev.azure.com/ORG/PROJECT/_build?definitionId=ID)", field("pipeline"))
	}
	return nil
}

// CheckMirrorHosts applies hosts (nil: no check) to what a write of mirror
// m sends somewhere, as maestro.CheckHosts does for subscriptions: a target
// that is new or moved must be an Azure Repos repository on a configured
// host (when hosts is a maestro.MirrorHostChecker), and a pipeline whose
// organization is new or changed must lie in a configured organization.
// before is the recorded mirror (nil for a new one), so that a mirror
// recorded before its host left the configuration stays editable. It
// returns the target's and the pipeline's problem, each nil when there is
// none.
func CheckMirrorHosts(m maestro.Mirror, before *maestro.Mirror, hosts maestro.HostChecker) (target, pipeline error) {
	if hosts == nil {
		return nil, nil
	}
	if mh, ok := hosts.(maestro.MirrorHostChecker); ok && (before == nil || !repourl.Equal(before.TargetRepository, m.TargetRepository)) {
		target = mh.CheckMirrorTarget(m.TargetRepository)
	}
	org := func(m *maestro.Mirror) string {
		return strings.ToLower(strings.TrimSuffix(m.Pipeline.Organization, "/"))
	}
	if before == nil || org(before) != org(&m) {
		pipeline = hosts.CheckPipelineOrganization(m.Pipeline.Organization)
	}
	return target, pipeline
}

// AddMirror records the mirror configuration of a source repository that
// has none (KindConflict otherwise).
func (r *Registry) AddMirror(ctx context.Context, m maestro.Mirror) error {
	if err := ValidateMirror(m, r.hosts); err != nil {
		return err
	}
	_, err := update(ctx, r.st, mirrorsKey, func(d *mirrorsDoc, _ bool) error {
		if slices.ContainsFunc(d.Mirrors, func(o maestro.Mirror) bool { return repourl.Equal(o.SourceRepository, m.SourceRepository) }) {
			return maestro.Errorf(maestro.KindConflict, "%s is mirrored already; `maestro mirror update` changes its configuration", m.SourceRepository)
		}
		d.Mirrors = append(d.Mirrors, m)
		return nil
	})
	return err
}

// UpdateMirror changes the mirror configuration of source with change,
// validates the result and writes it; it returns what was written.
// change may run more than once (once per compare-and-swap attempt).
func (r *Registry) UpdateMirror(ctx context.Context, source string, change func(m *maestro.Mirror)) (maestro.Mirror, error) {
	var out maestro.Mirror
	_, err := update(ctx, r.st, mirrorsKey, func(d *mirrorsDoc, _ bool) error {
		i := slices.IndexFunc(d.Mirrors, func(o maestro.Mirror) bool { return repourl.Equal(o.SourceRepository, source) })
		if i < 0 {
			return mirrorNotFound(source)
		}
		m := d.Mirrors[i]
		m.Branches = slices.Clone(m.Branches)
		change(&m)
		m.SourceRepository = d.Mirrors[i].SourceRepository
		if err := validateMirror(m); err != nil {
			return err
		}
		if err := mirrorHostsError(m, &d.Mirrors[i], r.hosts); err != nil {
			return err
		}
		d.Mirrors[i], out = m, m
		return nil
	})
	return out, err
}

// Mirror returns the mirror configuration of a source repository.
func (r *Registry) Mirror(ctx context.Context, source string) (maestro.Mirror, error) {
	all, err := r.Mirrors(ctx)
	if err != nil {
		return maestro.Mirror{}, err
	}
	for _, m := range all {
		if repourl.Equal(m.SourceRepository, source) {
			return m, nil
		}
	}
	return maestro.Mirror{}, mirrorNotFound(source)
}

// Mirrors lists every mirror configuration, in the order they were added.
func (r *Registry) Mirrors(ctx context.Context) ([]maestro.Mirror, error) {
	d, err := readDoc[mirrorsDoc](ctx, r.st, mirrorsKey)
	return d.Mirrors, err
}

// DeleteMirror removes the mirror configuration of a source repository.
func (r *Registry) DeleteMirror(ctx context.Context, source string) error {
	_, err := update(ctx, r.st, mirrorsKey, func(d *mirrorsDoc, _ bool) error {
		i := slices.IndexFunc(d.Mirrors, func(o maestro.Mirror) bool { return repourl.Equal(o.SourceRepository, source) })
		if i < 0 {
			return mirrorNotFound(source)
		}
		d.Mirrors = slices.Delete(d.Mirrors, i, i+1)
		return nil
	})
	return err
}

func mirrorNotFound(source string) error {
	return maestro.Errorf(maestro.KindNotFound, "%s is not mirrored; `maestro mirror list` shows the mirrored repositories", redact.String(source))
}

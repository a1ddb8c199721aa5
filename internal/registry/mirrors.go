package registry

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"github.com/maestroplusplus/maestro/internal/maestro"
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
// pipeline with an organization, project and positive id. With hosts that
// check mirror targets, the target must be an Azure Repos repository on a
// configured host, and the pipeline's organization a configured one.
func ValidateMirror(m maestro.Mirror, hosts maestro.HostChecker) error {
	if err := ValidateURL(m.SourceRepository); err != nil {
		return invalid("mirror: sourceRepository", err, "")
	}
	field := func(f string) string { return fmt.Sprintf("mirror %s: %s", m.SourceRepository, f) }
	if err := ValidateURL(m.TargetRepository); err != nil {
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
	if hosts == nil {
		return nil
	}
	if mh, ok := hosts.(maestro.MirrorHostChecker); ok {
		if err := mh.CheckMirrorTarget(m.TargetRepository); err != nil {
			return maestro.Errorf(maestro.KindInvalid, "%s: %v", field("targetRepository"), err)
		}
	}
	if err := hosts.CheckPipelineOrganization(m.Pipeline.Organization); err != nil {
		return maestro.Errorf(maestro.KindInvalid, "%s: %v", field("pipeline"), err)
	}
	return nil
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
		if err := ValidateMirror(m, r.hosts); err != nil {
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
	return maestro.Errorf(maestro.KindNotFound, "%s is not mirrored; `maestro mirror list` shows the mirrored repositories", source)
}

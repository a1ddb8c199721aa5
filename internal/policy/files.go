package policy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/coherency"
	"github.com/maestroplusplus/maestro/internal/deps/props"
	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// headDependencies parses the head's Version.Details.xml, once per
// evaluation; ok is false (with the result to report) when it was not read
// or does not parse.
func headDependencies(s *eval) ([]versiondetails.Dependency, PolicyResult, bool) {
	if s.head == nil {
		s.head = parseHead(s)
	}
	return s.head.deps, s.head.result, s.head.ok
}

func parseHead(s *eval) *headDeps {
	if s.Head == nil {
		return &headDeps{result: failTransiently("Head files not read", "The files at the head commit were not read; the next evaluation tries again.")}
	}
	src, ok := s.Head[VersionDetailsXMLPath]
	if !ok {
		return &headDeps{ok: true}
	}
	f, err := versiondetails.Parse(VersionDetailsXMLPath, src)
	if err != nil {
		return &headDeps{result: failDecisively(VersionDetailsXMLPath+" is invalid",
			fmt.Sprintf("%s at %s does not parse: %v. Fix the file on the pull request branch.", VersionDetailsXMLPath, shortSHA(s.Host.HeadCommit), err))}
	}
	defer f.Release()
	return &headDeps{deps: f.Dependencies(), ok: true}
}

// buildIndex is an in-memory coherency.Registry over PullRequestState.Builds,
// answering as the registry does (memregistry's rules) from an index.
type buildIndex struct {
	byID    map[int]*maestro.Build
	byAsset map[string][]*maestro.Build // lower-case name + "@" + version
}

var _ coherency.Registry = (*buildIndex)(nil)

func indexBuilds(s *eval) *buildIndex {
	if s.builds != nil {
		return s.builds
	}
	ix := &buildIndex{byID: map[int]*maestro.Build{}, byAsset: map[string][]*maestro.Build{}}
	for i := range s.Builds {
		b := &s.Builds[i]
		ix.byID[b.ID] = b
		seen := map[string]bool{}
		for _, a := range b.Assets {
			k := strings.ToLower(a.Name) + "@" + a.Version
			if !seen[k] {
				seen[k] = true
				ix.byAsset[k] = append(ix.byAsset[k], b)
			}
		}
	}
	s.builds = ix
	return ix
}

// AssetBuild returns the build that produced name@version: the one from
// repository at commit when there is one, else the newest (highest id).
func (ix *buildIndex) AssetBuild(_ context.Context, name, version, repository, commit string) (*maestro.Build, error) {
	var best *maestro.Build
	bestExact := false
	for _, b := range ix.byAsset[strings.ToLower(name)+"@"+version] {
		exact := strings.EqualFold(b.Repository, repository) && strings.EqualFold(b.Commit, commit)
		switch {
		case best == nil, exact && !bestExact, exact == bestExact && b.ID > best.ID:
			best, bestExact = b, exact
		}
	}
	return best, nil
}

// Build returns the build with this id, or nil.
func (ix *buildIndex) Build(_ context.Context, id int) (*maestro.Build, error) {
	return ix.byID[id], nil
}

func validateCoherency(s *eval) PolicyResult {
	deps, r, ok := headDependencies(s)
	if !ok {
		return r
	}
	reg := indexBuilds(s)
	in := make([]coherency.Dependency, 0, len(deps))
	for _, d := range deps {
		in = append(in, coherency.Dependency{Name: d.Name, Version: d.Version, URI: d.URI, Sha: d.Sha, CoherentParent: d.CoherentParent, Pinned: d.Pinned})
	}
	// The registry is in memory: the pass does no I/O and cannot be cancelled.
	updates, err := coherency.Resolve(context.Background(), reg, in)
	var ce *coherency.Error
	switch {
	case errors.As(err, &ce):
		return failDecisively("Incoherent dependencies", err.Error())
	case err != nil:
		return failDecisively("Incoherent dependencies", fmt.Sprintf("The coherency pass over %s failed: %v", VersionDetailsXMLPath, err))
	}
	var lines []string
	for _, u := range updates {
		lines = append(lines, fmt.Sprintf("- %s must be %s (from %s @ %s), the version the build of its coherent parent %s used", u.Name, u.Version, u.URI, shortSHA(u.Sha), u.Parent))
	}
	if len(lines) > 0 {
		return failDecisively("Incoherent dependencies",
			fmt.Sprintf("Coherent dependencies do not follow their parents:\n%s\n\nRun `maestro deps update --coherency` on the branch (or let the next update do it), or pin the dependencies.", strings.Join(lines, "\n")))
	}
	if msg := twoCommits(deps, reg); msg != "" {
		return failDecisively("Repository at two commits", msg)
	}
	return succeed("Dependencies are coherent", "")
}

// twoCommits walks the product dependencies from each product dependency's
// build and reports every repository reached at two commits, naming a path
// to each commit and the fixes; "" when there is none.
func twoCommits(deps []versiondetails.Dependency, reg *buildIndex) string {
	type seen struct{ repo, commit, path string }
	byRepo := map[string][]seen{}
	record := func(repo, commit, path string) bool {
		key := repourl.Normalize(repo)
		for _, x := range byRepo[key] {
			if strings.EqualFold(x.commit, commit) {
				return false
			}
		}
		byRepo[key] = append(byRepo[key], seen{repo, commit, path})
		return true
	}
	visited := map[int]bool{}
	var walk func(b *maestro.Build, path string)
	walk = func(b *maestro.Build, path string) {
		if visited[b.ID] {
			return
		}
		visited[b.ID] = true
		for _, bd := range b.Dependencies {
			if !bd.IsProduct {
				continue
			}
			child, _ := reg.Build(context.Background(), bd.BuildID)
			if child == nil {
				continue // not in the registry: the walk ends here
			}
			p := fmt.Sprintf("%s → build %d of %s @ %s", path, child.ID, child.Repository, shortSHA(child.Commit))
			record(child.Repository, child.Commit, p)
			walk(child, p)
		}
	}
	for _, d := range deps {
		if d.Type == versiondetails.Toolset || d.Sha == "" {
			continue
		}
		path := fmt.Sprintf("%s %s (%s @ %s)", d.Name, d.Version, d.URI, shortSHA(d.Sha))
		record(d.URI, d.Sha, path)
		if b, _ := reg.AssetBuild(context.Background(), d.Name, d.Version, d.URI, d.Sha); b != nil {
			walk(b, path)
		}
	}
	var repos []string
	for k, v := range byRepo {
		if len(v) > 1 {
			repos = append(repos, k)
		}
	}
	if len(repos) == 0 {
		return ""
	}
	sort.Strings(repos)
	var b strings.Builder
	b.WriteString("The merged dependencies would take one repository at more than one commit along product dependencies:\n")
	for _, k := range repos {
		v := byRepo[k]
		fmt.Fprintf(&b, "- %s at %d commits:\n", v[0].repo, len(v))
		for _, x := range v {
			fmt.Fprintf(&b, "  - %s: %s\n", shortSHA(x.commit), x.path)
		}
	}
	b.WriteString("\nTo fix it, do one of:\n")
	b.WriteString("- Update the direct dependencies from that repository to the build the other product dependencies used (or wait for their builds of the newer commit to flow).\n")
	b.WriteString("- Mark the dependencies that must move together with CoherentParentDependency, so the coherency pass keeps them in step.\n")
	b.WriteString("- Review and merge the pull request by hand if the difference is intended.")
	return b.String()
}

func versionDetailsProps(s *eval) PolicyResult {
	if s.Head == nil {
		_, r, _ := headDependencies(s)
		return r
	}
	detailsSrc, ok := s.Head[VersionDetailsPropsPath]
	if !ok {
		return succeed(VersionDetailsPropsPath+" not used", "The repository has no "+VersionDetailsPropsPath+"; nothing to validate.")
	}
	details, err := props.Parse(VersionDetailsPropsPath, detailsSrc)
	if err != nil {
		return failDecisively(VersionDetailsPropsPath+" is invalid", fmt.Sprintf("%v. Fix the file on the pull request branch.", err))
	}
	defer details.Release()
	detailProps := plainProperties(details)

	var problems []string
	versionsSrc, ok := s.Head[VersionsPropsPath]
	if !ok {
		problems = append(problems, fmt.Sprintf("**Missing import:** there is no %s to import %s. Add it, with `<Import Project=\"Version.Details.props\" Condition=\"Exists('Version.Details.props')\" />`.", VersionsPropsPath, VersionDetailsPropsPath))
	} else {
		versions, err := props.Parse(VersionsPropsPath, versionsSrc)
		if err != nil {
			return failDecisively(VersionsPropsPath+" is invalid", fmt.Sprintf("%v. Fix the file on the pull request branch.", err))
		}
		defer versions.Release()
		var dup []string
		for _, p := range plainProperties(versions) {
			if contains(detailProps, p) {
				dup = append(dup, "- `"+p+"`")
			}
		}
		if len(dup) > 0 {
			problems = append(problems, fmt.Sprintf("**Conflicting properties:** %s defines properties that %s already defines:\n%s\nRemove them from %s.", VersionsPropsPath, VersionDetailsPropsPath, strings.Join(dup, "\n"), VersionsPropsPath))
		}
		if !versions.ImportsDetails() {
			problems = append(problems, fmt.Sprintf("**Missing import:** %s does not import %s. Add `<Import Project=\"Version.Details.props\" Condition=\"Exists('Version.Details.props')\" />` at its beginning.", VersionsPropsPath, VersionDetailsPropsPath))
		}
	}
	if len(problems) == 0 {
		deps, r, ok := headDependencies(s)
		if !ok {
			return r
		}
		expected := map[string]bool{}
		var missing []string
		for _, d := range deps {
			if d.SkipProperty {
				continue // production generates no property for these
			}
			pv, v := props.PackageVersionName(d.Name), props.VersionName(d.Name)
			expected[pv], expected[v] = true, true
			if !contains(detailProps, pv) {
				missing = append(missing, fmt.Sprintf("- add `<%s>%s</%s>`", pv, d.Version, pv))
			}
			if !contains(detailProps, v) {
				missing = append(missing, fmt.Sprintf("- add `<%s>$(%s)</%s>`", v, pv, v))
			}
		}
		var orphans []string
		for _, p := range detailProps {
			if !expected[p] {
				orphans = append(orphans, fmt.Sprintf("- remove `<%s>`", p))
			}
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("**Missing properties:** dependencies of %s without their properties in %s:\n%s", VersionDetailsXMLPath, VersionDetailsPropsPath, strings.Join(missing, "\n")))
		}
		if len(orphans) > 0 {
			problems = append(problems, fmt.Sprintf("**Orphaned properties:** properties of %s that match no dependency of %s:\n%s", VersionDetailsPropsPath, VersionDetailsXMLPath, strings.Join(orphans, "\n")))
		}
	}
	if len(problems) > 0 {
		return failDecisively(VersionDetailsPropsPath+" validation failed",
			strings.Join(problems, "\n\n")+"\n\n"+VersionDetailsPropsPath+" is generated by the dependency flow: regenerate it (`maestro deps update`) after fixing the files.")
	}
	return succeed(VersionDetailsPropsPath+" is valid", "")
}

// plainProperties returns the names of the properties that apply always:
// children of a <PropertyGroup>, without a Condition, with a value.
func plainProperties(f *props.File) []string {
	var out []string
	for _, p := range f.Properties() {
		if p.InPropertyGroup && p.Condition == "" && strings.TrimSpace(p.Value) != "" {
			out = append(out, p.Name)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// CollectBuilds gathers what PullRequestState.Builds needs from a registry:
// the build that produced each dependency of a Version.Details.xml (src) and
// every build those depend on, transitively. A dependency no build produced
// is left out (the policy then reports what is missing).
func CollectBuilds(ctx context.Context, reg coherency.Registry, src []byte) ([]maestro.Build, error) {
	f, err := versiondetails.Parse(VersionDetailsXMLPath, src)
	if err != nil {
		return nil, err
	}
	deps := f.Dependencies()
	f.Release()
	got := map[int]bool{}
	var out []maestro.Build
	var queue []*maestro.Build
	add := func(b *maestro.Build) {
		if b != nil && !got[b.ID] {
			got[b.ID] = true
			out = append(out, *b)
			queue = append(queue, b)
		}
	}
	for _, d := range deps {
		b, err := reg.AssetBuild(ctx, d.Name, d.Version, d.URI, d.Sha)
		if err != nil {
			return nil, fmt.Errorf("look up the build of %s %s: %w", d.Name, d.Version, err)
		}
		add(b)
	}
	for len(queue) > 0 {
		b := queue[0]
		queue = queue[1:]
		for _, bd := range b.Dependencies {
			if got[bd.BuildID] {
				continue
			}
			child, err := reg.Build(ctx, bd.BuildID)
			if err != nil {
				return nil, fmt.Errorf("look up build %d (a dependency of build %d): %w", bd.BuildID, b.ID, err)
			}
			add(child)
		}
	}
	return out, nil
}

package deps

import (
	"context"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/coherency"
	"github.com/maestroplusplus/maestro/internal/deps/engcommon"
	"github.com/maestroplusplus/maestro/internal/deps/globaljson"
	"github.com/maestroplusplus/maestro/internal/deps/nugetconfig"
	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// ArcadeSdk is the dependency whose update brings eng/common and the .NET SDK
// version along.
const ArcadeSdk = "Microsoft.DotNet.Arcade.Sdk"

// Options control an update.
type Options struct {
	// DryRun computes the changes without writing them.
	DryRun bool
	// ExcludeAssets are asset names (with * wildcards, case-insensitive) that
	// the update leaves alone.
	ExcludeAssets []string
	// ArcadeCheckout is a checkout of Arcade at the commit being flowed. When
	// set and Microsoft.DotNet.Arcade.Sdk is updated, eng/common is replaced
	// by the checkout's, and a missing dotnetSdk is read from its global.json.
	ArcadeCheckout string
	// Coherency, when set, runs the coherency pass after the direct updates.
	Coherency coherency.Registry
}

// FileChange is one file an update changes.
type FileChange struct {
	Path    string // slash-separated, relative to the repository root
	Old     []byte // nil when the file is created
	New     []byte // nil when the file is deleted
	Mode    fs.FileMode
	Created bool
	Deleted bool
}

// Change is one dependency an update moved.
type Change struct {
	Name        string `json:"name"`
	FromVersion string `json:"fromVersion"`
	ToVersion   string `json:"toVersion"`
	FromSha     string `json:"fromSha"`
	ToSha       string `json:"toSha"`
	ToURI       string `json:"toUri"`
	// CoherentParent is set when the coherency pass made the change.
	CoherentParent string `json:"coherentParent,omitempty"`
}

// Skip is an update that was not applied, and why.
type Skip struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Result is what an update did (or, in a dry run, would do).
type Result struct {
	Files   []FileChange
	Changed []Change
	Skipped []Skip
	// Warnings are things a person should fix that did not stop the change.
	Warnings []string
}

// Diff returns a unified diff of every file change.
func (r *Result) Diff() string {
	var b strings.Builder
	for _, c := range r.Files {
		b.WriteString(UnifiedDiff(c.Path, c.Old, c.New))
	}
	return b.String()
}

// ApplyUpdateFile applies an update file to the repository in dir: the
// dependencies move in Version.Details.xml and their properties in
// Versions.props / Version.Details.props, global.json and
// .config/dotnet-tools.json; the SDK version and <Source> follow the file;
// NuGet.config's managed feeds follow the updates' locations; eng/common
// follows an Arcade checkout. Either every changed file is written or none
// (and on a failure the tree is restored).
func ApplyUpdateFile(ctx context.Context, dir string, u UpdateFile, opts Options) (*Result, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	r, err := loadRepo(dir)
	if err != nil {
		return nil, err
	}
	defer r.release()
	res := &Result{}
	exclude, err := compilePatterns(opts.ExcludeAssets)
	if err != nil {
		return nil, err
	}

	var missing []string
	var todo []Update
	carried := byNameFromBuild(r, u)
	for i, up := range u.Updates {
		d, ok := r.vdx.Find(up.Name)
		switch {
		case !ok:
			missing = append(missing, u.where(i))
		case matchesAny(exclude, up.Name):
			res.Skipped = append(res.Skipped, Skip{Name: d.Name, Reason: "excluded by --exclude-asset"})
		case d.Pinned:
			res.Skipped = append(res.Skipped, Skip{Name: d.Name, Reason: "pinned"})
		case carried[i]:
			res.Skipped = append(res.Skipped, Skip{Name: d.Name, Reason: "follows " + d.CoherentParent +
				" (CoherentParentDependency): a coherent dependency is not matched by name to the build of " + up.URI + "@" + up.Sha + "; the coherency pass moves it"})
		default:
			todo = append(todo, up)
		}
	}
	if len(missing) > 0 {
		return nil, maestro.Errorf(maestro.KindInvalid, "%s has no dependency named like these updates; add them with `maestro deps add` or drop them from the update:\n%s",
			versiondetails.Path, strings.Join(missing, "\n"))
	}

	touched := map[string]bool{}
	var locations []assetFeeds
	for _, up := range todo {
		c, ok, err := r.apply(up.Name, up.Version, up.URI, up.Sha)
		if err != nil {
			return nil, err
		}
		if ok {
			res.Changed = append(res.Changed, c)
			touched[strings.ToLower(up.Name)] = true
		}
		locations = append(locations, assetFeeds{up.Name, up.Locations})
	}

	if opts.Coherency != nil {
		ups, err := resolveCoherency(ctx, r, opts.Coherency)
		if err != nil {
			return nil, err
		}
		for _, cu := range ups {
			c, ok, err := r.apply(cu.Name, cu.Version, cu.URI, cu.Sha)
			if err != nil {
				return nil, err
			}
			if ok {
				c.CoherentParent = cu.Parent
				res.Changed = mergeChange(res.Changed, c)
				touched[strings.ToLower(cu.Name)] = true
			}
			locations = append(locations, assetFeeds{cu.Name, cu.Locations})
		}
	}

	if u.Source != nil {
		r.vdx.SetSource(versiondetails.Source{URI: u.Source.URI, Mapping: u.Source.Mapping, Sha: u.Source.Sha, BarID: u.Source.BarID})
	}

	arcadeUpdated := touched[strings.ToLower(ArcadeSdk)]
	sdk := u.DotnetSdk
	if sdk == nil && arcadeUpdated && opts.ArcadeCheckout != "" {
		if v, err := arcadeSdkVersion(opts.ArcadeCheckout); err != nil {
			return nil, err
		} else if v != "" {
			sdk = &v
		}
	}
	if sdk != nil && r.global != nil {
		r.global.UpdateDotnetSdk(*sdk)
	}

	if hasLocations(locations) {
		if err := r.loadNuGet(); err != nil {
			return nil, err
		}
		if r.nuget != nil {
			r.nuget.SetManagedFeeds(managedFeeds(locations, u.FeedPackages))
		}
	}

	if arcadeUpdated && opts.ArcadeCheckout != "" {
		changes, err := engcommon.Sync(dir, opts.ArcadeCheckout)
		if err != nil {
			return nil, err
		}
		for _, c := range changes {
			r.extra = append(r.extra, FileChange{Path: c.Path, Old: c.Old, New: c.New, Mode: c.Mode, Created: c.Old == nil, Deleted: c.New == nil})
		}
	}

	if res.Files, err = r.changes(); err != nil {
		return nil, err
	}
	if !opts.DryRun {
		if err := writeAll(dir, res.Files); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// UpdateCoherency runs only the coherency pass: every coherent dependency
// moves to the version its parent's build depended on.
func UpdateCoherency(ctx context.Context, dir string, reg coherency.Registry, opts Options) (*Result, error) {
	opts.Coherency = reg
	return ApplyUpdateFile(ctx, dir, UpdateFile{}, opts)
}

// apply moves one dependency in every file that records it, and reports
// whether anything changed.
func (r *repo) apply(name, version, uri, sha string) (Change, bool, error) {
	d, _ := r.vdx.Find(name)
	if d.Name == name && d.Version == version && d.URI == uri && d.Sha == sha {
		return Change{}, false, nil
	}
	if err := r.vdx.Update(name, version, uri, sha); err != nil {
		return Change{}, false, err
	}
	if r.versions != nil {
		r.versions.UpdateDependency(name, version)
	}
	if r.details != nil && !d.SkipProperty {
		r.details.UpdateDependency(name, version)
	}
	if r.global != nil {
		r.global.UpdateDependency(name, version)
	}
	if r.tools != nil {
		r.tools.UpdateTool(name, version)
	}
	return Change{Name: name, FromVersion: d.Version, ToVersion: version, FromSha: d.Sha, ToSha: sha, ToURI: uri}, true, nil
}

// byNameFromBuild marks the updates of u that move a coherent dependency
// (one with a CoherentParentDependency) to the very build — repository and
// commit — that the same file moves its parent to. That is the parent's
// build's asset matched to the child by name, which production never does
// (darc matches a build's assets only to dependencies without a coherent
// parent, and the coherency pass takes the child from a build the parent's
// build depended on, never from the parent's build itself); the child moves
// only through the coherency pass. A child update from any other build, as
// the production bot's update files record, stays.
func byNameFromBuild(r *repo, u UpdateFile) map[int]bool {
	target := map[string]string{} // dependency → the build its update comes from
	for _, up := range u.Updates {
		target[strings.ToLower(up.Name)] = strings.ToLower(up.URI + "@" + up.Sha)
	}
	out := map[int]bool{}
	for i, up := range u.Updates {
		d, ok := r.vdx.Find(up.Name)
		if !ok || d.CoherentParent == "" || target[strings.ToLower(d.CoherentParent)] != strings.ToLower(up.URI+"@"+up.Sha) {
			continue
		}
		if d.Version == up.Version && d.URI == up.URI && d.Sha == up.Sha {
			continue // restated as it is: changes nothing
		}
		out[i] = true
	}
	return out
}

// mergeChange adds c to changes; when the dependency moved already in this
// update, the two moves become one (from the first's old state to c's new
// one), and a pair that cancels out disappears, so that no commit message or
// pull request lists a change and its reversal.
func mergeChange(changes []Change, c Change) []Change {
	for i, prev := range changes {
		if !strings.EqualFold(prev.Name, c.Name) {
			continue
		}
		c.FromVersion, c.FromSha = prev.FromVersion, prev.FromSha
		if c.FromVersion == c.ToVersion && strings.EqualFold(c.FromSha, c.ToSha) {
			return slices.Delete(changes, i, i+1)
		}
		changes[i] = c
		return changes
	}
	return append(changes, c)
}

func resolveCoherency(ctx context.Context, r *repo, reg coherency.Registry) ([]coherency.Update, error) {
	var deps []coherency.Dependency
	for _, d := range r.vdx.Dependencies() {
		deps = append(deps, coherency.Dependency{Name: d.Name, Version: d.Version, URI: d.URI, Sha: d.Sha, CoherentParent: d.CoherentParent, Pinned: d.Pinned})
	}
	return coherency.Resolve(ctx, reg, deps)
}

// assetFeeds is an asset of the update and the feeds it was published to.
type assetFeeds struct {
	name      string
	locations []string
}

func hasLocations(assets []assetFeeds) bool {
	for _, a := range assets {
		if len(a.locations) > 0 {
			return true
		}
	}
	return false
}

// managedFeeds returns the feeds the managed block of NuGet.config must hold,
// as production computes them from the registry: the locations of every asset
// in the update file that was published only to flow-managed feeds, each with
// the packages to map to it in <packageSourceMapping>: the names of those
// assets and every package feedPackages lists for the feed (all that the
// build published there). The file carries the complete set — a dependency
// the update leaves alone keeps its feed only when the file restates it with
// its locations.
func managedFeeds(assets []assetFeeds, feedPackages map[string][]string) []nugetconfig.ManagedFeed {
	var out []nugetconfig.ManagedFeed
	index := map[string]int{}
	for _, a := range assets {
		managed := true
		for _, l := range a.locations {
			if !nugetconfig.IsManaged(l) {
				managed = false
			}
		}
		if !managed {
			continue
		}
		for _, l := range a.locations {
			i, ok := index[l]
			if !ok {
				i = len(out)
				index[l] = i
				out = append(out, nugetconfig.ManagedFeed{URL: l})
			}
			out[i].Packages = append(out[i].Packages, a.name)
		}
	}
	for i := range out {
		out[i].Packages = append(out[i].Packages, feedPackages[out[i].URL]...)
	}
	return out
}

func arcadeSdkVersion(checkout string) (string, error) {
	src, err := readFile(filepath.Join(checkout, globaljson.Path))
	if err != nil {
		return "", err
	}
	if src == nil {
		return "", nil
	}
	g, err := globaljson.Parse(filepath.Join(checkout, globaljson.Path), src)
	if err != nil {
		return "", err
	}
	v, _ := g.ToolsDotnet()
	return v, nil
}

// compilePatterns turns asset patterns with * wildcards into case-insensitive
// regular expressions.
func compilePatterns(patterns []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		parts := strings.Split(p, "*")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		re, err := regexp.Compile("(?i)^" + strings.Join(parts, ".*") + "$")
		if err != nil {
			return nil, maestro.Errorf(maestro.KindInvalid, "exclude-asset pattern %q: %v", p, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func matchesAny(res []*regexp.Regexp, name string) bool {
	for _, re := range res {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

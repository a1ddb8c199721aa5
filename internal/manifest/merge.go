package manifest

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Merge combines the manifests one build wrote (one per job) into the build to
// record. The manifests must agree on every build attribute they set (letter
// case aside); an attribute one leaves out is taken from another. Assets are
// the union: all packages, then all blobs, each in manifest order at its first
// occurrence. An asset listed twice with the same version is recorded once (as
// shipping if any listing says so); with different versions it is an error.
// IDs are left 0 and DateProduced unset: the registry assigns them.
func Merge(ms []*Manifest) (maestro.Build, error) {
	if len(ms) == 0 {
		return maestro.Build{}, maestro.Errorf(maestro.KindInvalid, "no manifests to merge")
	}
	attrs, err := mergeAttributes(ms)
	if err != nil {
		return maestro.Build{}, err
	}
	b, err := buildFields(attrs, ms[0])
	if err != nil {
		return maestro.Build{}, err
	}
	b.Assets, err = mergeAssets(ms, attrs)
	if err != nil {
		return maestro.Build{}, err
	}
	return b, nil
}

// source is where a value was found, for error messages.
type source struct {
	path string
	line int
}

func (s source) String() string { return s.path + ":" + strconv.Itoa(s.line) }

// mergeAttributes fills each build attribute from the first manifest that sets
// it and checks that the others agree; PublishingVersion must agree too.
func mergeAttributes(ms []*Manifest) (BuildAttributes, error) {
	var merged BuildAttributes
	fields := merged.fields()
	from := make([]source, len(fields))
	version, versionFrom := 0, source{}
	for _, m := range ms {
		here := source{m.Path, m.Line}
		if m.PublishingVersion != 0 {
			if version == 0 {
				version, versionFrom = m.PublishingVersion, here
			} else if version != m.PublishingVersion {
				return merged, maestro.Errorf(maestro.KindInvalid,
					"%s and %s disagree on PublishingVersion: %d vs %d; the manifests merged must all come from one build: check which files the patterns match",
					versionFrom, here, version, m.PublishingVersion)
			}
		}
		attrs := m.Build
		for i, f := range attrs.fields() {
			v := *f.val
			switch {
			case v == "":
			case *fields[i].val == "":
				*fields[i].val, from[i] = v, here
			case !strings.EqualFold(*fields[i].val, v):
				return merged, maestro.Errorf(maestro.KindInvalid,
					"%s and %s disagree on %s: %q vs %q; the manifests merged must all come from one build: check which files the patterns match",
					from[i], here, f.name, *fields[i].val, v)
			}
		}
	}
	return merged, nil
}

func buildFields(a BuildAttributes, first *Manifest) (maestro.Build, error) {
	b := maestro.Build{
		Commit:                 a.Commit,
		AzureDevOpsAccount:     a.AzureDevOpsAccount,
		AzureDevOpsProject:     a.AzureDevOpsProject,
		AzureDevOpsBuildNumber: a.AzureDevOpsBuildNumber,
		AzureDevOpsRepository:  normalizeURL(a.AzureDevOpsRepository),
		AzureDevOpsBranch:      a.AzureDevOpsBranch,
		Stable:                 a.IsStable == "true",
		Dependencies:           []maestro.BuildDependency{},
		Channels:               []maestro.Channel{},
	}
	if b.AzureDevOpsBuildNumber == "" {
		b.AzureDevOpsBuildNumber = a.BuildID
	}
	if b.AzureDevOpsBranch == "" {
		b.AzureDevOpsBranch = a.Branch
	}
	// Parse checked these; a Manifest built by hand may hold anything.
	var err error
	if b.AzureDevOpsBuildID, err = atoiOrZero(a.AzureDevOpsBuildID); err != nil {
		return b, maestro.Errorf(maestro.KindInvalid, "%s: AzureDevOpsBuildId %q is not a whole number", source{first.Path, first.Line}, a.AzureDevOpsBuildID)
	}
	if b.AzureDevOpsBuildDefinitionID, err = atoiOrZero(a.AzureDevOpsBuildDefinitionID); err != nil {
		return b, maestro.Errorf(maestro.KindInvalid, "%s: AzureDevOpsBuildDefinitionId %q is not a whole number", source{first.Path, first.Line}, a.AzureDevOpsBuildDefinitionID)
	}

	b.GitHubRepository = gitHubRepository(a)
	b.Branch = normalizeBranch(b.AzureDevOpsBranch)
	if b.GitHubRepository != "" {
		b.GitHubBranch = b.Branch
	}
	switch {
	case b.GitHubRepository != "":
		b.Repository = b.GitHubRepository
	case b.AzureDevOpsRepository != "":
		b.Repository = b.AzureDevOpsRepository
	case isURLOrAbsolutePath(a.Name):
		b.Repository = normalizeURL(a.Name)
	}
	return b, nil
}

func atoiOrZero(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(strings.TrimSpace(s))
}

// mergeAssets lists the union of the manifests' assets. Duplicates are found
// through one map per kind keyed by the exact name (string keys take the
// runtime's fast path); where an asset came from is kept per asset as two
// small numbers and turned into a file:line only for an error message. The
// locations of all assets share one backing array, each asset holding its
// own full slice of it (len = cap), so that appending to one asset's
// locations never touches another's.
func mergeAssets(ms []*Manifest, a BuildAttributes) ([]maestro.Asset, error) {
	n := 0
	for _, m := range ms {
		n += len(m.Packages) + len(m.Blobs)
	}
	assets := make([]maestro.Asset, 0, n)
	type origin struct{ manifest, line int32 }
	from := make([]origin, 0, n)
	pkgLoc, blobLoc := assetLocations(a)
	locs := make([]maestro.AssetLocation, 0, n*max(len(pkgLoc), len(blobLoc)))
	add := func(seen map[string]int32, kind string, mi int, name, version string, nonShipping bool, line int, loc []maestro.AssetLocation) error {
		if i, ok := seen[name]; ok {
			prev := &assets[i]
			if prev.Version != version {
				at := from[i]
				return maestro.Errorf(maestro.KindInvalid,
					"%s: %s %q has version %q, but %s lists it with version %q; a build publishes one version of each asset",
					source{ms[mi].Path, line}, kind, name, version, source{ms[at.manifest].Path, int(at.line)}, prev.Version)
			}
			prev.NonShipping = prev.NonShipping && nonShipping
			return nil
		}
		seen[name] = int32(len(assets))
		start := len(locs)
		locs = append(locs, loc...)
		assets = append(assets, maestro.Asset{Name: name, Version: version, NonShipping: nonShipping, Locations: locs[start:len(locs):len(locs)]})
		from = append(from, origin{int32(mi), int32(line)})
		return nil
	}
	packages := make(map[string]int32, n)
	for mi, m := range ms {
		for _, p := range m.Packages {
			if err := add(packages, "package", mi, p.ID, p.Version, p.NonShipping, p.Line, pkgLoc); err != nil {
				return nil, err
			}
		}
	}
	blobs := make(map[string]int32)
	for mi, m := range ms {
		for _, bl := range m.Blobs {
			v := bl.Version
			if v == "" {
				v = BlobVersion(bl.ID)
			}
			if err := add(blobs, "blob", mi, bl.ID, v, bl.NonShipping, bl.Line, blobLoc); err != nil {
				return nil, err
			}
		}
	}
	return assets, nil
}

// assetLocations says where the build's packages and blobs are: in the
// InitialAssetsLocation container when the manifests give one, else at
// Location (a feed for packages), else nowhere known.
func assetLocations(a BuildAttributes) (pkg, blob []maestro.AssetLocation) {
	switch {
	case a.InitialAssetsLocation != "":
		l := []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: a.InitialAssetsLocation}}
		return l, l
	case a.Location != "":
		return []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: a.Location}},
			[]maestro.AssetLocation{{Type: maestro.LocationContainer, Location: a.Location}}
	}
	return []maestro.AssetLocation{}, []maestro.AssetLocation{}
}

// gitHubRepository returns the GitHub repository the manifests name without
// asking GitHub: AzureDevOpsRepository or Name when either is on github.com.
func gitHubRepository(a BuildAttributes) string {
	for _, raw := range []string{a.AzureDevOpsRepository, a.Name} {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || !strings.EqualFold(u.Host, "github.com") {
			continue
		}
		if p := strings.Trim(u.Path, "/"); p != "" {
			return "https://github.com/" + p
		}
	}
	return ""
}

var legacyAzureDevOpsHost = regexp.MustCompile(`^https://([a-zA-Z0-9]+)\.visualstudio\.com/`)

// normalizeURL does what production's AzureDevOpsClient.NormalizeUrl does to
// repository URLs: drops user info (https://dnceng@dev.azure.com/...) and
// rewrites https://{org}.visualstudio.com/ to https://dev.azure.com/{org}/.
func normalizeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return raw
	}
	if u.User != nil {
		if userinfo := u.User.String(); userinfo != "" {
			raw = strings.Replace(raw, userinfo+"@", "", 1)
		}
	}
	if m := legacyAzureDevOpsHost.FindStringSubmatch(raw); m != nil {
		raw = "https://dev.azure.com/" + m[1] + "/" + raw[len(m[0]):]
	}
	return raw
}

// normalizeBranch drops the refs/heads/ prefix, as production's
// GitHelpers.NormalizeBranchName does.
func normalizeBranch(b string) string {
	if s, ok := strings.CutPrefix(b, "refs/heads/"); ok {
		return s
	}
	if s, ok := strings.CutPrefix(b, "/refs/heads/"); ok {
		return s
	}
	return b
}

func isURLOrAbsolutePath(s string) bool {
	return strings.Contains(s, "://") || strings.HasPrefix(s, "/")
}

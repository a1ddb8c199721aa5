// Package gather downloads the assets of a build and of the builds it
// depends on into one folder — a drop, as production's `darc gather-drop`
// makes — from the locations the registry recorded for them: NuGet v3 feeds,
// Azure Blob containers and local files.
//
// The work has a pure part and an I/O part. Plan turns builds into the list
// of files to write (their paths in the drop's layout, checked before
// anything is written); Gatherer downloads them, bounded in parallel,
// verifying checksums where the source gives one. A download goes to a
// temporary name beside its file and is renamed only once complete and
// verified, so a killed run leaves no partial file under a final name, and
// the next run skips the files that are there (verifying them again where a
// checksum is known).
//
// The layout is production's unified layout:
//
//	shipping/packages/{Name}.{Version}.nupkg
//	shipping/assets/{blob name, without a leading "assets/"}
//	nonshipping/packages/...
//	nonshipping/assets/...
//	manifest.json     what was gathered (Manifest)
package gather

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
)

// Kind is what an asset is: a NuGet package or a blob.
type Kind string

// Asset kinds.
const (
	KindPackage Kind = "package"
	KindBlob    Kind = "blob"
)

// KindOf says whether an asset is a package or a blob, as production does:
// a name with a slash or ending in .nupkg is a blob (symbol packages are
// published as blobs), anything else a package id.
func KindOf(name string) Kind {
	if strings.Contains(name, "/") || strings.HasSuffix(strings.ToLower(name), ".nupkg") {
		return KindBlob
	}
	return KindPackage
}

// Item is one file of the drop.
type Item struct {
	// BuildID is the build whose recorded locations the file is read from.
	BuildID     int                     `json:"buildId"`
	Name        string                  `json:"name"`
	Version     string                  `json:"version"`
	NonShipping bool                    `json:"nonShipping"`
	Kind        Kind                    `json:"kind"`
	Path        string                  `json:"path"` // slash-separated, relative to the drop
	Locations   []maestro.AssetLocation `json:"locations"`
	// AlsoIn lists the other builds that recorded the same asset (name and
	// version), which is gathered once.
	AlsoIn []int `json:"alsoIn,omitempty"`
}

// Public returns the item as messages and the manifest show it: its
// locations without credentials (a query that carries a SAS, user info).
func (it Item) Public() Item {
	locs := make([]maestro.AssetLocation, len(it.Locations))
	for i, l := range it.Locations {
		locs[i] = maestro.AssetLocation{Type: l.Type, Location: redact.String(l.Location)}
	}
	it.Locations = locs
	return it
}

// Plan lists the files of a drop of builds, by path. The same asset (name
// and version, ignoring case) recorded by several builds is one file, read
// from the first build that has it. Bad input is an error of kind
// maestro.KindInvalid naming the build and the asset, reported for every
// problem at once: a name that would leave its folder or is not a usable file
// name, and two different assets that would be written to one path (paths
// are compared ignoring case, as Windows and macOS file systems do).
func Plan(builds []maestro.Build) ([]Item, error) {
	var items []Item
	var problems []string
	byAsset := map[string]int{} // lower(name) + "\x00" + lower(version) → index into items
	byPath := map[string]int{}  // lower(path) → index into items
	for _, b := range builds {
		for _, a := range b.Assets {
			key := strings.ToLower(a.Name) + "\x00" + strings.ToLower(a.Version)
			if i, ok := byAsset[key]; ok {
				if !slices.Contains(items[i].AlsoIn, b.ID) && items[i].BuildID != b.ID {
					items[i].AlsoIn = append(items[i].AlsoIn, b.ID)
				}
				continue
			}
			p, err := FilePath(a)
			if err != nil {
				problems = append(problems, fmt.Sprintf("build %d: %v", b.ID, err))
				continue
			}
			if i, ok := byPath[strings.ToLower(p)]; ok {
				o := items[i]
				problems = append(problems, fmt.Sprintf("build %d: asset %s %s and build %d's asset %s %s would both be written to %s",
					b.ID, a.Name, a.Version, o.BuildID, o.Name, o.Version, p))
				continue
			}
			byAsset[key], byPath[strings.ToLower(p)] = len(items), len(items)
			items = append(items, Item{BuildID: b.ID, Name: a.Name, Version: a.Version, NonShipping: a.NonShipping,
				Kind: KindOf(a.Name), Path: p, Locations: a.Locations})
		}
	}
	if len(problems) > 0 {
		return nil, maestro.Errorf(maestro.KindInvalid, "cannot lay out the drop:\n%s", strings.Join(problems, "\n"))
	}
	slices.SortFunc(items, func(a, b Item) int { return strings.Compare(a.Path, b.Path) })
	return items, nil
}

// FilePath returns where an asset goes in the drop, or an error naming the
// asset when its name cannot be a relative file path: empty, absolute,
// with a backslash, colon or control character, or with an empty, "." or
// ".." segment.
func FilePath(a maestro.Asset) (string, error) {
	top := "shipping"
	if a.NonShipping {
		top = "nonshipping"
	}
	var rel string
	switch KindOf(a.Name) {
	case KindPackage:
		if err := checkSegment(a.Version); err != nil || strings.Contains(a.Version, "/") {
			return "", fmt.Errorf("package %s version %q: not usable in a file name", a.Name, a.Version)
		}
		rel = path.Join(top, "packages", a.Name+"."+a.Version+".nupkg")
		if err := checkSegment(a.Name); err != nil {
			return "", fmt.Errorf("package %q: %v", a.Name, err)
		}
	default:
		name := strings.TrimPrefix(a.Name, "assets/")
		for _, seg := range strings.Split(name, "/") {
			if err := checkSegment(seg); err != nil {
				return "", fmt.Errorf("blob %q: %v", a.Name, err)
			}
		}
		rel = top + "/assets/" + name
	}
	return rel, nil
}

// checkSegment accepts one path segment that is a plain file name on every
// common file system.
func checkSegment(s string) error {
	switch s {
	case "":
		return fmt.Errorf("an empty path segment")
	case ".", "..":
		return fmt.Errorf("a %q path segment would leave its folder", s)
	}
	if strings.ContainsAny(s, `\:`) {
		return fmt.Errorf("a backslash or colon is not allowed in a file name")
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("a control character or invalid UTF-8 is not allowed in a file name")
		}
	}
	return nil
}

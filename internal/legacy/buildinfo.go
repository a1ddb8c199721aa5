package legacy

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/manifest"
)

// The build-info files of one build-info/dotnet/{name}/{channel} folder.
const (
	LatestFile            = "Latest.txt"              // the label, no newline
	LatestPackagesFile    = "Latest_Packages.txt"     // every package ever published there, at its last version
	LastBuildPackagesFile = "Last_Build_Packages.txt" // the last build's packages
)

// StableLabel is the label of a build none of whose packages has a
// prerelease label.
const StableLabel = "stable"

// Package is one line of a package list: "<Id> <Version>".
type Package struct {
	ID      string
	Version string
}

// ParsePackages parses a package list, one "Id Version" per line, as
// build-info files and the old tooling's input hold it: lines separated by
// CRLF or LF, a final newline or none, blank lines ignored. It returns the
// line separator the list uses ("" when it has fewer than two lines, and so
// does not show one). An id listed twice (ignoring case) is an error.
func ParsePackages(path string, data []byte) ([]Package, string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	sep := ""
	var pkgs []Package
	first := map[string]int{}
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		crlf := strings.HasSuffix(line, "\r")
		line = strings.TrimSuffix(line, "\r")
		if i < len(lines)-1 && strings.TrimSpace(lines[i+1]) != "" {
			s := "\n"
			if crlf {
				s = "\r\n"
			}
			if sep == "" {
				sep = s
			}
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, "", maestro.Errorf(maestro.KindInvalid, "%s:%d: %q is not \"<Id> <Version>\"; write one package id and version per line", path, i+1, line)
		}
		if err := checkVersion(f[1]); err != nil {
			return nil, "", maestro.Errorf(maestro.KindInvalid, "%s:%d: package %s: %v", path, i+1, f[0], err)
		}
		key := strings.ToLower(f[0])
		if prev, dup := first[key]; dup {
			return nil, "", maestro.Errorf(maestro.KindInvalid, "%s:%d: package %s is listed twice (first on line %d); list each package once", path, i+1, f[0], prev)
		}
		first[key] = i + 1
		pkgs = append(pkgs, Package{ID: f[0], Version: f[1]})
	}
	return pkgs, sep, nil
}

// checkVersion accepts NuGet/SemVer text: letters, digits, '.', '-', '+'.
func checkVersion(v string) error {
	if v == "" || !(v[0] >= '0' && v[0] <= '9') {
		return fmt.Errorf("version %q does not start with a digit; give a NuGet version such as 1.0.0-preview1-25324-02", v)
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '+') {
			return fmt.Errorf("version %q has %q; a NuGet version has letters, digits, '.', '-' and '+'", v, c)
		}
	}
	return nil
}

// PrereleaseLabel is a version's prerelease label ("" for a stable
// version): the text after the first '-', without build metadata.
func PrereleaseLabel(version string) string {
	v, _, _ := strings.Cut(version, "+")
	_, label, _ := strings.Cut(v, "-")
	return label
}

// CommonLabel is the label of a build's packages: the prerelease label they
// share, ignoring stable versions; StableLabel when none has one. Packages
// with different labels have no common one: the caller must name it.
func CommonLabel(pkgs []Package) (string, error) {
	label := ""
	for _, p := range pkgs {
		l := PrereleaseLabel(p.Version)
		if l == "" {
			continue
		}
		if label != "" && l != label {
			return "", maestro.Errorf(maestro.KindInvalid, "the packages have different prerelease labels (%q, %q); give the build's label with --label", label, l)
		}
		label = l
	}
	if label == "" {
		return StableLabel, nil
	}
	return label, nil
}

// BuildInfo computes the three build-info files after a build, as the old
// publishing tooling wrote them: Latest.txt is label; Last_Build_Packages.txt
// the build's packages; Latest_Packages.txt the previous one (prevLatest,
// nil when there is none) with each of the build's packages set to the
// build's version — even a lower one — and new ones added, none removed.
// Package lists are sorted by id (CompareIDs), joined with sep ("\r\n" as
// the old tooling wrote on Windows, or "\n"), without a final newline.
func BuildInfo(prevLatest []byte, build []Package, label, sep string) (map[string][]byte, error) {
	if sep != "\r\n" && sep != "\n" {
		return nil, fmt.Errorf("line separator %q: use \\r\\n or \\n", sep)
	}
	if strings.TrimSpace(label) == "" || strings.ContainsAny(label, "\r\n") {
		return nil, maestro.Errorf(maestro.KindInvalid, "label %q: give a one-line, non-empty label", label)
	}
	prev, _, err := ParsePackages(LatestPackagesFile, prevLatest)
	if err != nil {
		return nil, err
	}
	latest := map[string]Package{}
	for _, p := range prev {
		latest[strings.ToLower(p.ID)] = p
	}
	for _, p := range build {
		key := strings.ToLower(p.ID)
		if old, ok := latest[key]; ok {
			p.ID = old.ID
		}
		latest[key] = p
	}
	all := make([]Package, 0, len(latest))
	for _, p := range latest {
		all = append(all, p)
	}
	return map[string][]byte{
		LatestFile:            []byte(label),
		LatestPackagesFile:    formatPackages(all, sep),
		LastBuildPackagesFile: formatPackages(build, sep),
	}, nil
}

func formatPackages(pkgs []Package, sep string) []byte {
	pkgs = slices.Clone(pkgs)
	slices.SortStableFunc(pkgs, func(a, b Package) int { return CompareIDs(a.ID, b.ID) })
	var b bytes.Buffer
	for i, p := range pkgs {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p.ID + " " + p.Version)
	}
	return b.Bytes()
}

// CompareIDs orders package ids as the old tooling did, with a Windows .NET
// culture-sensitive compare ("word sort"): hyphens are ignored; then
// '.' < '_' < other punctuation < digits < letters, and letters compare
// without case. Ids equal that way are ordered by their ordinal bytes.
func CompareIDs(a, b string) int {
	i, j := 0, 0
	for {
		for i < len(a) && a[i] == '-' {
			i++
		}
		for j < len(b) && b[j] == '-' {
			j++
		}
		if i == len(a) || j == len(b) {
			break
		}
		if wa, wb := weight(a[i]), weight(b[j]); wa != wb {
			if wa < wb {
				return -1
			}
			return 1
		}
		i++
		j++
	}
	switch {
	case i < len(a):
		return 1
	case j < len(b):
		return -1
	}
	return strings.Compare(a, b)
}

func weight(c byte) int {
	switch {
	case c == '.':
		return 1
	case c == '_':
		return 2
	case c >= '0' && c <= '9':
		return 300 + int(c)
	case c >= 'a' && c <= 'z':
		return 400 + int(c-'a')
	case c >= 'A' && c <= 'Z':
		return 400 + int(c-'A')
	case c < 0x80:
		return 3 + int(c)
	default:
		return 500 + int(c)
	}
}

// ReadPackages reads a build's packages from files: each is either a
// package list ("Id Version" lines, see ParsePackages) or an Arcade asset
// manifest (XML; its <Package> elements; blobs are not packages). A package
// given twice with one version counts once; with two versions it is an
// error. The separator is the first one a package list shows ("" if none).
func ReadPackages(paths []string) ([]Package, string, error) {
	var set PackageSet
	sep := ""
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, "", maestro.Errorf(maestro.KindInvalid, "read packages: %w; give a package list or an asset manifest", err)
		}
		var pkgs []Package
		if trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '<' {
			m, err := manifest.Parse(data, p)
			if err != nil {
				return nil, "", err
			}
			for _, mp := range m.Packages {
				pkgs = append(pkgs, Package{ID: mp.ID, Version: mp.Version})
			}
		} else {
			var s string
			if pkgs, s, err = ParsePackages(p, data); err != nil {
				return nil, "", err
			}
			if sep == "" {
				sep = s
			}
		}
		if err := set.Add(p, pkgs...); err != nil {
			return nil, "", err
		}
	}
	return set.Packages(), sep, nil
}

// PackageSet collects the packages of several sources (package lists or
// manifests), each package once: ids ignore case, as NuGet's and
// build-info's do, and a package given with two versions is an error.
type PackageSet struct {
	all   []Package
	where map[string]string // lower-case id → "source: version"
}

// Add adds the packages of source (a path, for the error message).
func (s *PackageSet) Add(source string, pkgs ...Package) error {
	if s.where == nil {
		s.where = map[string]string{}
	}
	for _, pkg := range pkgs {
		key := strings.ToLower(pkg.ID)
		if prev, ok := s.where[key]; ok {
			if !strings.HasSuffix(prev, ": "+pkg.Version) {
				return maestro.Errorf(maestro.KindInvalid, "package %s has two versions: %s and %s: %s; a build publishes one version of each package", pkg.ID, prev, source, pkg.Version)
			}
			continue
		}
		s.where[key] = source + ": " + pkg.Version
		s.all = append(s.all, pkg)
	}
	return nil
}

// Packages is the packages added, in the order first given.
func (s *PackageSet) Packages() []Package { return s.all }

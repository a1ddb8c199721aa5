package deps

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"

	"github.com/maestroplusplus/maestro/internal/deps/dotnettools"
	"github.com/maestroplusplus/maestro/internal/deps/globaljson"
	"github.com/maestroplusplus/maestro/internal/deps/nugetconfig"
	"github.com/maestroplusplus/maestro/internal/deps/props"
	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// nugetConfigNames are the spellings production looks for, in order.
var nugetConfigNames = []string{"NuGet.config", "nuget.config", "NuGet.Config"}

// repo holds a repository's dependency files, parsed, with their original bytes.
type repo struct {
	dir   string
	orig  map[string][]byte
	modes map[string]fs.FileMode

	vdx       *versiondetails.File
	versions  *props.File // nil when the repository has no Versions.props
	details   *props.File // nil when the repository has no Version.Details.props
	global    *globaljson.File
	tools     *dotnettools.File
	nuget     *nugetconfig.File
	nugetPath string

	extra        []FileChange // eng/common changes
	regenDetails bool         // Version.Details.props is generated afresh
}

// loadRepo reads and parses the dependency files under dir. Version.Details.xml
// is required; the others are used when present.
func loadRepo(dir string) (*repo, error) {
	if err := checkTree(dir); err != nil {
		return nil, err
	}
	r := &repo{dir: dir, orig: map[string][]byte{}, modes: map[string]fs.FileMode{}}
	src, ok, err := r.read(versiondetails.Path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, maestro.Errorf(maestro.KindInvalid, "%s has no %s; is it the root of a repository that uses dependency flow?", dir, versiondetails.Path)
	}
	if r.vdx, err = versiondetails.Parse(versiondetails.Path, src); err != nil {
		return nil, err
	}
	if src, ok, err = r.read(props.VersionsPath); err != nil {
		return nil, err
	} else if ok {
		if r.versions, err = props.Parse(props.VersionsPath, src); err != nil {
			return nil, err
		}
	}
	if src, ok, err = r.read(props.DetailsPath); err != nil {
		return nil, err
	} else if ok {
		if r.details, _, err = props.ParsePlaceholder(props.DetailsPath, src); err != nil {
			return nil, err
		}
	}
	if src, ok, err = r.read(globaljson.Path); err != nil {
		return nil, err
	} else if ok {
		if r.global, err = globaljson.Parse(globaljson.Path, src); err != nil {
			return nil, err
		}
	}
	if src, ok, err = r.read(dotnettools.Path); err != nil {
		return nil, err
	} else if ok {
		if r.tools, err = dotnettools.Parse(dotnettools.Path, src); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// release gives the parsed trees of the XML dependency files back for reuse
// (see xmltok.Document.Release) once the result no longer needs them: the
// changes hold rendered bytes and the original sources, never the trees.
func (r *repo) release() {
	r.vdx.Release()
	if r.versions != nil {
		r.versions.Release()
	}
	if r.details != nil {
		r.details.Release()
	}
}

// loadNuGet reads and parses NuGet.config (under any of the spellings
// production accepts), when the repository has one. Only an update that
// touches package feeds needs it.
func (r *repo) loadNuGet() error {
	for _, name := range nugetConfigNames {
		src, ok, err := r.read(name)
		if err != nil {
			return err
		}
		if ok {
			if r.nuget, err = nugetconfig.Parse(name, src); err != nil {
				return err
			}
			r.nugetPath = name
			return nil
		}
	}
	return nil
}

// read returns a file's bytes and whether it exists.
func (r *repo) read(rel string) ([]byte, bool, error) {
	if err := insideTree(r.dir, rel); err != nil {
		return nil, false, err
	}
	p := filepath.Join(r.dir, filepath.FromSlash(rel))
	src, mode, err := readRegular(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	r.orig[rel] = src
	r.modes[rel] = mode
	return src, true, nil
}

// changes renders every parsed file and returns those whose bytes changed,
// followed by the eng/common changes, sorted by path.
func (r *repo) changes() ([]FileChange, error) {
	type renderer interface{ Bytes() ([]byte, error) }
	files := map[string]renderer{versiondetails.Path: r.vdx}
	if r.versions != nil {
		files[props.VersionsPath] = r.versions
	}
	if r.details != nil {
		files[props.DetailsPath] = r.details
		if r.regenDetails {
			files[props.DetailsPath] = generatedDetails{r}
		}
	}
	if r.global != nil {
		files[globaljson.Path] = r.global
	}
	if r.tools != nil {
		files[dotnettools.Path] = r.tools
	}
	if r.nuget != nil {
		files[r.nugetPath] = r.nuget
	}
	var out []FileChange
	for path, f := range files {
		b, err := f.Bytes()
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", path, err)
		}
		if !bytes.Equal(b, r.orig[path]) {
			out = append(out, FileChange{Path: path, Old: r.orig[path], New: b, Mode: r.modes[path]})
		}
	}
	out = append(out, r.extra...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

package gather

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// ManifestName is the manifest's file name in the drop.
const ManifestName = "manifest.json"

// lockName is the lock file that keeps two runs from writing one drop.
const lockName = ".gather-drop.lock"

// partialSuffix ends the temporary name a file is downloaded to.
const partialSuffix = ".partial"

// Manifest says what a drop holds. It is written when a run starts
// (Complete false, no assets) and again when it ends, replacing the file
// whole: Complete is true only when every asset was gathered.
type Manifest struct {
	RootBuild      int     `json:"rootBuild"`
	IncludeToolset bool    `json:"includeToolset"`
	Complete       bool    `json:"complete"`
	Builds         []Build `json:"builds"`
	// MissingBuilds are dependencies the builds recorded that the registry
	// no longer holds; their assets are not in the drop.
	MissingBuilds []int   `json:"missingBuilds"`
	Assets        []Entry `json:"assets"`
}

// Filled returns m with empty lists instead of nil ones, as it is written
// (JSON [] rather than null).
func (m Manifest) Filled() Manifest {
	if m.Assets == nil {
		m.Assets = []Entry{}
	}
	if m.Builds == nil {
		m.Builds = []Build{}
	}
	if m.MissingBuilds == nil {
		m.MissingBuilds = []int{}
	}
	return m
}

// Build is one build whose assets the drop holds.
type Build struct {
	ID                     int    `json:"id"`
	Repository             string `json:"repository"`
	Branch                 string `json:"branch"`
	Commit                 string `json:"commit"`
	AzureDevOpsBuildNumber string `json:"azureDevOpsBuildNumber,omitempty"`
}

// BuildOf is the manifest's record of b.
func BuildOf(b maestro.Build) Build {
	return Build{ID: b.ID, Repository: b.Repository, Branch: b.Branch, Commit: b.Commit, AzureDevOpsBuildNumber: b.AzureDevOpsBuildNumber}
}

// Entry is one gathered file.
type Entry struct {
	Item
	// Source is the URL the file was read from, without credentials or query.
	Source string `json:"source"`
	Size   int64  `json:"size"`
	// SHA256 is the file's digest, hex.
	SHA256 string `json:"sha256"`
	// Verified is the source's checksum the file matched; absent when the
	// source gave none.
	Verified *Checksum `json:"verified,omitempty"`
}

// CheckDir checks, writing nothing, that dir can hold the drop m describes:
// it does not exist yet (it will be created), or it is a folder that is empty
// or holds the manifest of a drop of the same build with the same options
// (an earlier run, complete or interrupted, which this one resumes). Anything
// else is an error of kind maestro.KindInvalid saying what to do.
func CheckDir(dir string, m Manifest) error {
	if dir == "" {
		return maestro.Errorf(maestro.KindInvalid, "--output-dir is empty: name the folder to gather the drop into")
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return maestro.Errorf(maestro.KindInvalid, "--output-dir %s: %v", dir, err)
	}
	if !fi.IsDir() {
		return maestro.Errorf(maestro.KindInvalid, "--output-dir %s is not a folder: name a new or empty folder", dir)
	}
	old, err := ReadManifest(dir)
	if errors.Is(err, fs.ErrNotExist) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return maestro.Errorf(maestro.KindInvalid, "--output-dir %s: %v", dir, err)
		}
		for _, e := range ents {
			if e.Name() != lockName && e.Name() != ManifestName+partialSuffix {
				return maestro.Errorf(maestro.KindInvalid, "--output-dir %s holds files but no %s of a gather-drop: name a new or empty folder", dir, ManifestName)
			}
		}
		return nil
	}
	if err != nil {
		return maestro.Errorf(maestro.KindInvalid, "--output-dir %s: %v; name a new or empty folder", dir, err)
	}
	if old.RootBuild != m.RootBuild || old.IncludeToolset != m.IncludeToolset {
		return maestro.Errorf(maestro.KindInvalid, "--output-dir %s holds the drop of build %d (include toolset: %t), not of build %d (include toolset: %t): name a new or empty folder",
			dir, old.RootBuild, old.IncludeToolset, m.RootBuild, m.IncludeToolset)
	}
	return nil
}

// ReadManifest reads the manifest of the drop in dir; a missing one is an
// error wrapping fs.ErrNotExist.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil || m.RootBuild <= 0 {
		return m, fmt.Errorf("%s is not a gather-drop manifest", filepath.Join(dir, ManifestName))
	}
	return m, nil
}

// Drop is an output folder a run holds: created, locked against other runs,
// its manifest written.
type Drop struct {
	Dir  string
	lock *flock.Flock
}

// Open creates dir (and its parents), takes its lock and writes m as the
// manifest of a run in progress. Call CheckDir first: Open is the first
// write. Another run holding the lock is an error of kind
// maestro.KindConflict.
func Open(dir string, m Manifest) (*Drop, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create --output-dir: %w", err)
	}
	lk := flock.New(filepath.Join(dir, lockName))
	ok, err := lk.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if !ok {
		return nil, maestro.Errorf(maestro.KindConflict, "another gather-drop is writing to %s; wait for it to finish", dir)
	}
	d := &Drop{Dir: dir, lock: lk}
	m.Complete, m.Assets = false, []Entry{}
	if err := d.WriteManifest(m); err != nil {
		_ = lk.Unlock()
		return nil, err
	}
	return d, nil
}

// WriteManifest replaces the drop's manifest with m: written to a temporary
// file, synced, renamed over the old one.
func (d *Drop) WriteManifest(m Manifest) error {
	data, err := json.MarshalIndent(m.Filled(), "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(d.Dir, ManifestName)
	if err := writeFileAtomic(p, append(data, '\n')); err != nil {
		return fmt.Errorf("write the drop's manifest: %w", err)
	}
	return nil
}

// Close releases the drop's lock.
func (d *Drop) Close() error { return d.lock.Unlock() }

func writeFileAtomic(p string, data []byte) error {
	tmp := p + partialSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

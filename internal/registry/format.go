package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
)

// A registry is made on purpose: `maestro registry init` (or a command's
// --create) writes the format marker, and every other command refuses a
// store without one, so a mistyped --store fails instead of silently
// starting an empty registry. The marker's version says which layout the
// registry uses, so that a later layout change can migrate (or refuse) an
// older registry.
const formatKey = "meta/format.json"

// FormatName is the fixed name in every format marker.
const FormatName = "maestro-bar"

// FormatVersion is the layout version this maestro writes, and the newest
// it reads. Version 2 adds the compact assets document (assetsdoc.go): a
// registry of version 2 may hold documents a maestro that knows only
// version 1 cannot decode, so that maestro refuses the registry instead.
// This maestro reads both and, in a registry of version 1, writes only what
// version 1 holds, until `maestro registry init` raises it (Upgrade).
const FormatVersion = 2

// Format is the format marker document.
type Format struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
}

// ErrNoRegistry is wrapped by CheckFormat's error when the store holds no
// format marker.
var ErrNoRegistry = errors.New("no registry")

// Init writes the format marker if the store has none, create-only, so that
// concurrent inits agree on one marker. It returns the marker and whether
// this call wrote it.
//
// A store that holds registry documents from before markers existed is in
// the earlier layout (prefix-listed indexes, a 16-deep latest index, one
// assets.json per build): Init migrates it first, with Repair, which
// rebuilds every index from the build records and deletes the earlier
// layout's entries, and only then writes the marker. The marker is the
// commit point: a crash during the migration leaves a store that every
// command still refuses, and running init again repeats the idempotent
// repair. An unfinished publish younger than migrationMinAge is left for a
// later `registry repair`.
func (r *Registry) Init(ctx context.Context) (Format, bool, error) {
	f, err := r.CheckFormat(ctx)
	if err == nil {
		return f, false, nil
	}
	if !errors.Is(err, ErrNoRegistry) {
		return Format{}, false, err
	}
	earlier, err := r.holdsDocuments(ctx)
	if err != nil {
		return Format{}, false, err
	}
	if earlier {
		if _, err := r.Repair(ctx, RepairOptions{MinAge: migrationMinAge}); err != nil {
			return Format{}, false, fmt.Errorf("migrate the registry from the earlier layout (run `maestro registry init` again to resume): %w", err)
		}
	}
	f = Format{Format: FormatName, Version: FormatVersion, Created: r.now().UTC()}
	err = putJSON(ctx, r.st, formatKey, f, store.Condition{CreateOnly: true})
	if err == nil {
		return f, true, nil
	}
	if !errors.Is(err, store.ErrPrecondition) {
		return Format{}, false, fmt.Errorf("write the format marker %s: %w", formatKey, err)
	}
	f, err = r.CheckFormat(ctx)
	return f, false, err
}

// migrationMinAge is how old an unfinished publish must be before the
// migration in Init collects it.
const migrationMinAge = time.Hour

// holdsDocuments reports whether the store holds registry documents: the
// build counter, the channel or default-channel documents, or a
// subscription. Each is one short listing.
func (r *Registry) holdsDocuments(ctx context.Context) (bool, error) {
	for _, prefix := range []string{"meta/counters/", "config/", "subscriptions/"} {
		keys, err := r.st.List(ctx, prefix)
		if err != nil {
			return false, fmt.Errorf("look for registry documents under %s: %w", prefix, err)
		}
		if len(keys) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// CheckFormat reads the format marker: an error wrapping ErrNoRegistry
// (maestro.KindInvalid) when there is none, and maestro.KindInvalid when the
// registry has a layout this maestro does not know.
func (r *Registry) CheckFormat(ctx context.Context) (Format, error) {
	var f Format
	_, err := getJSON(ctx, r.st, formatKey, &f)
	if errors.Is(err, store.ErrNotExist) {
		return f, maestro.Errorf(maestro.KindInvalid, "%w", ErrNoRegistry)
	}
	if err != nil {
		return f, fmt.Errorf("read the format marker %s: %w", formatKey, err)
	}
	if f.Format != FormatName {
		return f, maestro.Errorf(maestro.KindInvalid, "the store's %s names format %q, not %q: it is not a maestro registry", formatKey, f.Format, FormatName)
	}
	if f.Version > FormatVersion {
		return f, maestro.Errorf(maestro.KindInvalid, "the registry has format version %d; this maestro reads version %d and older: use a newer maestro", f.Version, FormatVersion)
	}
	r.format.Store(int32(max(f.Version, 1)))
	return f, nil
}

// Upgrade raises the format marker of a registry of an older version to
// FormatVersion, under the ETag it read, so that concurrent upgrades agree,
// and returns the version it found. No document changes: every version
// this maestro knows reads the documents of the versions before it; the
// marker rises so that a maestro that knows only the older version refuses
// the registry rather than meet a document it cannot decode.
func (r *Registry) Upgrade(ctx context.Context) (from int, _ error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var f Format
		etag, err := getJSON(ctx, r.st, formatKey, &f)
		if errors.Is(err, store.ErrNotExist) {
			return 0, maestro.Errorf(maestro.KindInvalid, "%w", ErrNoRegistry)
		}
		if err != nil {
			return 0, fmt.Errorf("read the format marker %s: %w", formatKey, err)
		}
		if _, err := r.CheckFormat(ctx); err != nil {
			return 0, err
		}
		if f.Version >= FormatVersion {
			return f.Version, nil
		}
		from, f.Version = f.Version, FormatVersion
		err = putJSON(ctx, r.st, formatKey, f, store.Condition{IfMatch: etag})
		if err == nil {
			r.format.Store(FormatVersion)
			return from, nil
		}
		if !errors.Is(err, store.ErrPrecondition) {
			return 0, fmt.Errorf("raise the format marker %s to version %d: %w", formatKey, FormatVersion, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return 0, err
		}
	}
	return 0, maestro.Errorf(maestro.KindConflict, "raise the format marker %s: gave up after %d concurrent changes; try again", formatKey, maxAttempts)
}

// formatVersion is the registry's format version: the one CheckFormat
// remembered, else read through st (a publish's read-ahead). A store
// without a marker (a registry made in a test, never a command's: they
// refuse such a store) is taken as FormatVersion.
func (r *Registry) formatVersion(ctx context.Context, st store.Store) (int, error) {
	if v := r.format.Load(); v != 0 {
		return int(v), nil
	}
	var f Format
	_, err := getJSON(ctx, st, formatKey, &f)
	switch {
	case errors.Is(err, store.ErrNotExist):
		return FormatVersion, nil
	case err != nil:
		return 0, fmt.Errorf("read the format marker %s: %w", formatKey, err)
	case f.Version > FormatVersion:
		return 0, maestro.Errorf(maestro.KindInvalid, "the registry has format version %d; this maestro reads version %d and older: use a newer maestro", f.Version, FormatVersion)
	}
	r.format.Store(int32(max(f.Version, 1)))
	return max(f.Version, 1), nil
}

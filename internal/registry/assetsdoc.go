package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// A build's assets document comes in two forms, told apart by its first byte.
//
// Format 1, written by registries of format version 1 (and before markers
// existed): a JSON array of the assets as maestro.Asset encodes them, ids
// included (see assetsjson.go).
//
// Format 2, written by registries of format version 2: one object that
// names each distinct version and each distinct list of locations once, and
// an asset by the part of its name it does not share with the asset before
// it and three small numbers:
//
//	{"format":2,
//	 "versions":["10.0.0-preview.1.26575.1", ...],
//	 "locations":[[{"type":"container","location":"https://..."}], ...],
//	 "assets":[[0,"Microsoft.NETCore.App.Ref",0,1,0], [22,"Host",0,0,0], ...]}
//
// An asset row is [bytes of the previous asset's name its name starts with,
// the rest of its name, index into versions, 1 if non-shipping else 0,
// index into locations]; a locations entry is null for an asset whose
// locations are null. The shared part ends on a character boundary and is
// valid UTF-8, so each row's text is a JSON string of its own. Asset ids
// are not stored: asset i of build B has id B×maxAssetsPerBuild+i+1, as in
// format 1. The assets of one build nearly all share one version and one
// location (the build's container), and a manifest lists them in an order
// in which neighbours share most of their names, so a 20,000-asset
// document is a tenth of format 1's size; since it does not depend on the
// build id it is encoded, and its digest (the document's key) taken, while
// the id is being claimed.
const assetsDocFormat2 = 2

// assetsDoc2 is a format 2 document, encoded, with its digest.
type assetsDoc2 struct {
	data []byte
	sum  [sha256.Size]byte
}

// key is the document's key under build id.
func (d assetsDoc2) key(id int) string {
	return buildPrefix(id) + "assets-" + hex.EncodeToString(d.sum[:8]) + ".json"
}

// encodeAssetsDoc2 encodes as in format 2.
func encodeAssetsDoc2(as []maestro.Asset) assetsDoc2 {
	var (
		versions   []string
		versionIdx = map[string]int{}
		locLists   [][]maestro.AssetLocation
		locIdx     = map[string]int{}
		rowVersion = make([]int32, len(as))
		rowLocs    = make([]int32, len(as))
		rowShared  = make([]int32, len(as)) // bytes of its name an asset shares with the one before
		key        []byte
		size       = len(`{"format":2,"versions":[],"locations":[],"assets":[]}`)
	)
	prevVersion, prevLocs := -1, -1
	for i, a := range as {
		// Neighbours nearly always share both: compare with the last
		// asset's before looking up a map.
		switch {
		case prevVersion >= 0 && versions[prevVersion] == a.Version:
		default:
			v, ok := versionIdx[a.Version]
			if !ok {
				v = len(versions)
				versions = append(versions, a.Version)
				versionIdx[a.Version] = v
			}
			prevVersion = v
		}
		rowVersion[i] = int32(prevVersion)
		switch {
		case prevLocs >= 0 && sameLocations(locLists[prevLocs], a.Locations):
		default:
			key = locationsKey(key[:0], a.Locations)
			l, ok := locIdx[string(key)]
			if !ok {
				l = len(locLists)
				locLists = append(locLists, a.Locations)
				locIdx[string(key)] = l
			}
			prevLocs = l
		}
		rowLocs[i] = int32(prevLocs)
		shared := 0
		if i > 0 {
			shared = sharedPrefix(as[i-1].Name, a.Name)
		}
		rowShared[i] = int32(shared)
		// The buffer is made for the part of each name that is written (a
		// fifth of it for names that share a long prefix), not the whole.
		size += len(a.Name) - shared + len(`[,"",,0,],`) + 3*decimalLen(max(len(versions), len(locLists), len(a.Name)))
	}
	buf := make([]byte, 0, size+size/16)
	buf = append(buf, `{"format":2,"versions":[`...)
	for i, v := range versions {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, v)
	}
	buf = append(buf, `],"locations":[`...)
	for i, ls := range locLists {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendLocations(buf, ls)
	}
	buf = append(buf, `],"assets":[`...)
	for i, a := range as {
		if i > 0 {
			buf = append(buf, ',')
		}
		shared := int(rowShared[i])
		buf = append(buf, '[')
		buf = strconv.AppendInt(buf, int64(shared), 10)
		buf = append(buf, ',')
		buf = appendJSONString(buf, a.Name[shared:])
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(rowVersion[i]), 10)
		if a.NonShipping {
			buf = append(buf, ",1,"...)
		} else {
			buf = append(buf, ",0,"...)
		}
		buf = strconv.AppendInt(buf, int64(rowLocs[i]), 10)
		buf = append(buf, ']')
	}
	buf = append(buf, "]}"...)
	return assetsDoc2{data: buf, sum: sha256.Sum256(buf)}
}

// sharedPrefix is the length of the longest common prefix of prev and name
// that is valid UTF-8 and ends where a character of name starts: what a
// reader takes from the previous name, decoded, byte for byte.
func sharedPrefix(prev, name string) int {
	n := 0
	for n < len(prev) && n < len(name) && prev[n] == name[n] {
		n++
	}
	for n > 0 && n < len(name) && !utf8.RuneStart(name[n]) {
		n--
	}
	for n > 0 && !utf8.ValidString(name[:n]) {
		n--
	}
	return n
}

// sameLocations reports whether a and b hold the same locations, and are
// both null or both not.
func sameLocations(a, b []maestro.AssetLocation) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// locationsKey appends a map key that tells lists of locations apart (null
// from empty too).
func locationsKey(buf []byte, ls []maestro.AssetLocation) []byte {
	if ls == nil {
		return append(buf, 'n')
	}
	buf = append(buf, 'l')
	for _, l := range ls {
		buf = strconv.AppendInt(buf, int64(len(l.Type)), 10)
		buf = append(buf, ':')
		buf = append(buf, l.Type...)
		buf = strconv.AppendInt(buf, int64(len(l.Location)), 10)
		buf = append(buf, ':')
		buf = append(buf, l.Location...)
	}
	return buf
}

// appendLocations appends ls as encoding/json writes a []maestro.AssetLocation.
func appendLocations(buf []byte, ls []maestro.AssetLocation) []byte {
	if ls == nil {
		return append(buf, "null"...)
	}
	buf = append(buf, '[')
	for j, l := range ls {
		if j > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"type":`...)
		buf = appendJSONString(buf, string(l.Type))
		buf = append(buf, `,"location":`...)
		buf = appendJSONString(buf, l.Location)
		buf = append(buf, '}')
	}
	return append(buf, ']')
}

// assetsDoc2JSON is a format 2 document as encoding/json reads it.
type assetsDoc2JSON struct {
	Format    int                       `json:"format"`
	Versions  []string                  `json:"versions"`
	Locations [][]maestro.AssetLocation `json:"locations"`
	Assets    []assetRow                `json:"assets"`
}

// assetRow is one asset of a format 2 document.
type assetRow struct {
	shared                 int
	rest                   string
	version, nonShip, locs int
}

func (r *assetRow) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if len(raw) != 5 {
		return fmt.Errorf("an asset row has %d fields, not 5", len(raw))
	}
	if err := json.Unmarshal(raw[1], &r.rest); err != nil {
		return fmt.Errorf("asset name: %w", err)
	}
	for i, dst := range []*int{&r.shared, nil, &r.version, &r.nonShip, &r.locs} {
		if dst == nil {
			continue
		}
		n, err := strconv.Atoi(string(raw[i]))
		if err != nil || n < 0 {
			return fmt.Errorf("asset …%q: field %d is %s, not a count or an index", r.rest, i+1, raw[i])
		}
		*dst = n
	}
	return nil
}

// decodeAssets decodes build id's assets document key, of either format.
func decodeAssets(key string, data []byte, id int) ([]maestro.Asset, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		var as []maestro.Asset // format 1
		if err := json.Unmarshal(data, &as); err != nil {
			return nil, fmt.Errorf("decode %s: %w", key, err)
		}
		return as, nil
	}
	var d assetsDoc2JSON
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("decode %s: %w", key, err)
	}
	if d.Format != assetsDocFormat2 {
		return nil, fmt.Errorf("decode %s: assets document format %d; this maestro reads formats 1 and 2: use a newer maestro", key, d.Format)
	}
	as := make([]maestro.Asset, len(d.Assets))
	prev := ""
	for i, row := range d.Assets {
		if row.shared > len(prev) || row.version >= len(d.Versions) || row.locs >= len(d.Locations) || row.nonShip > 1 {
			return nil, fmt.Errorf("decode %s: asset %d (…%q) refers to a name, version, shipping flag or locations the document does not have", key, i, row.rest)
		}
		name := prev[:row.shared] + row.rest
		prev = name
		as[i] = maestro.Asset{
			ID:          id*maxAssetsPerBuild + i + 1,
			Name:        name,
			Version:     d.Versions[row.version],
			NonShipping: row.nonShip == 1,
			Locations:   cloneLocations(d.Locations[row.locs]),
		}
	}
	return as, nil
}

// cloneLocations copies ls, keeping null as null, so that no two decoded
// assets share a backing array.
func cloneLocations(ls []maestro.AssetLocation) []maestro.AssetLocation {
	if ls == nil {
		return nil
	}
	return append(make([]maestro.AssetLocation, 0, len(ls)), ls...)
}

// readAssets reads the assets of the build rec records, of either format.
func (r *Registry) readAssets(ctx context.Context, rec buildRecord) ([]maestro.Asset, error) {
	key := rec.assetsKey()
	data, _, err := r.st.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("read assets of build %d: %w", rec.ID, err)
	}
	as, err := decodeAssets(key, data, rec.ID)
	if err != nil {
		return nil, fmt.Errorf("read assets of build %d: %w", rec.ID, err)
	}
	return as, nil
}

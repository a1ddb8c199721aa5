package registry

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// withIDs returns as with the ids build id gives them.
func withAssetIDs(as []maestro.Asset, id int) []maestro.Asset {
	out := slices.Clone(as)
	for i := range out {
		out[i].ID = id*maxAssetsPerBuild + i + 1
	}
	return out
}

// assertRoundTrip: a format 2 document of as decodes to as with build id's
// asset ids, exactly as encoding/json gives them back from format 1.
func assertRoundTrip(t *testing.T, as []maestro.Asset, id int) assetsDoc2 {
	t.Helper()
	doc := encodeAssetsDoc2(as)
	require.True(t, json.Valid(doc.data), "%s", doc.data)
	got, err := decodeAssets("k", doc.data, id)
	require.NoError(t, err)
	v1, err := json.Marshal(withAssetIDs(as, id))
	require.NoError(t, err)
	want, err := decodeAssets("k", v1, id)
	require.NoError(t, err)
	if len(want) == 0 {
		assert.Empty(t, got)
	} else {
		assert.Equal(t, want, got)
	}
	return doc
}

func TestAssetsDoc2RoundTrip(t *testing.T) {
	loc := []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: "https://dev.azure.com/dnceng/internal/_apis/build/builds/1/artifacts"}}
	feed := []maestro.AssetLocation{{Type: maestro.LocationNuGetFeed, Location: "https://pkgs/x"}, {Type: maestro.LocationContainer, Location: "file:///tmp/x\u2028y\x01\xff"}}
	as := []maestro.Asset{
		{Name: "Microsoft.NETCore.App.Ref", Version: "10.0.0-preview.1.26575.1", NonShipping: true, Locations: loc},
		{Name: "Microsoft.NETCore.App.Host", Version: "10.0.0-preview.1.26575.1", Locations: loc},
		{Name: `we"ird\name<&>`, Version: "1.0.0\t", Locations: feed},
		{Name: "no.locations", Version: "2.0", Locations: []maestro.AssetLocation{}},
		{Name: "null.locations", Version: "10.0.0-preview.1.26575.1"},
		{Name: "é ünïcode ✓", Version: "2.0", Locations: slices.Clone(feed)},
		{Name: "é ünïcode ✗", Version: "2.0", Locations: slices.Clone(feed)},
		{Name: "é ü", Version: "2.0", Locations: slices.Clone(feed)},
		{Name: "é ün\xffx", Version: "2.0"},
		{Name: "é ün\xffy", Version: "2.0"},
		{Name: "é", Version: "2.0"},
		{Name: "back.to.first", Version: "10.0.0-preview.1.26575.1", Locations: slices.Clone(loc)},
	}
	doc := assertRoundTrip(t, as, 7)
	// Names share with the name before them what they can.
	assert.Contains(t, string(doc.data), `[0,"Microsoft.NETCore.App.Ref",0,1,0],[22,"Host",0,0,0]`)
	// Each distinct version and list of locations is stored once.
	var d assetsDoc2JSON
	require.NoError(t, json.Unmarshal(doc.data, &d))
	assert.Equal(t, []string{"10.0.0-preview.1.26575.1", "1.0.0\t", "2.0"}, d.Versions)
	require.Len(t, d.Locations, 4, "container, feed pair, empty, null")
	assert.Nil(t, d.Locations[3])
	assertRoundTrip(t, nil, 3)
	assertRoundTrip(t, []maestro.Asset{}, 3)
}

// TestAssetsDoc2Key: the key follows the content, whatever the build id.
func TestAssetsDoc2Key(t *testing.T) {
	as := []maestro.Asset{{Name: "A", Version: "1.0"}, {Name: "B", Version: "1.0", NonShipping: true}}
	d := encodeAssetsDoc2(as)
	assert.Equal(t, d.key(5), encodeAssetsDoc2(slices.Clone(as)).key(5))
	assert.True(t, strings.HasPrefix(d.key(5), "builds/000000000005/assets-"))
	as[1].NonShipping = false
	assert.NotEqual(t, d.key(5), encodeAssetsDoc2(as).key(5))
}

// TestDecodeAssetsRefusesBadDocuments: a document that refers to what it
// does not have, or of a format this maestro does not know, is an error
// naming the key, never assets made up.
func TestDecodeAssetsRefusesBadDocuments(t *testing.T) {
	for name, doc := range map[string]string{
		"version out of range":   `{"format":2,"versions":["1.0"],"locations":[null],"assets":[[0,"A",1,0,0]]}`,
		"locations out of range": `{"format":2,"versions":["1.0"],"locations":[null],"assets":[[0,"A",0,0,1]]}`,
		"shipping flag":          `{"format":2,"versions":["1.0"],"locations":[null],"assets":[[0,"A",0,2,0]]}`,
		"negative index":         `{"format":2,"versions":["1.0"],"locations":[null],"assets":[[0,"A",-1,0,0]]}`,
		"shared past the name":   `{"format":2,"versions":["1.0"],"locations":[null],"assets":[[0,"A",0,0,0],[2,"B",0,0,0]]}`,
		"shared in the first":    `{"format":2,"versions":["1.0"],"locations":[null],"assets":[[1,"A",0,0,0]]}`,
		"short row":              `{"format":2,"versions":["1.0"],"locations":[null],"assets":[[0,"A",0,0]]}`,
		"unknown format":         `{"format":3,"versions":[],"locations":[],"assets":[]}`,
		"not JSON":               `{"format":2,`,
		"format 1 not JSON":      `[{"id":1,`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeAssets("builds/000000000001/assets-x.json", []byte(doc), 1)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "builds/000000000001/assets-x.json")
		})
	}
}

// TestEncodeAssetsFollowsTheFormatVersion: a registry of version 1 gets
// format 1 documents (what a maestro of that version reads), of version 2
// format 2; both decode to the same assets.
func TestEncodeAssetsFollowsTheFormatVersion(t *testing.T) {
	as := []maestro.Asset{{Name: "A", Version: "1.0", Locations: []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: "https://x"}}}}
	k1, d1 := encodeAssets(1, as).document(4)
	k2, d2 := encodeAssets(2, as).document(4)
	assert.Equal(t, byte('['), d1[0])
	assert.Equal(t, byte('{'), d2[0])
	assert.NotEqual(t, k1, k2)
	var old []maestro.Asset
	require.NoError(t, json.Unmarshal(d1, &old), "a maestro of version 1 reads it")
	a1, err := decodeAssets(k1, d1, 4)
	require.NoError(t, err)
	a2, err := decodeAssets(k2, d2, 4)
	require.NoError(t, err)
	assert.Equal(t, old, a1)
	assert.Equal(t, a1, a2)
}

func FuzzAssetsDoc2(f *testing.F) {
	f.Add("Name", "1.0.0", "https://x/y", true, uint8(3))
	f.Add("\x00\"\\", "\xff\xfe", "\u2028", false, uint8(0))
	f.Add("é", "éa\xc3", "é\xa9", false, uint8(5))
	f.Fuzz(func(t *testing.T, name, version, location string, nonShipping bool, shape uint8) {
		locs := []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: location}}
		as := []maestro.Asset{
			{Name: name, Version: version, NonShipping: nonShipping, Locations: locs},
			{Name: version, Version: name},
			{Name: version + name, Version: name},
			{Name: version + location, Version: name},
			{Name: version[:len(version)/2], Version: name},
		}
		for i := range int(shape % 8) {
			a := maestro.Asset{Name: fmt.Sprint(name, i), Version: version, NonShipping: i%2 == 0}
			switch i % 3 {
			case 0:
				a.Locations = locs
			case 1:
				a.Locations = []maestro.AssetLocation{{Type: maestro.LocationType(location), Location: name}}
			}
			as = append(as, a)
		}
		assertRoundTrip(t, as, 1)
	})
}

package registry

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

func TestAssetsJSONMatchesEncodingJSON(t *testing.T) {
	// The encoder writes every field of an asset: a new field must be added to it.
	require.Equal(t, 5, reflect.TypeFor[maestro.Asset]().NumField(), "maestro.Asset changed: update encodeAssetTails")
	require.Equal(t, 2, reflect.TypeFor[maestro.AssetLocation]().NumField(), "maestro.AssetLocation changed: update encodeAssetTails")
	as := []maestro.Asset{
		{Name: "Microsoft.NETCore.App.Ref", Version: "10.0.0-preview.1.26575.1", NonShipping: true},
		{Name: `we"ird\name<&>`, Version: "1.0.0\t", Locations: []maestro.AssetLocation{
			{Type: maestro.LocationNuGetFeed, Location: "https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet10/nuget/v3/index.json"},
			{Type: maestro.LocationContainer, Location: "file:///tmp/x\u2028y\x01\xff"},
		}},
		{Name: "é ünïcode ✓", Version: "2.0", Locations: []maestro.AssetLocation{}},
	}
	assertSameAsEncodingJSON(t, as, 7_000_001)
}

// TestAssetsJSONChunks encodes more assets than one chunk holds, with ids
// that gain a digit within the document, names that need escaping and
// assets without locations.
func TestAssetsJSONChunks(t *testing.T) {
	for _, n := range []int{tailsChunk - 1, tailsChunk, tailsChunk + 1, 3*tailsChunk + 17} {
		as := make([]maestro.Asset, n)
		for i := range as {
			as[i] = maestro.Asset{Name: fmt.Sprintf("Pkg.%d\"é", i), Version: fmt.Sprintf("1.0.%d", i), NonShipping: i%3 == 0}
			if i%5 != 0 {
				as[i].Locations = []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: fmt.Sprintf("https://x/%d", i%7)}}
			}
		}
		assertSameAsEncodingJSON(t, as, 100_000-tailsChunk-3)
		// The content key follows the content: the same for the same
		// assets, another when the last chunk's last asset changes.
		sum := encodeAssetTails(as).sum
		require.Equal(t, sum, encodeAssetTails(slices.Clone(as)).sum)
		as[n-1].Version += "-changed"
		require.NotEqual(t, sum, encodeAssetTails(as).sum)
	}
}

func assertSameAsEncodingJSON(t *testing.T, as []maestro.Asset, firstID int) {
	t.Helper()
	want := make([]maestro.Asset, len(as))
	copy(want, as)
	for i := range want {
		want[i].ID = firstID + i
	}
	std, err := json.Marshal(want)
	require.NoError(t, err)
	var fromStd, fromOurs []maestro.Asset
	require.NoError(t, json.Unmarshal(std, &fromStd))
	ours := encodeAssetTails(as).withIDs(firstID)
	require.True(t, json.Valid(ours), "%s", ours)
	require.NoError(t, json.Unmarshal(ours, &fromOurs))
	assert.Equal(t, fromStd, fromOurs)
}

func FuzzAssetsJSON(f *testing.F) {
	f.Add("Name", "1.0.0", "https://x/y", true)
	f.Add("\x00\"\\", "\xff\xfe", "\u2028", false)
	f.Fuzz(func(t *testing.T, name, version, location string, nonShipping bool) {
		as := []maestro.Asset{{Name: name, Version: version, NonShipping: nonShipping,
			Locations: []maestro.AssetLocation{{Type: maestro.LocationContainer, Location: location}}}, {Name: version}}
		assertSameAsEncodingJSON(t, as, 1_000_001)
	})
}

// FuzzPlainPrefix holds the eight-bytes-at-a-time scan to its definition.
func FuzzPlainPrefix(f *testing.F) {
	f.Add("Microsoft.NETCore.App.Runtime.win-x64")
	f.Add("abcdefgh\"ijklmnop")
	f.Add("abcdefghijklmno\\p")
	f.Add("abcdefghijklmnop\x1f")
	f.Add("abcdefg\x7f\x80bcdefgh")
	f.Add("abcdefghé")
	f.Fuzz(func(t *testing.T, s string) {
		want := 0
		for want < len(s) && s[want] >= 0x20 && s[want] < 0x80 && s[want] != '"' && s[want] != '\\' {
			want++
		}
		require.Equal(t, want, plainPrefix(s), "%q", s)
	})
}

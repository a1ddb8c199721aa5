package gather_test

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/gather"
)

func filepathIsLocal(p string) bool {
	return filepath.IsLocal(p) && !strings.Contains(p, `\`) && strings.Count(p, "/") >= 2
}

func TestServiceIndex(t *testing.T) {
	base, _ := url.Parse("https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet8/nuget/v3/index.json")
	idx, err := gather.ParseServiceIndex([]byte(`{"version":"3.0.0-beta.1","resources":[
		{"@id":"https://pkgs.dev.azure.com/dnceng/9ee6d478/_packaging/1a5f89f6/nuget/v3/registrations2/","@type":"RegistrationsBaseUrl/Versioned"},
		{"@id":"https://pkgs.dev.azure.com/dnceng/9ee6d478/_packaging/1a5f89f6/nuget/v3/registrations2-semver2/","@type":["RegistrationsBaseUrl/3.6.0","RegistrationsBaseUrl/Versioned"]},
		{"@id":"https://pkgs.dev.azure.com/dnceng/9ee6d478/_packaging/1a5f89f6/nuget/v3/flat2/","@type":"PackageBaseAddress/3.0.0"},
		{"@id":"relative/reg/","@type":"RegistrationsBaseUrl"}]}`))
	require.NoError(t, err)
	u, ok := idx.Resource(base, "PackageBaseAddress/3.0.0")
	require.True(t, ok)
	assert.Equal(t, "https://pkgs.dev.azure.com/dnceng/9ee6d478/_packaging/1a5f89f6/nuget/v3/flat2/contoso.app/8.0.0-rc.1/contoso.app.8.0.0-rc.1.nupkg",
		gather.PackageURL(u, "Contoso.App", "8.0.0-RC.1+sha.abc").String())
	u, ok = idx.Resource(base, "RegistrationsBaseUrl/3.6.0", "RegistrationsBaseUrl")
	require.True(t, ok)
	assert.Equal(t, "https://pkgs.dev.azure.com/dnceng/9ee6d478/_packaging/1a5f89f6/nuget/v3/registrations2-semver2/contoso.app/index.json", gather.RegistrationURL(u, "Contoso.App").String())
	u, ok = idx.Resource(base, "RegistrationsBaseUrl")
	require.True(t, ok)
	assert.Equal(t, "https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet8/nuget/v3/relative/reg/", u.String(), "relative to the index")
	_, ok = idx.Resource(base, "Catalog/3.0.0")
	assert.False(t, ok)

	for _, bad := range []string{`{"version":"2.0.0","resources":[]}`, `{"version":"3.0.0"}`, `[]`, `{"version":"3.0.0","resources":[{"@id":"x","@type":3}]}`} {
		_, err := gather.ParseServiceIndex([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestCatalogEntryChecksum(t *testing.T) {
	c, err := gather.CatalogEntry{PackageHash: "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==", PackageHashAlgorithm: "SHA512"}.Checksum()
	require.NoError(t, err)
	assert.Equal(t, gather.SHA512, c.Algorithm)
	assert.Len(t, c.Value, 64)
	c, err = gather.CatalogEntry{}.Checksum()
	assert.NoError(t, err)
	assert.Nil(t, c, "no hash, no checksum")
	_, err = gather.CatalogEntry{PackageHash: "abcd", PackageHashAlgorithm: "SHA512"}.Checksum()
	assert.ErrorContains(t, err, "not a base64 SHA512 digest")
	_, err = gather.CatalogEntry{PackageHash: "abcd", PackageHashAlgorithm: "CRC32"}.Checksum()
	assert.ErrorContains(t, err, `package hash algorithm "CRC32"`)
}

func TestRegistrationFind(t *testing.T) {
	r, err := gather.ParseRegistration([]byte(`{"items":[{"@id":"p1","items":[
		{"catalogEntry":{"@id":"https://x/catalog/a.json","version":"1.0.0-Beta+meta"}},
		{"catalogEntry":{"@id":"https://x/catalog/b.json","version":"2.0.0"}}]}]}`))
	require.NoError(t, err)
	e, ok := r.Items[0].Find("1.0.0-beta")
	require.True(t, ok)
	assert.Equal(t, "https://x/catalog/a.json", e.ID)
	_, ok = r.Items[0].Find("3.0.0")
	assert.False(t, ok)
}

// FuzzParseServiceIndex: any bytes a feed sends are parsed or refused,
// never a panic, and every resource found is an absolute http(s) URL.
func FuzzParseServiceIndex(f *testing.F) {
	f.Add([]byte(`{"version":"3.0.0","resources":[{"@id":"https://x/flat/","@type":"PackageBaseAddress/3.0.0"}]}`))
	f.Add([]byte(`{"version":"3.0.0","resources":[{"@id":"../flat/","@type":["PackageBaseAddress/3.0.0"]}]}`))
	f.Add([]byte(`{"version":"3","resources":[{"@id":"javascript:alert(1)","@type":"PackageBaseAddress/3.0.0"}]}`))
	base, _ := url.Parse("https://feed.example/v3/index.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := gather.ParseServiceIndex(data)
		if err != nil {
			return
		}
		if u, ok := idx.Resource(base, "PackageBaseAddress/3.0.0"); ok && (u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
			t.Fatalf("resource %q is not an absolute http(s) URL", u)
		}
	})
}

// FuzzParseRegistration: registration pages and catalog leaves from a feed
// are parsed or refused, never a panic.
func FuzzParseRegistration(f *testing.F) {
	f.Add([]byte(`{"items":[{"@id":"p","items":[{"catalogEntry":{"@id":"c","version":"1.0.0","packageHash":"AAAA"}}]}]}`))
	f.Add([]byte(`{"@id":"c","version":"1.0.0","packageHash":"AAAA","packageHashAlgorithm":"SHA512"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := gather.ParseRegistration(data); err == nil {
			for _, p := range r.Items {
				if e, ok := p.Find("1.0.0"); ok {
					_, _ = e.Checksum()
				}
			}
		}
		if p, err := gather.ParseRegistrationPage(data); err == nil {
			_, _ = p.Find("1.0.0")
		}
		if c, err := gather.ParseCatalogEntry(data); err == nil {
			if sum, err := c.Checksum(); err == nil && sum != nil && len(sum.Value) != 64 && len(sum.Value) != 32 {
				t.Fatalf("checksum of %d bytes", len(sum.Value))
			}
		}
	})
}

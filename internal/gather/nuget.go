package gather

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// NuGet v3 resource types gather-drop reads, most preferred first
// (https://learn.microsoft.com/nuget/api/overview).
var (
	packageBaseAddressTypes = []string{"PackageBaseAddress/3.0.0"}
	registrationTypes       = []string{"RegistrationsBaseUrl/3.6.0", "RegistrationsBaseUrl/3.4.0",
		"RegistrationsBaseUrl/3.0.0-rc", "RegistrationsBaseUrl/3.0.0-beta", "RegistrationsBaseUrl"}
)

// ServiceIndex is a NuGet v3 service index (index.json): the entry point of
// a feed, listing its resources.
type ServiceIndex struct {
	Version   string     `json:"version"`
	Resources []Resource `json:"resources"`
}

// Resource is one resource of a service index. @type is a string in the
// protocol; some servers write an array of them, which Types holds whole.
type Resource struct {
	ID    string   `json:"@id"`
	Types []string `json:"-"`
}

// UnmarshalJSON reads @id and @type (a string or an array of strings).
func (r *Resource) UnmarshalJSON(data []byte) error {
	var raw struct {
		ID   string          `json:"@id"`
		Type json.RawMessage `json:"@type"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	r.ID = raw.ID
	var one string
	if err := json.Unmarshal(raw.Type, &one); err == nil {
		r.Types = []string{one}
		return nil
	}
	if err := json.Unmarshal(raw.Type, &r.Types); err != nil {
		return fmt.Errorf("resource %q: @type is neither a string nor an array of strings", raw.ID)
	}
	return nil
}

// ParseServiceIndex reads a service index; anything but a version 3 index
// with a resources array is an error.
func ParseServiceIndex(data []byte) (ServiceIndex, error) {
	var s ServiceIndex
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("not a NuGet v3 service index: %w", err)
	}
	if major, _, _ := strings.Cut(s.Version, "."); major != "3" {
		return s, fmt.Errorf("not a NuGet v3 service index: version %q", s.Version)
	}
	if s.Resources == nil {
		return s, errors.New("not a NuGet v3 service index: no resources")
	}
	return s, nil
}

// Resource returns the absolute URL of the first resource of the most
// preferred type in types that the index has.
func (s ServiceIndex) Resource(base *url.URL, types ...string) (*url.URL, bool) {
	for _, t := range types {
		for _, r := range s.Resources {
			for _, rt := range r.Types {
				if rt != t {
					continue
				}
				u, err := base.Parse(strings.TrimSpace(r.ID))
				if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
					return u, true
				}
			}
		}
	}
	return nil, false
}

// flatVersion is a version as the flat container and registration URLs
// spell it: lower-case, without build metadata.
func flatVersion(v string) string {
	v, _, _ = strings.Cut(v, "+")
	return strings.ToLower(v)
}

// PackageURL is the .nupkg of id and version under a PackageBaseAddress:
// {base}/{id}/{version}/{id}.{version}.nupkg, lower-cased.
func PackageURL(base *url.URL, id, version string) *url.URL {
	id, v := strings.ToLower(id), flatVersion(version)
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + id + "/" + v + "/" + id + "." + v + ".nupkg"
	u.RawPath = ""
	return &u
}

// RegistrationURL is the registration index of id under a
// RegistrationsBaseUrl: {base}/{id}/index.json, lower-cased.
func RegistrationURL(base *url.URL, id string) *url.URL {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.ToLower(id) + "/index.json"
	u.RawPath = ""
	return &u
}

// RegistrationIndex is the part of a registration index (or of a page)
// gather-drop reads.
type RegistrationIndex struct {
	Items []RegistrationPage `json:"items"`
}

// RegistrationPage is a page of a registration index. A page whose Items
// are absent must be fetched from its @id.
type RegistrationPage struct {
	ID    string             `json:"@id"`
	Items []RegistrationLeaf `json:"items"`
}

// RegistrationLeaf is one version of a package in a registration page.
type RegistrationLeaf struct {
	CatalogEntry CatalogEntry `json:"catalogEntry"`
}

// CatalogEntry is a package's catalog entry: inline in a registration page
// (with @id naming the catalog leaf), or the catalog leaf itself, which
// carries the package hash.
type CatalogEntry struct {
	ID                   string `json:"@id"`
	Version              string `json:"version"`
	PackageHash          string `json:"packageHash"`
	PackageHashAlgorithm string `json:"packageHashAlgorithm"`
}

// ParseRegistration reads a registration index or page.
func ParseRegistration(data []byte) (RegistrationIndex, error) {
	var r RegistrationIndex
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("not a NuGet registration index: %w", err)
	}
	return r, nil
}

// ParseRegistrationPage reads a registration page fetched from its @id.
func ParseRegistrationPage(data []byte) (RegistrationPage, error) {
	var p RegistrationPage
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("not a NuGet registration page: %w", err)
	}
	return p, nil
}

// ParseCatalogEntry reads a catalog leaf.
func ParseCatalogEntry(data []byte) (CatalogEntry, error) {
	var c CatalogEntry
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("not a NuGet catalog leaf: %w", err)
	}
	return c, nil
}

// Find returns the leaf of version in the page, comparing versions as NuGet
// does (ignoring case and build metadata).
func (p RegistrationPage) Find(version string) (CatalogEntry, bool) {
	for _, l := range p.Items {
		if flatVersion(l.CatalogEntry.Version) == flatVersion(version) {
			return l.CatalogEntry, true
		}
	}
	return CatalogEntry{}, false
}

// Checksum returns the package hash a catalog entry gives: nil without
// one, an error for a hash that cannot be read or an algorithm gather-drop
// does not know (NuGet writes SHA512).
func (c CatalogEntry) Checksum() (*Checksum, error) {
	if c.PackageHash == "" {
		return nil, nil
	}
	alg := strings.ToUpper(c.PackageHashAlgorithm)
	if alg == "" {
		alg = SHA512
	}
	if alg != SHA512 && alg != SHA256 {
		return nil, fmt.Errorf("package hash algorithm %q is not SHA512 or SHA256", c.PackageHashAlgorithm)
	}
	v, err := base64.StdEncoding.DecodeString(c.PackageHash)
	if err != nil || len(v) != hashSize[alg] {
		return nil, fmt.Errorf("package hash %q is not a base64 %s digest", c.PackageHash, alg)
	}
	return &Checksum{Algorithm: alg, Value: v, From: "registration"}, nil
}

// Checksum algorithms.
const (
	SHA512 = "SHA512"
	SHA256 = "SHA256"
	MD5    = "MD5"
)

var hashSize = map[string]int{SHA512: 64, SHA256: 32, MD5: 16}

// Checksum is a digest a source gives for a file, to compare with what was
// downloaded.
type Checksum struct {
	Algorithm string `json:"algorithm"`
	Value     []byte `json:"value"` // base64 in JSON
	// From says where the digest came from: "registration" (the feed's
	// package hash) or "Content-MD5" (the blob's).
	From string `json:"from"`
}

// Equal reports whether two checksums have the same algorithm and value.
func (c *Checksum) Equal(o *Checksum) bool {
	return c != nil && o != nil && c.Algorithm == o.Algorithm && bytes.Equal(c.Value, o.Value)
}

func (c *Checksum) String() string {
	return c.Algorithm + " " + base64.StdEncoding.EncodeToString(c.Value)
}

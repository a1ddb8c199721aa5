// Package manifest reads the asset manifests that Arcade builds write (a <Build>
// root with <Package> and <Blob> children, PublishingVersion 3 or 4) and merges
// the manifests of one build, one per job, into the maestro.Build that
// `maestro publish` records in the Build Asset Registry.
//
// The mapping follows the production PushMetadataToBuildAssetRegistry /
// PublishBuildToMaestro tasks of dotnet/arcade:
//
//   - Commit, the AzureDevOps* attributes and IsStable become the build's fields;
//     BuildId is the Azure DevOps build number and stands in for a missing
//     AzureDevOpsBuildNumber.
//   - The branch is AzureDevOpsBranch (or Branch) without "refs/heads/".
//   - The repository is the GitHub repository when the manifest names one
//     (AzureDevOpsRepository or Name on github.com), else AzureDevOpsRepository
//     with user info dropped and {org}.visualstudio.com rewritten to
//     dev.azure.com/{org}, else Name when it is a URL or an absolute path.
//     Production also asks GitHub whether an Azure DevOps mirror's commit exists
//     on the GitHub repository its name maps to (dotnet-arcade → dotnet/arcade);
//     that lookup needs the network and is not made here.
//   - Assets live at InitialAssetsLocation (type container) when the manifest has
//     one; otherwise at Location, as a nugetFeed for packages and a container for
//     blobs.
//   - A blob without a Version attribute gets the version BlobVersion derives
//     from its path, as production's VersionIdentifier does.
//
// Elements and attributes the registry does not record (SigningInformation,
// Pdb, Visibility, RepoOrigin, ...) are ignored.
package manifest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"unsafe"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// SupportedPublishingVersions lists the PublishingVersion values Parse accepts.
var SupportedPublishingVersions = []int{3, 4}

// Manifest is one asset manifest file.
type Manifest struct {
	Path              string // the file it was read from, as given to Parse
	Line              int    // the line of the <Build> start tag
	PublishingVersion int
	Build             BuildAttributes
	Packages          []Package
	Blobs             []Blob
}

// BuildAttributes are the attributes of the <Build> root that the registry uses.
// Values are as written, except that Parse writes AzureDevOpsBuildId,
// AzureDevOpsBuildDefinitionId and IsStable in canonical form ("123", "true").
// An empty value means the attribute is absent.
type BuildAttributes struct {
	Name                         string // the repository: BUILD_REPOSITORY_NAME or a URL
	BuildID                      string // the Azure DevOps build number, e.g. 20240115.3
	Branch                       string
	Commit                       string
	AzureDevOpsAccount           string
	AzureDevOpsProject           string
	AzureDevOpsBuildID           string
	AzureDevOpsBuildDefinitionID string
	AzureDevOpsBuildNumber       string
	AzureDevOpsRepository        string
	AzureDevOpsBranch            string
	InitialAssetsLocation        string // where the build left its assets (a container)
	Location                     string // older manifests: the feed the assets were pushed to
	IsStable                     string
}

// field is one named build attribute, for code that treats them alike.
type field struct {
	name string
	val  *string
}

func (a *BuildAttributes) fields() []field {
	return []field{
		{"Name", &a.Name},
		{"BuildId", &a.BuildID},
		{"Branch", &a.Branch},
		{"Commit", &a.Commit},
		{"AzureDevOpsAccount", &a.AzureDevOpsAccount},
		{"AzureDevOpsProject", &a.AzureDevOpsProject},
		{"AzureDevOpsBuildId", &a.AzureDevOpsBuildID},
		{"AzureDevOpsBuildDefinitionId", &a.AzureDevOpsBuildDefinitionID},
		{"AzureDevOpsBuildNumber", &a.AzureDevOpsBuildNumber},
		{"AzureDevOpsRepository", &a.AzureDevOpsRepository},
		{"AzureDevOpsBranch", &a.AzureDevOpsBranch},
		{"InitialAssetsLocation", &a.InitialAssetsLocation},
		{"Location", &a.Location},
		{"IsStable", &a.IsStable},
	}
}

// Package is one <Package Id Version NonShipping/>.
type Package struct {
	ID          string
	Version     string
	NonShipping bool
	Line        int
}

// Blob is one <Blob Id NonShipping/>. Version is empty unless the manifest
// gives one; Merge then derives it with BlobVersion.
type Blob struct {
	ID          string
	Version     string
	NonShipping bool
	Line        int
}

// Parse reads one manifest. path names the file in errors. Every error is of
// kind maestro.KindInvalid and names path and, where there is one, the line.
//
// A fast scanner reads the plain XML that Arcade writes; anything else (CDATA,
// DOCTYPE, entity references, non-ASCII names, malformed input) is read again
// by encoding/xml, whose verdict and line numbers then stand.
func Parse(data []byte, path string) (*Manifest, error) {
	return parseDoc(string(data), path)
}

// parseOwned is Parse for bytes nobody changes afterwards (a file Load read):
// the Manifest's strings point into data instead of into a copy of it, which
// saves copying a manifest of tens of megabytes.
func parseOwned(data []byte, path string) (*Manifest, error) {
	if len(data) == 0 {
		return Parse(data, path)
	}
	return parseDoc(unsafe.String(unsafe.SliceData(data), len(data)), path)
}

func parseDoc(doc, path string) (*Manifest, error) {
	doc = strings.TrimPrefix(doc, "\uFEFF")
	if m, err, ok := parseFast(doc, path); ok {
		return m, err
	}
	return parseSlow(doc, path)
}

// parser turns the tokens of a manifest into a Manifest. Its drivers (fast.go
// and parseSlow) call startElement, endElement, text and end, setting line to
// the line on which each token starts.
type parser struct {
	path     string
	m        *Manifest
	stack    []xml.Name // open elements
	rootDone bool
	line     int
}

func newParser(path string) *parser {
	return &parser{path: path, m: &Manifest{Path: path}}
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return maestro.Errorf(maestro.KindInvalid, "%s:%d: "+format, append([]any{p.path, line}, args...)...)
}

// parseSlow reads data with encoding/xml.
func parseSlow(doc, path string) (*Manifest, error) {
	p := newParser(path)
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		p.line, _ = dec.InputPos()
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			line, _ := dec.InputPos()
			if err := p.end(line); err != nil {
				return nil, err
			}
			return p.m, nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, p.errorf(se.Line, "malformed XML: %s", se.Msg)
			}
			return nil, p.errorf(p.line, "malformed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			err = p.startElement(t.Name, t.Attr)
		case xml.EndElement:
			err = p.endElement(t.Name)
		case xml.CharData:
			err = p.text(t)
		}
		if err != nil {
			return nil, err
		}
	}
}

func (p *parser) startElement(name xml.Name, attrs []xml.Attr) error {
	if p.rootDone {
		return p.errorf(p.line, "malformed XML: element <%s> after the root element ended; a manifest has one <Build> root", qname(name))
	}
	if err := p.start(name, attrs); err != nil {
		return err
	}
	p.stack = append(p.stack, name)
	return nil
}

func (p *parser) endElement(name xml.Name) error {
	if len(p.stack) == 0 {
		return p.errorf(p.line, "malformed XML: unexpected end element </%s>", qname(name))
	}
	if open := p.stack[len(p.stack)-1]; open != name {
		return p.errorf(p.line, "malformed XML: element <%s> closed by </%s>", qname(open), qname(name))
	}
	p.stack = p.stack[:len(p.stack)-1]
	p.rootDone = len(p.stack) == 0
	return nil
}

func (p *parser) text(t []byte) error {
	if len(p.stack) == 0 {
		if rest := bytes.TrimLeft(t, " \t\r\n"); len(rest) > 0 {
			line := p.line + bytes.Count(t[:len(t)-len(rest)], []byte("\n"))
			return p.errorf(line, "malformed XML: text outside the root element")
		}
	}
	return nil
}

// end checks the manifest once the input is used up at line.
func (p *parser) end(line int) error {
	switch {
	case len(p.stack) > 0:
		return p.errorf(line, "truncated XML: unexpected end of file inside <%s>", qname(p.stack[len(p.stack)-1]))
	case !p.rootDone:
		return p.errorf(line, "no <Build> root element: this is not an Arcade asset manifest")
	case p.m.PublishingVersion == 0:
		return p.errorf(p.m.Line, "<Build> has no PublishingVersion attribute, so it is a PublishingVersion 1 manifest; Maestro++ reads PublishingVersion %s: build with a current Arcade SDK", supportedList())
	}
	return nil
}

func (p *parser) start(name xml.Name, attrs []xml.Attr) error {
	switch {
	case len(p.stack) == 0:
		if name.Space != "" || name.Local != "Build" {
			return p.errorf(p.line, "root element is <%s>, not <Build>: this is not an Arcade asset manifest", qname(name))
		}
		p.m.Line = p.line
		return p.build(attrs)
	case len(p.stack) == 1 && name.Space == "" && name.Local == "Package":
		return p.pkg(attrs)
	case len(p.stack) == 1 && name.Space == "" && name.Local == "Blob":
		return p.blob(attrs)
	}
	return nil
}

// checkDuplicates rejects an element that repeats an attribute, which XML forbids.
func (p *parser) checkDuplicates(elem string, attrs []xml.Attr) error {
	repeated := func(a xml.Attr) error {
		return p.errorf(p.line, "malformed XML: <%s> repeats attribute %s", elem, qname(a.Name))
	}
	if len(attrs) > 16 { // a hostile file may carry thousands
		seen := make(map[xml.Name]bool, len(attrs))
		for _, a := range attrs {
			if seen[a.Name] {
				return repeated(a)
			}
			seen[a.Name] = true
		}
		return nil
	}
	for i := 1; i < len(attrs); i++ {
		for j := range i {
			if attrs[i].Name == attrs[j].Name {
				return repeated(attrs[i])
			}
		}
	}
	return nil
}

func (p *parser) build(attrs []xml.Attr) error {
	if err := p.checkDuplicates("Build", attrs); err != nil {
		return err
	}
	b := &p.m.Build
	for _, a := range attrs {
		if a.Name.Space != "" {
			continue
		}
		v := a.Value
		switch a.Name.Local {
		case "PublishingVersion":
			n, err := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(v)), "V"))
			if err != nil || !supported(n) {
				return p.errorf(p.line, "PublishingVersion %q is not supported; Maestro++ reads PublishingVersion %s", v, supportedList())
			}
			p.m.PublishingVersion = n
		case "AzureDevOpsBuildId", "AzureDevOpsBuildDefinitionId":
			if strings.TrimSpace(v) == "" {
				continue
			}
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
			if err != nil || n <= 0 {
				return p.errorf(p.line, "%s %q is not a positive whole number", a.Name.Local, v)
			}
			if a.Name.Local == "AzureDevOpsBuildId" {
				b.AzureDevOpsBuildID = strconv.FormatInt(n, 10)
			} else {
				b.AzureDevOpsBuildDefinitionID = strconv.FormatInt(n, 10)
			}
		case "IsStable":
			if strings.TrimSpace(v) == "" {
				continue
			}
			s, err := parseBool(v)
			if err != nil {
				return p.errorf(p.line, "IsStable %q is not true or false", v)
			}
			b.IsStable = strconv.FormatBool(s)
		default:
			for _, f := range b.fields() {
				if f.name == a.Name.Local {
					*f.val = v
					break
				}
			}
		}
	}
	return nil
}

// assetAttrs reads the Id, Version and NonShipping attributes that <Package>
// and <Blob> share, after checking elem for duplicate attributes.
func (p *parser) assetAttrs(elem string, attrs []xml.Attr) (id, version string, nonShipping bool, err error) {
	if err := p.checkDuplicates(elem, attrs); err != nil {
		return "", "", false, err
	}
	for _, a := range attrs {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "Id":
			id = a.Value
		case "Version":
			version = a.Value
		case "NonShipping":
			if nonShipping, err = parseNonShipping(a.Value); err != nil {
				return "", "", false, p.errorf(p.line, "<%s> NonShipping %q is not true or false", elem, a.Value)
			}
		}
	}
	return id, version, nonShipping, nil
}

func (p *parser) pkg(attrs []xml.Attr) error {
	id, version, nonShipping, err := p.assetAttrs("Package", attrs)
	if err != nil {
		return err
	}
	pk := Package{ID: id, Version: version, NonShipping: nonShipping, Line: p.line}
	switch {
	case strings.TrimSpace(pk.ID) == "":
		return p.errorf(p.line, "<Package> has no Id; every package needs Id and Version")
	case strings.TrimSpace(pk.Version) == "":
		return p.errorf(p.line, "<Package Id=%q> has no Version; every package needs Id and Version", pk.ID)
	}
	if why := unsafeName(pk.ID); why != "" {
		return p.errorf(p.line, "package Id %q %s; it would escape its folder when published", pk.ID, why)
	}
	if why := unsafeName(pk.Version); why != "" {
		return p.errorf(p.line, "package %q Version %q %s; it would escape its folder when published", pk.ID, pk.Version, why)
	}
	p.m.Packages = append(p.m.Packages, pk)
	return nil
}

func (p *parser) blob(attrs []xml.Attr) error {
	id, version, nonShipping, err := p.assetAttrs("Blob", attrs)
	if err != nil {
		return err
	}
	bl := Blob{ID: id, Version: version, NonShipping: nonShipping, Line: p.line}
	if strings.TrimSpace(bl.ID) == "" {
		return p.errorf(p.line, "<Blob> has no Id; every blob needs the path it is published under")
	}
	if why := unsafeName(bl.ID); why != "" {
		return p.errorf(p.line, "blob Id %q %s; it would escape its folder when published", bl.ID, why)
	}
	if why := unsafeName(bl.Version); bl.Version != "" && why != "" {
		return p.errorf(p.line, "blob %q Version %q %s; it would escape its folder when published", bl.ID, bl.Version, why)
	}
	p.m.Blobs = append(p.m.Blobs, bl)
	return nil
}

// parseNonShipping reads a NonShipping attribute; empty means shipping, as in
// Arcade's ArtifactModel.
func parseNonShipping(s string) (bool, error) {
	if strings.TrimSpace(s) == "" {
		return false, nil
	}
	return parseBool(s)
}

// parseBool accepts what .NET's bool.Parse and XmlConvert.ToBoolean accept:
// true/false in any letter case, 1 and 0, with surrounding white space.
func parseBool(s string) (bool, error) {
	switch t := strings.TrimSpace(s); {
	case strings.EqualFold(t, "true") || t == "1":
		return true, nil
	case strings.EqualFold(t, "false") || t == "0":
		return false, nil
	}
	return false, strconv.ErrSyntax
}

func supported(n int) bool {
	for _, v := range SupportedPublishingVersions {
		if v == n {
			return true
		}
	}
	return false
}

func supportedList() string {
	s := make([]string, len(SupportedPublishingVersions))
	for i, v := range SupportedPublishingVersions {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, " and ")
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

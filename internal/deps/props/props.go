// Package props reads and edits the MSBuild property files that carry
// dependency versions: eng/Versions.props, where a dependency Microsoft.NETCore.App
// is the property MicrosoftNETCoreAppPackageVersion (or the alternate name
// MicrosoftNETCoreAppVersion), and eng/Version.Details.props, which newer
// repositories generate from Version.Details.xml and import from Versions.props.
//
// Values are updated in place by splicing; a property whose value refers to
// another property ($(...)) is never overwritten.
package props

import (
	"bytes"
	"errors"
	"iter"
	"strings"
	"sync"

	"github.com/maestroplusplus/maestro/internal/deps/fileerr"
	"github.com/maestroplusplus/maestro/internal/deps/foldhash"
	"github.com/maestroplusplus/maestro/internal/deps/splice"
	"github.com/maestroplusplus/maestro/internal/deps/xmledit"
	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
)

// Paths of the two property files in a repository.
const (
	VersionsPath = "eng/Versions.props"
	DetailsPath  = "eng/Version.Details.props"
)

// PackageVersionName returns the property that holds a dependency's version:
// the name without '.' and '-', plus "PackageVersion".
func PackageVersionName(dependency string) string { return baseName(dependency) + "PackageVersion" }

// VersionName returns the alternate property name: the name without '.' and
// '-', plus "Version".
func VersionName(dependency string) string { return baseName(dependency) + "Version" }

func baseName(dependency string) string {
	if !strings.ContainsAny(dependency, ".-") {
		return dependency
	}
	b := make([]byte, 0, len(dependency))
	for i := 0; i < len(dependency); i++ {
		if c := dependency[i]; c != '.' && c != '-' {
			b = append(b, c)
		}
	}
	return string(b)
}

// IsReference reports whether a property value refers to other properties.
func IsReference(value string) bool { return strings.Contains(value, "$(") }

// Property is one element with its text value.
type Property struct {
	Name      string
	Value     string
	Condition string
	Line      int
	// InPropertyGroup is true for a property proper, a child of <PropertyGroup>.
	InPropertyGroup bool
}

type pending struct {
	name, value string
	set         bool
}

// File is a parsed property file that collects edits.
type File struct {
	path  string
	doc   *xmltok.Document
	elems []*xmltok.Node
	// Elements by case-folded local name: first[hash] is the first element
	// with that hash, nextSame[i] the next one after element i, or -1.
	first    map[uint64]int
	nextSame []int
	pending  []pending // per element; nil until the first edit
	spare    []pending // zeroed memory for pending, from a released file
	edited   int       // elements with a pending edit
	added    []addition
	// placeholder: the file holds no root element; it is never edited.
	placeholder bool
}

// Release gives the file's parsed tree and index back for reuse by later
// parses (see xmltok.Document.Release). Call it once the file is rendered and
// no longer needed: afterwards f must not be used. Values already returned by
// f, and the bytes Bytes returned, stay valid. Calling it again does nothing.
func (f *File) Release() {
	if f.doc == nil {
		return
	}
	f.doc.Release()
	if !f.placeholder {
		pend := f.spare
		if f.pending != nil {
			pend = f.pending
		}
		clear(f.elems)
		clear(f.first)
		clear(pend)
		bufferPool.Put(&buffers{elems: f.elems[:0], first: f.first, nextSame: f.nextSame[:0], pending: pend[:0]})
	}
	*f = File{}
}

// buffers are the index and slices a File fills while parsing and editing,
// kept for reuse by later parses once Release gives them back (cleared, so
// that the pool holds no strings or nodes of the released file).
type buffers struct {
	elems    []*xmltok.Node
	first    map[uint64]int
	nextSame []int
	pending  []pending // all zero
}

var bufferPool sync.Pool // of *buffers

// takeBuffers gives f empty slices and index, with room for n elements in
// elems, reusing released ones when the pool has them.
func (f *File) takeBuffers(n int) {
	b, ok := bufferPool.Get().(*buffers)
	if !ok {
		b = &buffers{}
	}
	f.elems, f.first, f.nextSame, f.spare = b.elems[:0], b.first, b.nextSame[:0], b.pending[:0]
	if cap(f.elems) < n {
		f.elems = make([]*xmltok.Node, 0, n)
	}
}

type addition struct {
	group   *xmltok.Node // nil: a new PropertyGroup at the end of the project
	name    string
	value   string
	comment string
}

// Parse reads a property file; path names it in errors. The File keeps src,
// which the caller must not modify afterwards (see xmltok.Parse).
func Parse(path string, src []byte) (*File, error) {
	doc, err := xmltok.Parse(src)
	if err != nil {
		return nil, fileerr.XML(path, err)
	}
	return parse(path, doc)
}

// ParsePlaceholder is Parse for a file that may be a placeholder holding only
// comments, as repositories commit an empty Version.Details.props before the
// first flow fills it ("<!-- will get filled in the next backflow -->"). A
// placeholder has no properties and is left as it is.
func ParsePlaceholder(path string, src []byte) (f *File, placeholder bool, err error) {
	doc, err := xmltok.Parse(src)
	if errors.Is(err, xmltok.ErrNoRoot) {
		return &File{path: path, doc: &xmltok.Document{Src: src}, placeholder: true}, true, nil
	}
	if err != nil {
		return nil, false, fileerr.XML(path, err)
	}
	f, err = parse(path, doc)
	return f, false, err
}

func parse(path string, doc *xmltok.Document) (*File, error) {
	if doc.Root.LocalName() != "Project" {
		return nil, fileerr.At(path, doc.Line(doc.Root.Start), "root element is <%s>, expected <Project>", doc.Root.Name)
	}
	estimate := bytes.Count(doc.Src, []byte("</"))
	f := &File{path: path, doc: doc}
	f.takeBuffers(estimate)
	var walk func(*xmltok.Node)
	walk = func(n *xmltok.Node) {
		for c := range n.Children() {
			if c.Kind != xmltok.Element {
				continue
			}
			f.elems = append(f.elems, c)
			walk(c)
		}
	}
	walk(doc.Root)
	if f.first == nil {
		f.first = make(map[uint64]int, len(f.elems))
	}
	if cap(f.nextSame) >= len(f.elems) {
		f.nextSame = f.nextSame[:len(f.elems)]
	} else {
		f.nextSame = make([]int, len(f.elems))
	}
	for i := len(f.elems) - 1; i >= 0; i-- {
		h := foldhash.String(f.elems[i].LocalName())
		if next, ok := f.first[h]; ok {
			f.nextSame[i] = next
		} else {
			f.nextSame[i] = -1
		}
		f.first[h] = i
	}
	return f, nil
}

// named returns the elements whose local name hashes like h, in document
// order (callers compare the names).
func (f *File) named(h uint64) iter.Seq[int] {
	return func(yield func(int) bool) {
		i, ok := f.first[h]
		for ok && i >= 0 {
			if !yield(i) {
				return
			}
			i = f.nextSame[i]
		}
	}
}

func (f *File) pendingAt(i int) (pending, bool) {
	if f.pending == nil || !f.pending[i].set {
		return pending{}, false
	}
	return f.pending[i], true
}

// Path returns the file name used in errors.
func (f *File) Path() string { return f.path }

func (f *File) property(i int) Property {
	n := f.elems[i]
	p := Property{
		Name:            n.LocalName(),
		Value:           strings.TrimSpace(f.doc.InnerText(n)),
		Line:            f.doc.Line(n.Start),
		InPropertyGroup: n.Parent != nil && n.Parent.LocalName() == "PropertyGroup",
	}
	if c, ok := f.doc.RawAttr(n, "Condition"); ok {
		p.Condition = c
	}
	if pe, ok := f.pendingAt(i); ok {
		p.Name, p.Value = pe.name, pe.value
	}
	return p
}

// Lookup returns every element with this local name, compared
// case-insensitively, in document order.
func (f *File) Lookup(name string) []Property {
	var out []Property
	for i := range f.named(foldhash.String(name)) {
		if foldhash.Equal(f.elems[i].LocalName(), name) {
			out = append(out, f.property(i))
		}
	}
	return out
}

// Properties returns the children of every <PropertyGroup>, in document order.
func (f *File) Properties() []Property {
	var out []Property
	for i, n := range f.elems {
		if n.Parent != nil && n.Parent.LocalName() == "PropertyGroup" {
			out = append(out, f.property(i))
		}
	}
	for _, a := range f.added {
		out = append(out, Property{Name: a.name, Value: a.value, InPropertyGroup: true})
	}
	return out
}

// find returns the element production updates for a dependency: the first
// element named like its PackageVersion property, else like its Version
// property (ignoring case), skipping values that refer to other properties.
func (f *File) find(dependency string) (idx int, suffix string, ok bool) {
	base := foldhash.Add(foldhash.Start, dependency, true)
	for _, suffix := range []string{"PackageVersion", "Version"} {
		for i := range f.named(foldhash.Add(base, suffix, false)) {
			if f.elems[i].Parent == nil || !foldhash.EqualPropertyName(f.elems[i].LocalName(), dependency, suffix) || f.isReference(i) {
				continue
			}
			return i, suffix, true
		}
	}
	return 0, "", false
}

// isReference reports whether an element's value refers to other properties.
func (f *File) isReference(i int) bool {
	if pe, ok := f.pendingAt(i); ok {
		return IsReference(pe.value)
	}
	n := f.elems[i]
	return bytes.Contains(f.doc.Src[n.StartTagEnd:n.EndTagStart], []byte("$("))
}

// HasDependency reports whether the file has a property for the dependency
// that UpdateDependency would set, and its current value.
func (f *File) HasDependency(dependency string) (Property, bool) {
	i, _, ok := f.find(dependency)
	if !ok {
		return Property{}, false
	}
	return f.property(i), true
}

// UpdateDependency sets the dependency's version property and reports whether
// the file has one. Like production, an element whose name differs from the
// canonical name only in case is renamed to the canonical spelling.
func (f *File) UpdateDependency(dependency, version string) bool {
	i, suffix, ok := f.find(dependency)
	if !ok {
		return false
	}
	n := f.elems[i]
	name := n.Name
	if !isCanonical(n.LocalName(), dependency, suffix) {
		name = strings.TrimSuffix(n.Name, n.LocalName()) + baseName(dependency) + suffix
	}
	if f.pending == nil {
		if cap(f.spare) >= len(f.elems) {
			f.pending = f.spare[:len(f.elems)] // cleared by Release
		} else {
			f.pending = make([]pending, len(f.elems))
		}
	}
	if !f.pending[i].set {
		f.edited++
	}
	f.pending[i] = pending{name: name, value: version, set: true}
	return true
}

// isCanonical reports whether name is exactly baseName(dependency) + suffix.
func isCanonical(name, dependency, suffix string) bool {
	i := 0
	for k := 0; k < len(dependency); k++ {
		c := dependency[k]
		if c == '.' || c == '-' {
			continue
		}
		if i >= len(name) || name[i] != c {
			return false
		}
		i++
	}
	return name[i:] == suffix
}

// AddDependency adds the dependency's version property the way production's
// `darc add-dependency` does: into the first <PropertyGroup> that already holds
// a *PackageVersion property (or, failing that, a *Version property, using the
// alternate name), else into a new "Package versions" group at the end.
func (f *File) AddDependency(dependency, version string) {
	if f.placeholder || f.UpdateDependency(dependency, version) {
		return
	}
	for _, n := range f.elems {
		if n.LocalName() != "PropertyGroup" {
			continue
		}
		for _, c := range n.Elements() {
			switch {
			case strings.HasSuffix(c.Name, "PackageVersion"):
				f.added = append(f.added, addition{group: n, name: PackageVersionName(dependency), value: version})
				return
			case strings.HasSuffix(c.Name, "Version"):
				f.added = append(f.added, addition{group: n, name: VersionName(dependency), value: version})
				return
			}
		}
	}
	f.added = append(f.added, addition{name: PackageVersionName(dependency), value: version, comment: "Package versions"})
}

// ImportsDetails reports whether the file imports Version.Details.props.
func (f *File) ImportsDetails() bool {
	for i := range f.named(foldhash.String("Import")) {
		if !foldhash.Equal(f.elems[i].LocalName(), "Import") {
			continue
		}
		p, _ := f.doc.RawAttr(f.elems[i], "Project")
		p = strings.ToLower(strings.TrimSpace(strings.ReplaceAll(p, "\\", "/")))
		if p == "version.details.props" || strings.HasSuffix(p, "/version.details.props") {
			return true
		}
	}
	return false
}

// Placeholder reports whether the file is a placeholder without a <Project>.
func (f *File) Placeholder() bool { return f.placeholder }

// Bytes returns the file with every pending edit spliced in.
func (f *File) Bytes() ([]byte, error) {
	if f.placeholder {
		return splice.Apply(f.doc.Src, nil)
	}
	// One edit per updated element (three when it is renamed), and one
	// per group that gets new elements.
	edits := splice.Edits(f.edited + len(f.added) + 1)
	for i, pe := range f.pending {
		if !pe.set {
			continue
		}
		n := f.elems[i]
		rename := ""
		if pe.name != n.Name {
			rename = pe.name
		}
		edits = xmledit.AppendSetText(edits, f.doc, n, pe.value, rename)
	}
	groups := map[*xmltok.Node][]string{}
	var order []*xmltok.Node
	var fresh []string
	for _, a := range f.added {
		elem := "<" + a.name + ">" + xmltok.EscapeText(a.value) + "</" + a.name + ">"
		if a.group == nil {
			fresh = append(fresh, elem)
			continue
		}
		if _, seen := groups[a.group]; !seen {
			order = append(order, a.group)
		}
		groups[a.group] = append(groups[a.group], elem)
	}
	for _, g := range order {
		edits = append(edits, xmledit.AppendChildren(f.doc, g, groups[g]))
	}
	if len(fresh) > 0 {
		unit := xmledit.IndentUnit(f.doc)
		group := "<PropertyGroup>\n" + unit + strings.Join(fresh, "\n"+unit) + "\n</PropertyGroup>"
		edits = append(edits, xmledit.AppendChildren(f.doc, f.doc.Root, []string{"<!--Package versions-->", group}))
	}
	out, err := splice.Apply(f.doc.Src, edits)
	splice.Recycle(edits)
	return out, err
}

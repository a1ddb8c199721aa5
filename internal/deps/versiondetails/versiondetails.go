// Package versiondetails reads and edits eng/Version.Details.xml, the file that
// lists a repository's Maestro-managed dependencies:
//
//	<Dependencies>
//	  <Source Uri=".." Mapping=".." Sha=".." BarId=".." />
//	  <ProductDependencies>
//	    <Dependency Name=".." Version=".." [Pinned] [CoherentParentDependency] [SkipProperty]>
//	      <Uri>..</Uri>
//	      <Sha>..</Sha>
//	      <SourceBuild RepoName=".." ManagedOnly=".." />
//	    </Dependency>
//	  </ProductDependencies>
//	  <ToolsetDependencies>..</ToolsetDependencies>
//	</Dependencies>
//
// Edits are spliced into the original bytes; nothing else in the file changes.
// Dependency names compare case-insensitively, as the production service does.
package versiondetails

import (
	"bytes"
	"strings"
	"sync"

	"github.com/maestroplusplus/maestro/internal/deps/fileerr"
	"github.com/maestroplusplus/maestro/internal/deps/foldhash"
	"github.com/maestroplusplus/maestro/internal/deps/splice"
	"github.com/maestroplusplus/maestro/internal/deps/xmledit"
	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
)

// Path is where the file lives in a repository.
const Path = "eng/Version.Details.xml"

// Type is the dependency group a dependency belongs to.
type Type string

// Dependency types, as `darc add-dependency --type` names them.
const (
	Product Type = "product"
	Toolset Type = "toolset"
)

func (t Type) element() string {
	if t == Toolset {
		return "ToolsetDependencies"
	}
	return "ProductDependencies"
}

// SourceBuild is the <SourceBuild> child of a dependency.
type SourceBuild struct {
	RepoName    string `json:"repoName"`
	ManagedOnly bool   `json:"managedOnly,omitempty"`
	TarballOnly bool   `json:"tarballOnly,omitempty"`
}

// Dependency is one <Dependency> element.
type Dependency struct {
	Name           string       `json:"name"`
	Version        string       `json:"version"`
	URI            string       `json:"uri"`
	Sha            string       `json:"sha"`
	Type           Type         `json:"type"`
	Pinned         bool         `json:"pinned,omitempty"`
	CoherentParent string       `json:"coherentParentDependency,omitempty"`
	SkipProperty   bool         `json:"skipProperty,omitempty"`
	SourceBuild    *SourceBuild `json:"sourceBuild,omitempty"`
	Line           int          `json:"line,omitempty"` // where it is in the file; 0 for an added one
}

// Source is the <Source> element that records the last code flow from the VMR.
type Source struct {
	URI     string `json:"Uri"`
	Mapping string `json:"Mapping"`
	Sha     string `json:"Sha"`
	BarID   string `json:"BarId,omitempty"`
}

// File is a parsed Version.Details.xml that collects edits.
type File struct {
	path       string
	doc        *xmltok.Document
	orig       []original // values of each dependency as parsed
	deps       []Dependency
	nodes      []*xmltok.Node // element of each original dependency
	index      map[uint64]int // case-folded name hash -> index in deps
	collisions int            // names whose hash another name already has
	lineOff    int            // line counting: offset and line reached so far
	lineNo     int
	origSource *Source
	source     *Source
	sourceNode *xmltok.Node
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
	clear(f.index)
	clear(f.deps)
	clear(f.nodes)
	clear(f.orig)
	bufferPool.Put(&buffers{index: f.index, deps: f.deps[:0], nodes: f.nodes[:0], orig: f.orig[:0]})
	*f = File{}
}

// buffers are the index and slices a File fills while parsing, kept for
// reuse by later parses once Release gives them back (cleared, so that the
// pool holds no strings of the released file).
type buffers struct {
	index map[uint64]int
	deps  []Dependency
	nodes []*xmltok.Node
	orig  []original
}

var bufferPool sync.Pool // of *buffers

// takeBuffers gives f an empty index and slices with room for n
// dependencies, reusing released ones when the pool has them.
func (f *File) takeBuffers(n int) {
	b, ok := bufferPool.Get().(*buffers)
	if !ok {
		b = &buffers{index: make(map[uint64]int, n)}
	}
	f.index, f.orig = b.index, b.orig[:0]
	f.deps, f.nodes = b.deps[:0], b.nodes[:0]
	if cap(f.deps) < n {
		f.deps = make([]Dependency, 0, n)
	}
	if cap(f.nodes) < n {
		f.nodes = make([]*xmltok.Node, 0, n)
	}
}

// original holds what Bytes compares a dependency with to find its edits.
type original struct{ Name, Version, URI, Sha string }

// Parse reads a Version.Details.xml; path names the file in errors. The
// File keeps src, which the caller must not modify afterwards (see xmltok.Parse).
func Parse(path string, src []byte) (*File, error) {
	doc, err := xmltok.Parse(src)
	if err != nil {
		return nil, fileerr.XML(path, err)
	}
	n := bytes.Count(src, []byte("<Dependency "))
	f := &File{path: path, doc: doc, lineNo: 1}
	f.takeBuffers(n)
	if doc.Root.Name != "Dependencies" {
		return nil, fileerr.At(path, doc.Line(doc.Root.Start), "root element is <%s>, expected <Dependencies>", doc.Root.Name)
	}
	if err := f.walk(doc.Root); err != nil {
		return nil, err
	}
	for i, d := range f.deps {
		if d.CoherentParent == "" {
			continue
		}
		if _, ok := f.lookup(d.CoherentParent); !ok {
			return nil, fileerr.At(path, d.Line, "dependency %s has CoherentParentDependency=%q, but no dependency of that name exists; add it, fix the name or remove the attribute", d.Name, d.CoherentParent)
		}
		if strings.EqualFold(d.CoherentParent, d.Name) {
			return nil, fileerr.At(path, f.deps[i].Line, "dependency %s names itself as its CoherentParentDependency; remove the attribute", d.Name)
		}
	}
	if cap(f.orig) >= len(f.deps) {
		f.orig = f.orig[:len(f.deps)]
	} else {
		f.orig = make([]original, len(f.deps))
	}
	for i, d := range f.deps {
		f.orig[i] = original{d.Name, d.Version, d.URI, d.Sha}
	}
	if f.source != nil {
		s := *f.source
		f.origSource = &s
	}
	return f, nil
}

// walk finds <Source> and every <Dependency> below n, in document order.
func (f *File) walk(n *xmltok.Node) error {
	for c := range n.Children() {
		if c.Kind != xmltok.Element {
			continue
		}
		switch c.Name {
		case "Source":
			if f.sourceNode == nil {
				if err := f.parseSource(c); err != nil {
					return err
				}
			}
			continue
		case "Dependency":
			if err := f.parseDependency(c); err != nil {
				return err
			}
			continue
		}
		if err := f.walk(c); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) parseSource(n *xmltok.Node) error {
	line := f.line(n.Start)
	s := &Source{}
	for _, a := range []struct {
		name string
		dst  *string
	}{{"Uri", &s.URI}, {"Mapping", &s.Mapping}, {"Sha", &s.Sha}} {
		v, ok := f.doc.RawAttr(n, a.name)
		if !ok {
			return fileerr.At(f.path, line, "<Source> has no %s attribute; it needs Uri, Mapping and Sha", a.name)
		}
		*a.dst = strings.TrimSpace(v)
	}
	if v, ok := f.doc.RawAttr(n, "BarId"); ok {
		s.BarID = strings.TrimSpace(v)
	}
	f.source = s
	f.sourceNode = n
	return nil
}

// line returns the line of offset, counting forward from the last offset
// asked for (the walk goes in document order).
func (f *File) line(offset int) int {
	if offset < f.lineOff {
		return f.doc.Line(offset)
	}
	f.lineNo += bytes.Count(f.doc.Src[f.lineOff:offset], []byte{'\n'})
	f.lineOff = offset
	return f.lineNo
}

// lookup finds a dependency by name, compared ignoring ASCII case.
func (f *File) lookup(name string) (int, bool) {
	return f.lookupHash(foldhash.String(name), name)
}

// lookupHash is lookup for a name whose foldhash.String is h.
func (f *File) lookupHash(h uint64, name string) (int, bool) {
	if i, ok := f.index[h]; ok && foldhash.Equal(f.deps[i].Name, name) {
		return i, true
	}
	if f.collisions > 0 {
		for i := range f.deps {
			if foldhash.Equal(f.deps[i].Name, name) {
				return i, true
			}
		}
	}
	return 0, false
}

// insert indexes dependency i under its name.
func (f *File) insert(i int) { f.insertHash(foldhash.String(f.deps[i].Name), i) }

// insertHash is insert for a dependency whose name's foldhash.String is h.
func (f *File) insertHash(h uint64, i int) {
	if _, taken := f.index[h]; taken {
		f.collisions++
		return
	}
	f.index[h] = i
}

func (f *File) parseDependency(n *xmltok.Node) error {
	doc := f.doc
	line := f.line(n.Start)
	var d Dependency
	d.Line = line
	switch n.Parent.Name {
	case "ProductDependencies":
		d.Type = Product
	case "ToolsetDependencies":
		d.Type = Toolset
	default:
		return fileerr.At(f.path, line, "<Dependency> inside <%s>; it must be inside <ProductDependencies> or <ToolsetDependencies>", n.Parent.Name)
	}
	name, ok := doc.RawAttr(n, "Name")
	d.Name = strings.TrimSpace(name)
	if !ok || d.Name == "" {
		return fileerr.At(f.path, line, "<Dependency> has no Name attribute")
	}
	version, ok := doc.RawAttr(n, "Version")
	if !ok {
		return fileerr.At(f.path, line, "dependency %s has no Version attribute", d.Name)
	}
	d.Version = strings.TrimSpace(version)
	var err error
	if d.Pinned, err = f.boolAttr(n, "Pinned", d.Name, line); err != nil {
		return err
	}
	if d.SkipProperty, err = f.boolAttr(n, "SkipProperty", d.Name, line); err != nil {
		return err
	}
	if v, ok := doc.RawAttr(n, "CoherentParentDependency"); ok {
		d.CoherentParent = strings.TrimSpace(v)
	}
	if u := n.Child("Uri"); u != nil {
		d.URI = strings.TrimSpace(doc.InnerText(u))
	}
	if s := n.Child("Sha"); s != nil {
		d.Sha = strings.TrimSpace(doc.InnerText(s))
	}
	sb := n.Child("SourceBuild")
	if sb == nil {
		sb = n.Child("SourceBuildTarball")
	}
	if sb != nil {
		repo, ok := doc.RawAttr(sb, "RepoName")
		if !ok || strings.TrimSpace(repo) == "" {
			return fileerr.At(f.path, f.line(sb.Start), "<%s> of dependency %s has no RepoName attribute", sb.Name, d.Name)
		}
		info := &SourceBuild{RepoName: strings.TrimSpace(repo)}
		if info.ManagedOnly, err = f.boolAttr(sb, "ManagedOnly", d.Name, f.line(sb.Start)); err != nil {
			return err
		}
		if info.TarballOnly, err = f.boolAttr(sb, "TarballOnly", d.Name, f.line(sb.Start)); err != nil {
			return err
		}
		d.SourceBuild = info
	}
	h := foldhash.String(d.Name)
	if prev, dup := f.lookupHash(h, d.Name); dup {
		return fileerr.At(f.path, line, "dependency %s is listed twice (first on line %d); names are case-insensitive, remove one", d.Name, f.deps[prev].Line)
	}
	f.deps = append(f.deps, d)
	f.nodes = append(f.nodes, n)
	f.insertHash(h, len(f.deps)-1)
	return nil
}

func (f *File) boolAttr(n *xmltok.Node, attr, dep string, line int) (bool, error) {
	v, ok := f.doc.RawAttr(n, attr)
	if !ok {
		return false, nil
	}
	switch b := strings.TrimSpace(v); {
	case foldhash.Equal(b, "true"):
		return true, nil
	case foldhash.Equal(b, "false"):
		return false, nil
	}
	return false, fileerr.At(f.path, line, "dependency %s: %s=%q is not true or false", dep, attr, v)
}

// Path returns the file name used in errors.
func (f *File) Path() string { return f.path }

// Dependencies returns the dependencies, with pending edits applied, in file order.
func (f *File) Dependencies() []Dependency { return append([]Dependency(nil), f.deps...) }

// Source returns the <Source> element's values, or nil.
func (f *File) Source() *Source {
	if f.source == nil {
		return nil
	}
	s := *f.source
	return &s
}

// Find returns the dependency with this name, compared case-insensitively.
func (f *File) Find(name string) (Dependency, bool) {
	i, ok := f.lookup(name)
	if !ok {
		return Dependency{}, false
	}
	return f.deps[i], true
}

// Update sets a dependency's version, repository and commit. name may differ
// from the file's spelling in case only; the file then takes the new spelling,
// as production does when it corrects a name's case.
func (f *File) Update(name, version, uri, sha string) error {
	i, ok := f.lookup(name)
	if !ok {
		return fileerr.At(f.path, 0, "no dependency named %s; add it with `maestro deps add` first", name)
	}
	d := &f.deps[i]
	d.Name, d.Version, d.URI, d.Sha = name, version, uri, sha
	return nil
}

// SetSource sets the <Source> element, adding it as the first child of
// <Dependencies> when the file has none.
func (f *File) SetSource(s Source) { f.source = &s }

// Add appends a new dependency to its group.
func (f *File) Add(d Dependency) error {
	if i, dup := f.lookup(d.Name); dup {
		return fileerr.At(f.path, f.deps[i].Line, "dependency %s already exists", f.deps[i].Name)
	}
	if d.CoherentParent != "" {
		if _, ok := f.lookup(d.CoherentParent); !ok {
			return fileerr.At(f.path, 0, "coherent parent %s of %s is not a dependency; add it first", d.CoherentParent, d.Name)
		}
	}
	if d.Type != Toolset {
		d.Type = Product
	}
	d.Line = 0
	f.deps = append(f.deps, d)
	f.insert(len(f.deps) - 1)
	return nil
}

// Bytes returns the file with every pending edit spliced in.
func (f *File) Bytes() ([]byte, error) {
	// At most one edit per changed value, and a few for <Source> and the
	// added dependencies.
	size := 6
	for i := range f.orig {
		o, d := &f.orig[i], &f.deps[i]
		size += b2i(o.Name != d.Name) + b2i(o.Version != d.Version) + b2i(o.URI != d.URI) + b2i(o.Sha != d.Sha)
	}
	edits := splice.Edits(size)
	src := f.doc.Src
	for i := range f.orig {
		edits = f.dependencyEdits(edits, f.nodes[i], &f.orig[i], &f.deps[i])
	}
	edits = f.sourceEdits(edits)
	edits = f.addEdits(edits)
	out, err := splice.Apply(src, edits)
	splice.Recycle(edits)
	return out, err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (f *File) dependencyEdits(edits []splice.Edit, n *xmltok.Node, o *original, d *Dependency) []splice.Edit {
	if o.Name != d.Name {
		edits = append(edits, xmledit.SetAttr(f.doc, n, "Name", d.Name))
	}
	if o.Version != d.Version {
		edits = append(edits, xmledit.SetAttr(f.doc, n, "Version", d.Version))
	}
	var missing []string
	if o.URI != d.URI {
		if c := n.Child("Uri"); c != nil {
			edits = xmledit.AppendSetText(edits, f.doc, c, d.URI, "")
		} else {
			missing = append(missing, "<Uri>"+xmltok.EscapeText(d.URI)+"</Uri>")
		}
	}
	if o.Sha != d.Sha {
		if c := n.Child("Sha"); c != nil {
			edits = xmledit.AppendSetText(edits, f.doc, c, d.Sha, "")
		} else {
			missing = append(missing, "<Sha>"+xmltok.EscapeText(d.Sha)+"</Sha>")
		}
	}
	if len(missing) > 0 {
		edits = append(edits, xmledit.AppendChildren(f.doc, n, missing))
	}
	return edits
}

func (f *File) sourceEdits(edits []splice.Edit) []splice.Edit {
	s := f.source
	if s == nil || (f.origSource != nil && *s == *f.origSource) {
		return edits
	}
	if f.sourceNode == nil {
		return append(edits, xmledit.PrependChild(f.doc, f.doc.Root, sourceElement(*s)))
	}
	n, o := f.sourceNode, f.origSource
	set := func(name, old, val string) {
		if old != val || n.Attr(name) == nil {
			edits = append(edits, xmledit.SetAttr(f.doc, n, name, val))
		}
	}
	set("Uri", o.URI, s.URI)
	set("Mapping", o.Mapping, s.Mapping)
	set("Sha", o.Sha, s.Sha)
	if s.BarID != "" {
		set("BarId", o.BarID, s.BarID)
	}
	return edits
}

func sourceElement(s Source) string {
	var b strings.Builder
	b.WriteString(`<Source Uri="` + xmltok.EscapeAttr(s.URI) + `" Mapping="` + xmltok.EscapeAttr(s.Mapping) + `" Sha="` + xmltok.EscapeAttr(s.Sha) + `"`)
	if s.BarID != "" {
		b.WriteString(` BarId="` + xmltok.EscapeAttr(s.BarID) + `"`)
	}
	b.WriteString(" />")
	return b.String()
}

// addEdits inserts the added dependencies at the end of their groups, creating
// a group at the end of <Dependencies> when the file has none.
func (f *File) addEdits(edits []splice.Edit) []splice.Edit {
	added := f.deps[len(f.orig):]
	if len(added) == 0 {
		return edits
	}
	for _, t := range []Type{Product, Toolset} {
		var elems []string
		for _, d := range added {
			if d.Type == t {
				elems = append(elems, f.dependencyElement(d))
			}
		}
		if len(elems) == 0 {
			continue
		}
		group := f.doc.Root.Child(t.element())
		if group == nil {
			unit := xmledit.IndentUnit(f.doc)
			var b strings.Builder
			b.WriteString("<" + t.element() + ">")
			for _, e := range elems {
				b.WriteString("\n" + unit + strings.ReplaceAll(e, "\n", "\n"+unit))
			}
			b.WriteString("\n</" + t.element() + ">")
			edits = append(edits, xmledit.AppendChildren(f.doc, f.doc.Root, []string{b.String()}))
			continue
		}
		edits = append(edits, xmledit.AppendChildren(f.doc, group, elems))
	}
	return edits
}

// dependencyElement renders a new <Dependency> with "\n" line breaks and
// relative indentation; appendChildren indents and converts the breaks.
func (f *File) dependencyElement(d Dependency) string {
	unit := xmledit.IndentUnit(f.doc)
	var b strings.Builder
	b.WriteString(`<Dependency Name="` + xmltok.EscapeAttr(d.Name) + `" Version="` + xmltok.EscapeAttr(d.Version) + `"`)
	if d.Pinned {
		b.WriteString(` Pinned="True"`)
	}
	if d.CoherentParent != "" {
		b.WriteString(` CoherentParentDependency="` + xmltok.EscapeAttr(d.CoherentParent) + `"`)
	}
	if d.SkipProperty {
		b.WriteString(` SkipProperty="True"`)
	}
	b.WriteString(">\n")
	b.WriteString(unit + "<Uri>" + xmltok.EscapeText(d.URI) + "</Uri>\n")
	b.WriteString(unit + "<Sha>" + xmltok.EscapeText(d.Sha) + "</Sha>\n")
	if sb := d.SourceBuild; sb != nil {
		b.WriteString(unit + `<SourceBuild RepoName="` + xmltok.EscapeAttr(sb.RepoName) + `"`)
		if sb.ManagedOnly {
			b.WriteString(` ManagedOnly="true"`)
		}
		if sb.TarballOnly {
			b.WriteString(` TarballOnly="true"`)
		}
		b.WriteString(" />\n")
	}
	b.WriteString("</Dependency>")
	return b.String()
}

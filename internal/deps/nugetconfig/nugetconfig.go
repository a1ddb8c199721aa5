// Package nugetconfig edits the flow-managed package sources of NuGet.config:
// the block between the marker comments
//
//	<!--Begin: Package sources managed by Dependency Flow automation. Do not edit the sources below.-->
//	<!--End: Package sources managed by Dependency Flow automation. Do not edit the sources above.-->
//
// inside <packageSources>, holding one "  Begin/End: Package sources from
// {repo} " section per source repository with darc-pub-{repo}-{sha7} and
// darc-int-{repo}-{sha7} feeds, and the matching block in
// <disabledPackageSources> that disables the internal (darc-int) feeds. It
// follows production darc's algorithm node for node, but splices the changes
// into the original bytes: everything outside the edited nodes stays as it was.
//
// When the file maps packages to sources (<packageSourceMapping>, which
// production does not handle: dotnet/arcade-services#5318), every managed
// feed also gets a <packageSource key> entry whose patterns are the packages
// the flow takes from it, and the entry of a managed feed the flow removes
// goes with it. Entries of other sources are never touched.
package nugetconfig

import (
	"regexp"
	"sort"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/fileerr"
	"github.com/maestroplusplus/maestro/internal/deps/splice"
	"github.com/maestroplusplus/maestro/internal/deps/xmledit"
	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
)

// The marker comments, as production writes them.
const (
	BeginMarker = "Begin: Package sources managed by Dependency Flow automation. Do not edit the sources below."
	EndMarker   = "End: Package sources managed by Dependency Flow automation. Do not edit the sources above."
	repoBegin   = "  Begin: Package sources from"
	repoEnd     = "  End: Package sources from"
)

const (
	publicPrefix   = "darc-pub"
	internalPrefix = "darc-int"
	unknownRepo    = "unknown"
)

const feedName = `darc-(?P<type>(int|pub))-(?P<repository>.+?)-(?P<sha>[A-Fa-f0-9]{7,40})-?(?P<subversion>\d*)`

var (
	feedNamePattern = regexp.MustCompile(feedName)
	feedPatterns    = []*regexp.Regexp{
		regexp.MustCompile(`https://(?P<organization>\w+).pkgs.visualstudio.com/((public|internal)/){0,1}_packaging/` + feedName + `/nuget/v\d+/index.json`),
		regexp.MustCompile(`https://pkgs.dev.azure.com/(?P<organization>\w+)/((public|internal)/){0,1}_packaging/` + feedName + `/nuget/v\d+/index.json`),
		regexp.MustCompile(`https://([a-z-]+).azurewebsites.net/container/([^/]+)/sig/\w+/se/([0-9]{4}-[0-9]{2}-[0-9]{2})/` + feedName + `/index.json`),
	}
)

// Feed is a flow-managed feed URL taken apart.
type Feed struct {
	URL        string
	Type       string // "pub" or "int"
	Repository string // "{org}-{repo}", e.g. dotnet-runtime
	Sha        string // the commit prefix in the feed name
	SubVersion string // the "-N" suffix of a re-published feed, or ""
}

// Key returns the package source key production gives the feed:
// darc-{type}-{repository}-{sha7}[-{subversion}].
func (f Feed) Key() string {
	sha := f.Sha
	if len(sha) > 7 {
		sha = sha[:7]
	}
	k := "darc-" + f.Type + "-" + f.Repository + "-" + sha
	if f.SubVersion != "" {
		k += "-" + f.SubVersion
	}
	return k
}

// ParseFeed recognises a flow-managed (darc-pub/darc-int) feed URL.
func ParseFeed(url string) (Feed, bool) {
	for _, p := range feedPatterns {
		m := p.FindStringSubmatch(url)
		if m == nil {
			continue
		}
		get := func(name string) string { return m[p.SubexpIndex(name)] }
		return Feed{URL: url, Type: get("type"), Repository: get("repository"), Sha: get("sha"), SubVersion: get("subversion")}, true
	}
	return Feed{}, false
}

// IsManaged reports whether url is a flow-managed feed.
func IsManaged(url string) bool {
	_, ok := ParseFeed(url)
	return ok
}

// repoOf returns the repository group production files a feed under.
func repoOf(url string) string {
	m := feedNamePattern.FindStringSubmatch(url)
	if m == nil || m[feedNamePattern.SubexpIndex("repository")] == "" {
		return unknownRepo
	}
	return m[feedNamePattern.SubexpIndex("repository")]
}

// ManagedFeed is a flow-managed feed and the package IDs the flow takes from
// it (the patterns of its <packageSourceMapping> entry).
type ManagedFeed struct {
	URL      string
	Packages []string
}

// File is a parsed NuGet.config.
type File struct {
	path     string
	doc      *xmltok.Document
	config   *xmltok.Node
	sources  *xmltok.Node
	disabled *xmltok.Node
	mapping  *xmltok.Node
	feeds    []ManagedFeed // the managed feeds to write
	set      bool
}

// Parse reads a NuGet.config; path names it in errors. The File keeps src,
// which the caller must not modify afterwards (see xmltok.Parse).
func Parse(path string, src []byte) (*File, error) {
	doc, err := xmltok.Parse(src)
	if err != nil {
		return nil, fileerr.XML(path, err)
	}
	if doc.Root.Name != "configuration" {
		return nil, fileerr.At(path, doc.Line(doc.Root.Start), "root element is <%s>, expected <configuration>", doc.Root.Name)
	}
	f := &File{path: path, doc: doc, config: doc.Root}
	f.sources = doc.Root.Child("packageSources")
	f.disabled = doc.Root.Child("disabledPackageSources")
	f.mapping = doc.Root.Child("packageSourceMapping")
	if f.sources != nil {
		for _, c := range f.sources.Elements() {
			if strings.EqualFold(c.Name, "add") && c.Attr("value") == nil {
				return nil, fileerr.At(path, doc.Line(c.Start), "<add> in <packageSources> has no value attribute")
			}
		}
	}
	return f, nil
}

// ManagedFeeds returns the URLs of the flow-managed feeds inside the marker
// block of <packageSources>, in file order.
func (f *File) ManagedFeeds() []string {
	var out []string
	if f.sources == nil {
		return nil
	}
	inside := false
	for c := range f.sources.Children() {
		switch c.Kind {
		case xmltok.Comment:
			inside = f.markerState(c, inside)
		case xmltok.Element:
			if v, ok := f.doc.RawAttr(c, "value"); ok && inside && strings.EqualFold(c.Name, "add") && IsManaged(v) {
				out = append(out, v)
			}
		}
	}
	return out
}

func (f *File) markerState(c *xmltok.Node, inside bool) bool {
	switch t := f.doc.CommentText(c); {
	case strings.EqualFold(t, BeginMarker):
		return true
	case strings.EqualFold(t, EndMarker):
		return false
	}
	return inside
}

// SetManagedFeeds makes feeds the complete set of flow-managed feeds: the
// block is rebuilt to hold exactly these (grouped per repository), the
// internal ones are disabled under <disabledPackageSources>, and, when the
// file has a <packageSourceMapping>, each maps its packages.
func (f *File) SetManagedFeeds(feeds []ManagedFeed) {
	f.feeds = append([]ManagedFeed(nil), feeds...)
	f.set = true
}

// PackageSources reports whether the file has a <packageSources> section
// (the managed block lives there; without one SetManagedFeeds does nothing).
func (f *File) PackageSources() bool { return f.sources != nil }

// Bytes returns the file, with the managed block rewritten when
// SetManagedFeeds was called.
func (f *File) Bytes() ([]byte, error) {
	if !f.set || f.sources == nil {
		return splice.Apply(f.doc.Src, nil)
	}
	byRepo := map[string][]Feed{}
	packages := map[string][]string{} // feed key → package IDs
	seen := map[string]bool{}
	for _, mf := range f.feeds {
		feed, ok := ParseFeed(mf.URL)
		if !ok {
			continue
		}
		packages[feed.Key()] = append(packages[feed.Key()], mf.Packages...)
		if seen[mf.URL] {
			continue
		}
		seen[mf.URL] = true
		r := repoOf(mf.URL)
		byRepo[r] = append(byRepo[r], feed)
	}
	repos := make([]string, 0, len(byRepo))
	for r := range byRepo {
		repos = append(repos, r)
	}
	sort.Strings(repos)

	var edits []splice.Edit
	edits = append(edits, f.sourcesEdits(repos, byRepo)...)
	edits = append(edits, f.disabledEdits(repos, byRepo)...)
	edits = append(edits, f.mappingEdits(repos, byRepo, packages)...)
	return splice.Apply(f.doc.Src, edits)
}

func comment(text string) string { return "<!--" + text + "-->" }

func addElement(key, value string) string {
	return `<add key="` + xmltok.EscapeAttr(key) + `" value="` + xmltok.EscapeAttr(value) + `" />`
}

func (f *File) sourcesEdits(repos []string, byRepo map[string][]Feed) []splice.Edit {
	l := newChildList(f.doc, f.sources)
	inside := false
	for _, it := range l.items {
		n := it.node
		switch {
		case n.Kind == xmltok.Comment:
			inside = f.markerState(n, inside)
		case strings.EqualFold(n.Name, "add"):
			if v, _ := f.doc.RawAttr(n, "value"); inside && IsManaged(v) {
				it.removed = true
			}
		case strings.EqualFold(n.Name, "clear"):
			it.removed = true
		}
	}
	// Production removes every <clear/> and puts one first; keep the bytes of
	// one that is already first.
	if first := l.first(); first != nil && first.node.Kind == xmltok.Element && strings.EqualFold(first.node.Name, "clear") && l.count(func(it *item) bool {
		return it.node != nil && it.node.Kind == xmltok.Element && strings.EqualFold(it.node.Name, "clear")
	}) == 1 {
		first.removed = false
	} else {
		l.insert(0, "<clear />", "")
	}
	if len(repos) == 0 {
		return l.edits()
	}
	current := l.findComment(BeginMarker)
	if current < 0 {
		current = l.insert(l.indexOfClear()+1, comment(BeginMarker), BeginMarker)
	}
	for _, r := range repos {
		feeds := append([]Feed(nil), byRepo[r]...)
		sort.SliceStable(feeds, func(i, j int) bool { return feeds[i].URL > feeds[j].URL })
		// Production takes the first matching comment anywhere; looking only
		// inside the block gives the same result for every real file and
		// never puts a managed feed outside the block.
		if i := l.findInBlock(repoBegin + " " + r + " "); i >= 0 {
			current = i
		} else {
			current = l.insert(current+1, comment(repoBegin+" "+r+" "), repoBegin+" "+r+" ")
		}
		for _, feed := range feeds {
			current = l.insert(current+1, addElement(feed.Key(), feed.URL), "")
		}
		if i := l.findInBlock(repoEnd + " " + r + " "); i > current {
			current = i
		} else {
			current = l.insert(current+1, comment(repoEnd+" "+r+" "), repoEnd+" "+r+" ")
		}
	}
	if l.findComment(EndMarker) < 0 {
		l.insert(current+1, comment(EndMarker), EndMarker)
	}
	return l.edits()
}

func (f *File) disabledEdits(repos []string, byRepo map[string][]Feed) []splice.Edit {
	var internal []string
	for _, r := range repos {
		for _, feed := range byRepo[r] {
			if strings.HasPrefix(feed.Key(), internalPrefix) {
				internal = append(internal, r)
				break
			}
		}
	}
	if f.disabled == nil {
		if len(internal) == 0 {
			return []splice.Edit{xmledit.AppendChildren(f.doc, f.config, []string{"<disabledPackageSources />"})}
		}
		unit := xmledit.IndentUnit(f.doc)
		var b strings.Builder
		b.WriteString("<disabledPackageSources>\n" + unit + comment(BeginMarker))
		for _, r := range internal {
			b.WriteString("\n" + unit + comment(repoBegin+" "+r+" "))
			for _, feed := range internalFeeds(byRepo[r]) {
				b.WriteString("\n" + unit + addElement(feed.Key(), "true"))
			}
			b.WriteString("\n" + unit + comment(repoEnd+" "+r+" "))
		}
		b.WriteString("\n" + unit + comment(EndMarker) + "\n</disabledPackageSources>")
		return []splice.Edit{xmledit.AppendChildren(f.doc, f.config, []string{b.String()})}
	}
	l := newChildList(f.doc, f.disabled)
	after := -1
	inside := false
	for i, it := range l.items {
		n := it.node
		switch {
		case n.Kind == xmltok.Element && strings.EqualFold(n.Name, "clear"):
			after = i
		case n.Kind == xmltok.Element && strings.EqualFold(n.Name, "add"):
			if k, _ := f.doc.RawAttr(n, "key"); inside && strings.HasPrefix(k, internalPrefix) {
				it.removed = true
			}
		case n.Kind == xmltok.Comment:
			inside = f.markerState(n, inside)
		}
	}
	start := l.findComment(BeginMarker)
	if start >= 0 {
		after = start
	}
	hasEnd := l.findComment(EndMarker) >= 0
	introduced := false
	for _, r := range internal {
		if start < 0 {
			start = l.insert(after+1, comment(BeginMarker), BeginMarker)
			after = start
			introduced = true
		}
		if i := l.findInBlock(repoBegin + " " + r + " "); i >= 0 {
			after = i
		} else {
			after = l.insert(after+1, comment(repoBegin+" "+r+" "), repoBegin+" "+r+" ")
		}
		for _, feed := range internalFeeds(byRepo[r]) {
			after = l.insert(after+1, addElement(feed.Key(), "true"), "")
		}
		if i := l.findInBlock(repoEnd + " " + r + " "); i > after {
			after = i
		} else {
			after = l.insert(after+1, comment(repoEnd+" "+r+" "), repoEnd+" "+r+" ")
		}
	}
	if !hasEnd && introduced {
		l.insert(after+1, comment(EndMarker), EndMarker)
	}
	return l.edits()
}

// internalFeeds returns the darc-int feeds in production's order (ascending URL).
func internalFeeds(feeds []Feed) []Feed {
	var out []Feed
	for _, feed := range feeds {
		if strings.HasPrefix(feed.Key(), internalPrefix) {
			out = append(out, feed)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out
}

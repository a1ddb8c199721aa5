package nugetconfig

import (
	"slices"
	"sort"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/splice"
	"github.com/maestroplusplus/maestro/internal/deps/xmledit"
	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
)

// mappingEdits keeps <packageSourceMapping> in step with the managed block:
// a <packageSource key> per managed feed, with one <package pattern> per
// package the flow takes from it (sorted, case-insensitively unique), in the
// block's order, first in the section (after a leading <clear/>). An entry
// whose patterns are already right keeps its bytes; one whose patterns
// changed is replaced where it stands; the entry of a feed that was in the
// managed block and is no longer is removed. A file without the section is
// left without one.
func (f *File) mappingEdits(repos []string, byRepo map[string][]Feed, packages map[string][]string) []splice.Edit {
	if f.mapping == nil {
		return nil
	}
	type entry struct {
		key      string
		patterns []string
	}
	var want []entry
	wanted := map[string]int{}
	for _, r := range repos {
		feeds := append([]Feed(nil), byRepo[r]...)
		sort.SliceStable(feeds, func(i, j int) bool { return feeds[i].URL > feeds[j].URL })
		for _, feed := range feeds {
			k := strings.ToLower(feed.Key())
			if _, dup := wanted[k]; dup {
				continue
			}
			wanted[k] = len(want)
			want = append(want, entry{key: feed.Key(), patterns: patternSet(packages[feed.Key()])})
		}
	}
	removed := map[string]bool{} // keys of the managed feeds before the update
	for _, url := range f.ManagedFeeds() {
		if feed, ok := ParseFeed(url); ok {
			removed[strings.ToLower(feed.Key())] = true
		}
	}

	l := newChildList(f.doc, f.mapping)
	done := map[string]bool{}
	replace := map[*item]entry{} // an entry to replace → what replaces it
	for _, it := range l.items {
		n := it.node
		if n.Kind != xmltok.Element || !strings.EqualFold(n.Name, "packageSource") {
			continue
		}
		key, _ := f.doc.RawAttr(n, "key")
		k := strings.ToLower(f.doc.AttrValue(n.Attr("key")))
		i, ok := wanted[k]
		switch {
		case ok && !done[k] && key == want[i].key && slices.Equal(f.patterns(n), want[i].patterns):
			done[k] = true
		case ok && !done[k]:
			done[k] = true
			it.removed = true
			replace[it] = want[i]
		case ok, removed[k]:
			it.removed = true
		}
	}
	var added []entry
	for _, e := range want {
		if !done[strings.ToLower(e.key)] {
			added = append(added, e)
		}
	}

	unit := xmledit.IndentUnit(f.doc)
	if l.count(func(it *item) bool { return !it.removed }) == 0 {
		// Nothing stays: the entries go in as the section's children, laid
		// out by AppendChildren (one line each, "\n" between lines).
		var edits []splice.Edit
		var markup []string
		for _, it := range l.items {
			if it.removed {
				edits = append(edits, xmledit.Remove(f.doc.Src, it.node))
				if e, ok := replace[it]; ok {
					markup = append(markup, entryMarkup(e.key, e.patterns, "\n", unit))
				}
			}
		}
		for _, e := range added {
			markup = append(markup, entryMarkup(e.key, e.patterns, "\n", unit))
		}
		if len(markup) > 0 {
			edits = append(edits, xmledit.AppendChildren(f.doc, f.mapping, markup))
		}
		return edits
	}

	// Among staying children, new lines go at the children's indentation.
	childIndent := ""
	for _, it := range l.items {
		if ind, own := xmltok.Indent(f.doc.Src, it.node.Start); own {
			childIndent = ind
			break
		}
	}
	if childIndent == "" {
		parentIndent, _ := xmltok.Indent(f.doc.Src, f.mapping.Start)
		childIndent = parentIndent + unit
	}
	lineBreak := f.doc.Newline() + childIndent
	// The replacement goes where the entry stood.
	for i := len(l.items) - 1; i >= 0; i-- {
		if e, ok := replace[l.items[i]]; ok {
			l.insert(i+1, entryMarkup(e.key, e.patterns, lineBreak, unit), "")
		}
	}
	at := 0
	if first := l.first(); first != nil && first.node != nil && first.node.Kind == xmltok.Element && strings.EqualFold(first.node.Name, "clear") {
		at = 1
	}
	for _, e := range added {
		l.insert(at, entryMarkup(e.key, e.patterns, lineBreak, unit), "")
		at++
	}
	return l.edits()
}

// entryMarkup is a <packageSource> element with its patterns, lines joined
// by lineBreak, the patterns one unit deeper.
func entryMarkup(key string, patterns []string, lineBreak, unit string) string {
	var b strings.Builder
	b.WriteString(`<packageSource key="` + xmltok.EscapeAttr(key) + `">`)
	for _, p := range patterns {
		b.WriteString(lineBreak + unit + `<package pattern="` + xmltok.EscapeAttr(p) + `" />`)
	}
	b.WriteString(lineBreak + "</packageSource>")
	return b.String()
}

// patterns returns the <package pattern> values of a <packageSource>.
func (f *File) patterns(n *xmltok.Node) []string {
	var out []string
	for _, c := range n.Elements() {
		if strings.EqualFold(c.Name, "package") {
			if a := c.Attr("pattern"); a != nil {
				out = append(out, f.doc.AttrValue(a))
			}
		}
	}
	return out
}

// patternSet sorts package IDs case-insensitively and drops repeats (NuGet
// compares IDs without case).
func patternSet(ids []string) []string {
	out := append([]string(nil), ids...)
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return slices.CompactFunc(out, func(a, b string) bool { return strings.EqualFold(a, b) })
}

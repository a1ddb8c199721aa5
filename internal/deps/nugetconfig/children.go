package nugetconfig

import (
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/splice"
	"github.com/maestroplusplus/maestro/internal/deps/xmledit"
	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
)

// item is one element or comment child: an existing node (possibly removed)
// or new text to insert.
type item struct {
	node    *xmltok.Node
	removed bool
	text    string // new item's markup
	comment string // new comment's text, for findComment
}

// childList replays production's DOM edits on a parent's element and comment
// children, then turns them into splice edits.
type childList struct {
	doc    *xmltok.Document
	parent *xmltok.Node
	items  []*item
}

func newChildList(doc *xmltok.Document, parent *xmltok.Node) *childList {
	l := &childList{doc: doc, parent: parent}
	for c := range parent.Children() {
		if c.Kind == xmltok.Element || c.Kind == xmltok.Comment {
			l.items = append(l.items, &item{node: c})
		}
	}
	return l
}

// first returns the first item, or nil.
func (l *childList) first() *item {
	if len(l.items) == 0 {
		return nil
	}
	return l.items[0]
}

func (l *childList) count(pred func(*item) bool) int {
	n := 0
	for _, it := range l.items {
		if pred(it) {
			n++
		}
	}
	return n
}

// insert puts new markup at index i and returns i.
func (l *childList) insert(i int, text, commentText string) int {
	if i > len(l.items) {
		i = len(l.items)
	}
	it := &item{text: text, comment: commentText}
	l.items = append(l.items, nil)
	copy(l.items[i+1:], l.items[i:])
	l.items[i] = it
	return i
}

// indexOfClear returns the index of the first live <clear/>, or -1.
func (l *childList) indexOfClear() int {
	for i, it := range l.items {
		if it.removed {
			continue
		}
		if it.node == nil && it.text == "<clear />" {
			return i
		}
		if it.node != nil && it.node.Kind == xmltok.Element && strings.EqualFold(it.node.Name, "clear") {
			return i
		}
	}
	return -1
}

// findComment returns the index of the first live comment whose text equals
// text case-insensitively, or -1.
func (l *childList) findComment(text string) int { return l.findCommentIn(text, 0, len(l.items)) }

// findCommentIn is findComment over the items [from, to).
func (l *childList) findCommentIn(text string, from, to int) int {
	for i := from; i < to && i < len(l.items); i++ {
		it := l.items[i]
		if it.removed {
			continue
		}
		if it.node == nil {
			if it.comment != "" && strings.EqualFold(it.comment, text) {
				return i
			}
			continue
		}
		if it.node.Kind == xmltok.Comment && strings.EqualFold(l.doc.CommentText(it.node), text) {
			return i
		}
	}
	return -1
}

// edits turns the list into splice edits: removed nodes lose their lines and
// new items go on their own lines after the nearest live node before them.
func (l *childList) edits() []splice.Edit {
	src := l.doc.Src
	nl := l.doc.Newline()
	childIndent := ""
	for _, it := range l.items {
		if it.node != nil {
			childIndent, _ = xmltok.Indent(src, it.node.Start)
			break
		}
	}
	if childIndent == "" {
		parentIndent, _ := xmltok.Indent(src, l.parent.Start)
		childIndent = parentIndent + xmledit.IndentUnit(l.doc)
	}
	var edits []splice.Edit
	var anchor *xmltok.Node
	var pending []string
	flush := func(before *xmltok.Node) {
		if len(pending) == 0 {
			return
		}
		switch {
		case anchor != nil:
			ind := childIndent
			if i, own := xmltok.Indent(src, anchor.Start); own {
				ind = i
			}
			var b strings.Builder
			for _, t := range pending {
				b.WriteString(nl + ind + t)
			}
			edits = append(edits, splice.Edit{Start: anchor.End, End: anchor.End, Text: b.String()})
		case before != nil:
			ind, own := xmltok.Indent(src, before.Start)
			var b strings.Builder
			for _, t := range pending {
				if own {
					b.WriteString(t + nl + ind)
				} else {
					b.WriteString(t)
				}
			}
			edits = append(edits, splice.Edit{Start: before.Start, End: before.Start, Text: b.String()})
		default:
			edits = append(edits, xmledit.AppendChildren(l.doc, l.parent, pending))
		}
		pending = nil
	}
	for _, it := range l.items {
		switch {
		case it.node == nil:
			pending = append(pending, it.text)
		case it.removed:
			edits = append(edits, xmledit.Remove(src, it.node))
		default:
			flush(it.node)
			anchor = it.node
		}
	}
	flush(nil)
	return edits
}

// findInBlock finds a comment between the begin and end markers.
func (l *childList) findInBlock(text string) int {
	begin := l.findComment(BeginMarker)
	if begin < 0 {
		return -1
	}
	end := l.findCommentIn(EndMarker, begin+1, len(l.items))
	if end < 0 {
		end = len(l.items)
	}
	return l.findCommentIn(text, begin+1, end)
}

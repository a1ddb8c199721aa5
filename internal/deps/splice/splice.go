// Package splice applies byte-range replacements to a file's contents. The
// dependency-file editors find the spans of the values they change and splice
// new text into them, so every byte outside those spans stays as it was.
package splice

import (
	"fmt"
	"slices"
	"sync"
)

// Edit replaces src[Start:End] with Text. Start == End inserts Text at Start.
type Edit struct {
	Start, End int
	Text       string
}

// editPool holds edit lists given back by Recycle, as *[]Edit.
var editPool sync.Pool

// Edits returns an empty edit list with room for at least n edits, reusing
// one given back by Recycle when it is large enough. Editors that build a
// large list for every render use it to avoid fresh memory each time.
func Edits(n int) []Edit {
	if p, ok := editPool.Get().(*[]Edit); ok && cap(*p) >= n {
		return (*p)[:0]
	}
	return make([]Edit, 0, n)
}

// Recycle gives an edit list back for reuse by Edits. The caller must not use
// edits afterwards; the output of Apply does not share its memory.
func Recycle(edits []Edit) {
	clear(edits) // drop the texts so the pool does not keep them alive
	edits = edits[:0]
	editPool.Put(&edits)
}

// Apply returns src with every edit applied. Edits may come in any order but
// must not overlap. At one offset, insertions come before a replacement that
// starts there, and keep their given order among themselves.
func Apply(src []byte, edits []Edit) ([]byte, error) {
	if len(edits) == 0 {
		return append([]byte(nil), src...), nil
	}
	before := func(a, b Edit) int {
		switch {
		case a.Start != b.Start:
			return a.Start - b.Start
		case (a.End == a.Start) == (b.End == b.Start):
			return 0
		case a.End == a.Start:
			return -1
		}
		return 1
	}
	sorted := edits
	if !slices.IsSortedFunc(edits, before) {
		sorted = slices.Clone(edits)
		slices.SortStableFunc(sorted, before)
	}
	size := len(src)
	prev := 0
	for i, e := range sorted {
		if e.Start < 0 || e.End < e.Start || e.End > len(src) {
			return nil, fmt.Errorf("splice: edit [%d,%d) out of range (size %d)", e.Start, e.End, len(src))
		}
		if i > 0 && e.Start < prev {
			return nil, fmt.Errorf("splice: edit [%d,%d) overlaps an earlier edit ending at %d", e.Start, e.End, prev)
		}
		prev = e.End
		size += len(e.Text) - (e.End - e.Start)
	}
	out := make([]byte, 0, size)
	at := 0
	for _, e := range sorted {
		out = append(out, src[at:e.Start]...)
		out = append(out, e.Text...)
		at = e.End
	}
	return append(out, src[at:]...), nil
}

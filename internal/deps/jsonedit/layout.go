package jsonedit

import (
	"bytes"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/splice"
)

// newline returns "\r\n" when the first line of src ends with it, else "\n".
func newline(src []byte) string {
	if i := bytes.IndexByte(src, '\n'); i > 0 && src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// lineIndent returns the leading whitespace of offset's line and whether
// only whitespace precedes offset on it.
func lineIndent(src []byte, offset int) (string, bool) {
	ls := offset
	for ls > 0 && src[ls-1] != '\n' {
		ls--
	}
	k := ls
	for k < len(src) && (src[k] == ' ' || src[k] == '\t') {
		k++
	}
	return string(src[ls:k]), k == offset
}

// Separator returns the text between the first member name and its value
// in root (such as ": "), to imitate in new members.
func Separator(src []byte, root *Value) string {
	var first *Member
	var find func(v *Value) bool
	find = func(v *Value) bool {
		if v.Kind == Object && len(v.Members) > 0 {
			first = &v.Members[0]
			return true
		}
		return false
	}
	if find(root) {
		sep := string(src[first.KeyEnd:first.Value.Start])
		if strings.Count(sep, ":") == 1 && !strings.ContainsAny(sep, "\r\n/") {
			return sep
		}
	}
	return ": "
}

// IndentUnit returns the indentation of root's first member, the file's unit
// of indentation.
func IndentUnit(src []byte, root *Value) string {
	if root.Kind == Object && len(root.Members) > 0 {
		if ind, own := lineIndent(src, root.Members[0].KeyStart); own && ind != "" {
			return ind
		}
	}
	return "  "
}

// AppendMembers inserts members (rendered "name": value text; a multi-line
// value uses "\n") at the end of object obj, each on its own line at the
// indentation of obj's members, with the file's line ending.
func AppendMembers(src []byte, root, obj *Value, members []string) splice.Edit {
	if root == nil {
		root = obj
	}
	nl := newline(src)
	objIndent, _ := lineIndent(src, obj.Start)
	memberIndent := objIndent + IndentUnit(src, root)
	render := func(ind string) string {
		var b strings.Builder
		for i, m := range members {
			if i > 0 {
				b.WriteString("," + nl)
			}
			b.WriteString(ind + strings.ReplaceAll(m, "\n", nl+ind))
		}
		return b.String()
	}
	if len(obj.Members) == 0 {
		return splice.Edit{Start: obj.Start, End: obj.End, Text: "{" + nl + render(memberIndent) + nl + objIndent + "}"}
	}
	last := obj.Members[len(obj.Members)-1]
	if ind, own := lineIndent(src, last.KeyStart); own {
		memberIndent = ind
	}
	at := last.Value.End
	k := at
	for k < obj.End && (src[k] == ' ' || src[k] == '\t' || src[k] == '\r' || src[k] == '\n') {
		k++
	}
	if k < obj.End && src[k] == ',' {
		return splice.Edit{Start: k + 1, End: k + 1, Text: nl + render(memberIndent)}
	}
	return splice.Edit{Start: at, End: at, Text: "," + nl + render(memberIndent)}
}

package xmltok_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/internal/sharedfixtures"
	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
)

func TestParse(t *testing.T) {
	src := "\xef\xbb\xbf<?xml version=\"1.0\"?>\r\n<!-- c -->\r\n<a x='1' y=\"&amp;&#65;\">t&lt;<b/><![CDATA[<raw>]]><c>\r\n  z </c></a>\r\n"
	doc, err := xmltok.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Root
	if root.Name != "a" || len(root.Attrs) != 2 {
		t.Fatalf("root %+v", root)
	}
	if v, _ := doc.RawAttr(root, "y"); v != "&A" {
		t.Errorf("y = %q", v)
	}
	if got := doc.InnerText(root); got != "t<<raw>\n  z " {
		t.Errorf("inner text %q", got)
	}
	b := root.Child("b")
	if b == nil || !b.SelfClosing || src[b.Start:b.End] != "<b/>" {
		t.Errorf("b %+v", b)
	}
	c := root.Child("c")
	if src[c.StartTagEnd:c.EndTagStart] != "\r\n  z " || doc.Line(c.Start) != 3 {
		t.Errorf("c content %q line %d", src[c.StartTagEnd:c.EndTagStart], doc.Line(c.Start))
	}
	if doc.Newline() != "\r\n" {
		t.Errorf("newline %q", doc.Newline())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"empty", "", "line 1, column 1: no root element"},
		{"comment only", "<!-- x -->\n", "line 2, column 1: no root element"},
		{"unclosed", "<a>\n<b>\n</a>", "line 3, column 1: end tag </a> does not match <b> opened on line 2"},
		{"never closed", "<a>\n", "element <a> opened on line 1 is not closed"},
		{"two roots", "<a/><b/>", "a second root element"},
		{"text outside", "<a/>x", "text outside the root element"},
		{"unquoted", "<a x=1/>", "is not quoted"},
		{"duplicate attr", `<a x="1" x="2"/>`, "appears twice"},
		{"bad entity", "<a>&nbsp;</a>", "unknown entity reference &nbsp;"},
		{"bare ampersand", "<a>a & b</a>", "'&' must start an entity reference"},
		{"lt in attr", `<a x="<"/>`, "'<' is not allowed"},
		{"double dash", "<a><!-- a -- b --></a>", `"--" is not allowed inside a comment`},
		{"late declaration", "<a/>\n<?xml version=\"1.0\"?>", "XML declaration is allowed only at the start"},
		{"bad name", "<1a/>", "expected a name"},
		{"invalid utf8", "<a>\xff</a>", "invalid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xmltok.Parse([]byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// FuzzParse: no panic, and every node's spans nest inside its parent's and
// inside the source.
func FuzzParse(f *testing.F) {
	for _, b := range sharedfixtures.Files(f, "dependency-files", ".xml", ".props") {
		f.Add(b)
	}
	f.Add([]byte("<a x='1'><b/><![CDATA[x]]><!-- c --></a>"))
	f.Fuzz(func(t *testing.T, src []byte) {
		doc, err := xmltok.Parse(src)
		if err != nil {
			return
		}
		var check func(n *xmltok.Node, lo, hi int)
		check = func(n *xmltok.Node, lo, hi int) {
			if n.Start < lo || n.End > hi || n.Start >= n.End {
				t.Fatalf("node %q [%d,%d) outside [%d,%d)", n.Name, n.Start, n.End, lo, hi)
			}
			if n.Kind == xmltok.Element {
				if n.StartTagEnd > n.EndTagStart || n.EndTagStart > n.End {
					t.Fatalf("element %q spans are out of order", n.Name)
				}
				for _, a := range n.Attrs {
					if a.ValueStart > a.ValueEnd || a.ValueEnd >= n.StartTagEnd {
						t.Fatalf("attribute %s of %q out of its tag", a.Name, n.Name)
					}
				}
				for c := range n.Children() {
					check(c, n.StartTagEnd, n.EndTagStart)
				}
				_ = doc.InnerText(n)
			}
		}
		for _, n := range doc.Nodes {
			check(n, 0, len(src))
		}
		want := dump(doc)
		doc.Release()
		again, err := xmltok.Parse(src)
		if err != nil {
			t.Fatalf("second parse after Release: %v", err)
		}
		if got := dump(again); got != want {
			t.Fatalf("parse into released memory differs:\n%s\nwant\n%s", got, want)
		}
		again.Release()
	})
}

// dump renders a document's tree: kinds, names, spans and attributes.
func dump(doc *xmltok.Document) string {
	var b strings.Builder
	var walk func(n *xmltok.Node, depth int)
	walk = func(n *xmltok.Node, depth int) {
		fmt.Fprintf(&b, "%*s%d %q [%d,%d) %v %d %d", 2*depth, "", n.Kind, n.Name, n.Start, n.End, n.SelfClosing, n.StartTagEnd, n.EndTagStart)
		for _, a := range n.Attrs {
			fmt.Fprintf(&b, " %s=%q@%d", a.Name, doc.AttrValue(&a), a.Start)
		}
		b.WriteByte('\n')
		for c := range n.Children() {
			if c.Parent != n {
				fmt.Fprintf(&b, "%*swrong parent\n", 2*depth, "")
			}
			walk(c, depth+1)
		}
	}
	for _, n := range doc.Nodes {
		walk(n, 0)
	}
	return b.String()
}

// TestRelease parses documents of different sizes into memory other
// documents released, and checks each tree against a parse into fresh memory
// and that strings read before Release stay valid.
func TestRelease(t *testing.T) {
	var big strings.Builder
	big.WriteString("<r>")
	for i := range 500 {
		fmt.Fprintf(&big, "<e a=\"%d\" b='x'>t%d<!--c--><f/></e>", i, i)
	}
	big.WriteString("</r>")
	srcs := []string{big.String(), "<a x='1'><b y=\"2\">t<c/></b></a>", big.String()[:len(big.String())-4] + "<z/></r>", "<?xml version=\"1.0\"?><p/>"}
	want := make([]string, len(srcs))
	for i, src := range srcs {
		doc, err := xmltok.Parse([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = dump(doc) // never released: fresh memory
	}
	type kept struct{ name, copy string }
	var names []kept
	for round := range 3 {
		for i, src := range srcs {
			doc, err := xmltok.Parse([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if got := dump(doc); got != want[i] {
				t.Fatalf("round %d, document %d:\n%s\nwant\n%s", round, i, got, want[i])
			}
			names = append(names, kept{doc.Root.Name, strings.Clone(doc.Root.Name)})
			doc.Release()
			doc.Release() // a second call does nothing
			if doc.Root != nil {
				t.Fatal("Release left the root reachable")
			}
		}
	}
	for _, k := range names {
		if k.name != k.copy {
			t.Errorf("root name %q after Release, want %q", k.name, k.copy)
		}
	}
}

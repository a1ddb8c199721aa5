package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fastSeeds exercise the corners of the fast scanner: what it must read like
// encoding/xml does, and what it must leave to encoding/xml.
var fastSeeds = []string{
	"",
	"   \n\t\r\n",
	`<Build PublishingVersion="3"/>`,
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Build PublishingVersion=\"3\" Commit=\"a\">\r\n  <Package Id=\"A\" Version=\"1.0.0\" NonShipping=\"true\" />\r\n</Build>\r\n",
	"<Build\n\tPublishingVersion = '4'\n\tName='x'Commit=\"y\"\n>\n<Blob Id='a/b.zip'/></Build >",
	"<!-- one --><!----><Build PublishingVersion=\"3\"><!-- two\nlines --><Package Id=\"A\" Version=\"1\"/></Build><!-- three -->",
	"<!-- bad -- comment --><Build PublishingVersion=\"3\"/>",
	"<!--- x ---><Build PublishingVersion=\"3\"/>",
	"<?xml version=\"1.1\"?><Build PublishingVersion=\"3\"/>",
	"<?xml version=\"1.0\" encoding=\"latin1\"?><Build PublishingVersion=\"3\"/>",
	"<?xml-stylesheet href=\"a\"?><Build PublishingVersion=\"3\"/><?pi?>",
	"<?xml?><Build PublishingVersion=\"3\"/>",
	"<??><Build PublishingVersion=\"3\"/>",
	"<Build PublishingVersion=\"3\"><Package Id=\"A\" Version=\"1\"></Build>",
	"<Build PublishingVersion=\"3\"><Package Id=\"A\" Version=\"1\"/></Build></Build>",
	"<Build PublishingVersion=\"3\"/><Build PublishingVersion=\"3\"/>",
	"<Build PublishingVersion=\"3\"/>x",
	"<Build PublishingVersion=\"3\">text</Build>",
	"<Build PublishingVersion=\"3\"><Package Id=\"A&amp;B\" Version=\"1\"/></Build>",
	"<Build PublishingVersion=\"3\"><Package Id=\"A\u00e9\" Version=\"1\"/></Build>",
	"<Build PublishingVersion=\"3\"><Package Id=\"A\x01\" Version=\"1\"/></Build>",
	"<Build PublishingVersion=\"3\"><Package Id=\"A<\" Version=\"1\"/></Build>",
	"<Build PublishingVersion=\"3\"><x:Package xmlns:x=\"u\" Id=\"A\" Version=\"1\"/></Build>",
	"<Build PublishingVersion=\"3\"><![CDATA[x]]></Build>",
	"<!DOCTYPE Build><Build PublishingVersion=\"3\"/>",
	"<Build PublishingVersion=\"3\"><Package Id=\"A\" Id=\"B\" Version=\"1\"/></Build>",
	"<Build PublishingVersion=\"3\"><Package Version=\"1\"/></Build>",
	"<Build PublishingVersion=\"3\">\n<Package Id=\"../x\" Version=\"1\"/></Build>",
	"<Build PublishingVersion=\"9\"/>",
	"<Build Name=\"a\"/>",
	"<Project/>",
	"<Build PublishingVersion=\"3\"><Package Id=\"A\" Version=\"1\"/",
	"<Build PublishingVersion=\"3\"><Package Id=\"A\" Version=\"1",
	"<Build PublishingVersion=\"3\">\n<Package Id=\"A\" Version=\"1\"/>\n",
	"<Build PublishingVersion=\"3\"></Build\n>",
	"<Build PublishingVersion=\"3\"></Build x>",
	"<Build PublishingVersion=\"3\" IsStable=\"maybe\"/>",
	"<Build PublishingVersion=\"3\" a/>",
	"<Build PublishingVersion=\"3\" 1a=\"x\"/>",
	"<1Build/>",
	"</Build>",
	"<",
	"<Build PublishingVersion=\"3\"><Blob Id=\"x.zip\" NonShipping=\"nope\"/></Build>",
}

func TestFastReadsArcadeManifests(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "builds", "*", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test manifests: %v", err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, ok := parseFast(string(data), f); !ok {
				t.Errorf("the fast scanner left %s to encoding/xml", f)
			}
		})
	}
}

func TestFastMatchesSlow(t *testing.T) {
	for _, s := range fastSeeds {
		t.Run(s, func(t *testing.T) {
			checkFastMatchesSlow(t, []byte(s))
		})
	}
}

// FuzzFastMatchesSlow checks that whatever the fast scanner reads, it reads as
// encoding/xml does: the same manifest, or the same error.
func FuzzFastMatchesSlow(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "builds", "*", "*.xml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkFastMatchesSlow)
}

func checkFastMatchesSlow(t *testing.T, data []byte) {
	fm, ferr, ok := parseFast(string(data), "f.xml")
	if !ok {
		return
	}
	sm, serr := parseSlow(string(data), "f.xml")
	switch {
	case (ferr == nil) != (serr == nil):
		t.Fatalf("fast scanner: %v; encoding/xml: %v", ferr, serr)
	case ferr != nil && ferr.Error() != serr.Error():
		t.Fatalf("fast scanner: %v\nencoding/xml: %v", ferr, serr)
	case !reflect.DeepEqual(fm, sm):
		t.Fatalf("fast scanner: %+v\nencoding/xml: %+v", fm, sm)
	}
}

// FuzzSplitMatchesSlow checks that reading a document in two halves side by
// side, wherever the split falls, gives what reading it in one go gives.
func FuzzSplitMatchesSlow(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "builds", "*", "*.xml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint16(len(data)/2))
	}
	for _, s := range fastSeeds {
		f.Add([]byte(s), uint16(len(s)/2))
	}
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		checkSplitMatchesWhole(t, string(data), int(at)%(len(data)+1))
	})
}

// TestSplitAtEveryTag splits test manifests at each of their tags.
func TestSplitAtEveryTag(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "builds", "*", "*.xml"))
	require.NotEmpty(t, files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		doc := string(data)
		for at := range len(doc) + 1 {
			if at == len(doc) || doc[at] == '<' {
				checkSplitMatchesWhole(t, doc, at)
			}
		}
	}
	// And a document long enough that parseFast splits it itself.
	var b strings.Builder
	b.WriteString(`<Build PublishingVersion="3" Name="r" Commit="c" BuildId="1" Branch="main">` + "\n")
	for i := range splitMin / 64 {
		fmt.Fprintf(&b, "  <Package Id=\"P%06d\" Version=\"1.0.%d\" NonShipping=\"%t\" />\n", i, i, i%2 == 0)
		if i%1000 == 0 {
			fmt.Fprintf(&b, "  <Blob Id=\"b/%d.zip\" />\n", i)
		}
	}
	b.WriteString("</Build>\n")
	doc := b.String()
	require.Greater(t, len(doc), splitMin)
	require.Greater(t, splitPoint(doc), 0)
	m, err, ok := parseFast(doc, "big.xml")
	require.True(t, ok)
	require.NoError(t, err)
	slow, err := parseSlow(doc, "big.xml")
	require.NoError(t, err)
	require.Equal(t, slow, m)
}

// TestSplitWhereCountsMiss splits manifests whose halves hold a
// "<Package " that is no package (in a comment), so the packages each half
// counted are not the packages it reads, at each of their tags: the halves
// must still join into what reading the whole gives.
func TestSplitWhereCountsMiss(t *testing.T) {
	pkg := func(i int) string { return fmt.Sprintf("  <Package Id=\"P%d\" Version=\"1.0.%d\" />\n", i, i) }
	comment := "  <!-- <Package Id=\"NotOne\" Version=\"1.0.0\" /> -->\n"
	for name, body := range map[string]string{
		"comment first":        comment + pkg(1) + pkg(2) + pkg(3) + pkg(4),
		"comment last":         pkg(1) + pkg(2) + pkg(3) + pkg(4) + comment,
		"comments both halves": comment + pkg(1) + pkg(2) + comment + pkg(3) + pkg(4) + comment,
		"only comments":        comment + comment,
	} {
		t.Run(name, func(t *testing.T) {
			doc := `<Build PublishingVersion="3" Name="r" Commit="c">` + "\n" + body + "</Build>\n"
			for at := range len(doc) + 1 {
				if at == len(doc) || doc[at] == '<' {
					checkSplitMatchesWhole(t, doc, at)
				}
			}
		})
	}
}

func checkSplitMatchesWhole(t *testing.T, doc string, at int) {
	t.Helper()
	s := newScanner(doc, "f.xml")
	werr, wok := s.run()
	sm, serr, sok := parseFastSplit(doc, "f.xml", at)
	require.Equal(t, wok, sok, "split at %d: ok", at)
	if !wok {
		return
	}
	if werr != nil || serr != nil {
		require.Error(t, werr, "split at %d: %v", at, serr)
		require.Error(t, serr, "split at %d", at)
		require.Equal(t, werr.Error(), serr.Error(), "split at %d", at)
		return
	}
	require.Equal(t, s.p.m, sm, "split at %d", at)
}

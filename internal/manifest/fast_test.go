package manifest

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
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

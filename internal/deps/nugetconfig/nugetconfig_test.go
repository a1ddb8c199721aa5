package nugetconfig_test

import (
	"bytes"
	"encoding/xml"
	"slices"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/internal/sharedfixtures"
	"github.com/maestroplusplus/maestro/internal/deps/nugetconfig"
	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
)

func TestParseFeed(t *testing.T) {
	tests := []struct {
		url, key string
		ok       bool
	}{
		{"https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-dotnet-02dfa783/nuget/v3/index.json", "darc-pub-dotnet-dotnet-02dfa78", true},
		{"https://pkgs.dev.azure.com/dnceng/internal/_packaging/darc-int-dotnet-runtime-2aade6be-5/nuget/v3/index.json", "darc-int-dotnet-runtime-2aade6b-5", true},
		{"https://dnceng.pkgs.visualstudio.com/public/_packaging/darc-pub-dotnet-arcade-services-fd8184c3fcde81eb27ca4c061c6e171f418d753f-1/nuget/v3/index.json", "darc-pub-dotnet-arcade-services-fd8184c-1", true},
		{"https://dotnet-feed-internal.azurewebsites.net/container/dotnet-core-internal/sig/abc/se/2020-02-02/darc-int-dotnet-arcade-services-babababababe-08/index.json", "darc-int-dotnet-arcade-services-bababab-08", true},
		{"https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-public/nuget/v3/index.json", "", false},
	}
	for _, tc := range tests {
		f, ok := nugetconfig.ParseFeed(tc.url)
		if ok != tc.ok || (ok && f.Key() != tc.key) {
			t.Errorf("ParseFeed(%s) = %q %v, want %q %v", tc.url, f.Key(), ok, tc.key, tc.ok)
		}
	}
}

var feeds = []nugetconfig.ManagedFeed{
	{URL: "https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-dotnet-runtime-aaaaaaaa/nuget/v3/index.json", Packages: []string{"Microsoft.NETCore.App.Ref", "Microsoft.NETCore.ILAsm"}},
	{URL: "https://pkgs.dev.azure.com/dnceng/internal/_packaging/darc-int-dotnet-aspnetcore-bbbbbbbb/nuget/v3/index.json", Packages: []string{"Microsoft.AspNetCore.App.Ref"}},
}

// mapping is <packageSourceMapping> read with encoding/xml, independently of
// the package's own tokenizer.
type mapping struct {
	Sections []struct {
		Sources []struct {
			Key      string `xml:"key,attr"`
			Packages []struct {
				Pattern string `xml:"pattern,attr"`
			} `xml:"package"`
		} `xml:"packageSource"`
	} `xml:"packageSourceMapping"`
}

// FuzzNuGetConfig: no panic; parse → write without changes is byte-identical;
// after setting the managed feeds the file re-parses and holds exactly them.
func FuzzNuGetConfig(f *testing.F) {
	for _, b := range sharedfixtures.Files(f, "maestro-updates", "NuGet.config") {
		f.Add(b)
	}
	f.Add([]byte("<configuration><packageSources/></configuration>"))
	f.Add([]byte("<configuration><packageSources/><packageSourceMapping/></configuration>"))
	f.Add([]byte("<configuration>\r\n\t<packageSources>\r\n\t\t<clear />\r\n\t</packageSources>\r\n\t<packageSourceMapping>\r\n\t\t<clear />\r\n\t\t<packageSource key=\"darc-int-dotnet-aspnetcore-bbbbbbb\">\r\n\t\t\t<package pattern=\"Old\" />\r\n\t\t</packageSource>\r\n\t\t<packageSource key=\"nuget.org\"><package pattern=\"*\" /></packageSource>\r\n\t</packageSourceMapping>\r\n</configuration>\r\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		n, err := nugetconfig.Parse("NuGet.config", src)
		if err != nil {
			return
		}
		out, err := n.Bytes()
		if err != nil || !bytes.Equal(out, src) {
			t.Fatalf("unchanged write differs (err %v)", err)
		}
		n.SetManagedFeeds(feeds)
		out, err = n.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		again, err := nugetconfig.Parse("NuGet.config", out)
		if err != nil {
			t.Fatalf("rewritten file does not parse: %v\n%s", err, out)
		}
		if !n.PackageSources() {
			return
		}
		got := again.ManagedFeeds()
		for _, want := range feeds {
			if !slices.Contains(got, want.URL) {
				t.Fatalf("feed %s missing after rewrite:\n%s", want.URL, out)
			}
		}
		// Setting the same feeds again leaves <packageSourceMapping> as it is.
		again.SetManagedFeeds(feeds)
		twice, err := again.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if a, b := mappingSection(t, out), mappingSection(t, twice); a != b {
			t.Fatalf("a second rewrite with the same feeds changed <packageSourceMapping>:\n%s\n---\n%s", a, b)
		}
		// Where the file maps packages to sources (and encoding/xml reads
		// it), every managed feed maps exactly its packages, once.
		var before, after mapping
		if xml.Unmarshal(src, &before) != nil || len(before.Sections) != 1 || xml.Unmarshal(out, &after) != nil {
			return
		}
		for _, want := range feeds {
			feed, _ := nugetconfig.ParseFeed(want.URL)
			var found [][]string
			for _, ps := range after.Sections[0].Sources {
				if ps.Key == feed.Key() {
					var patterns []string
					for _, p := range ps.Packages {
						patterns = append(patterns, p.Pattern)
					}
					found = append(found, patterns)
				}
			}
			if len(found) != 1 || !slices.Equal(found[0], want.Packages) {
				t.Fatalf("packageSourceMapping of %s is %q, want %q once:\n%s", feed.Key(), found, want.Packages, out)
			}
		}
	})
}

// mappingSection returns the bytes of <packageSourceMapping>, or "".
func mappingSection(t *testing.T, src []byte) string {
	doc, err := xmltok.Parse(src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if m := doc.Root.Child("packageSourceMapping"); m != nil {
		return string(src[m.Start:m.End])
	}
	return ""
}

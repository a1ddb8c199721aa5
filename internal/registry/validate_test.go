package registry_test

import (
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
)

func TestValidateFields(t *testing.T) {
	sha1 := strings.Repeat("a", 40)
	tests := []struct {
		name  string
		check func(string) error
		value string
		ok    bool
	}{
		{"commit sha-1", registry.ValidateCommit, sha1, true},
		{"commit sha-256 upper case", registry.ValidateCommit, strings.Repeat("AB", 32), true},
		{"commit short", registry.ValidateCommit, "abc123", false},
		{"commit with ..", registry.ValidateCommit, "../../x", false},
		{"commit with slash", registry.ValidateCommit, "abc/def" + strings.Repeat("0", 33), false},
		{"commit 41", registry.ValidateCommit, sha1 + "0", false},
		{"commit 300", registry.ValidateCommit, strings.Repeat("a", 300), false},
		{"commit newline", registry.ValidateCommit, sha1[:39] + "\n", false},
		{"commit not hex", registry.ValidateCommit, strings.Repeat("g", 40), false},
		{"branch main", registry.ValidateBranch, "main", true},
		{"branch release", registry.ValidateBranch, "release/10.0.1xx", true},
		{"branch empty", registry.ValidateBranch, "", false},
		{"branch newline", registry.ValidateBranch, "main\nx", false},
		{"branch space", registry.ValidateBranch, "my branch", false},
		{"branch escape", registry.ValidateBranch, "main\x1b[31m", false},
		{"branch ..", registry.ValidateBranch, "a..b", false},
		{"branch lock", registry.ValidateBranch, "a/b.lock", false},
		{"branch leading slash", registry.ValidateBranch, "/main", false},
		{"branch dot segment", registry.ValidateBranch, "a/.b", false},
		{"branch @{", registry.ValidateBranch, "a@{1}", false},
		{"branch too long", registry.ValidateBranch, strings.Repeat("b", 256), false},
		{"version", registry.ValidateVersion, "10.0.0-preview.1.25080.5+abc", true},
		{"version empty blob", registry.ValidateVersion, "", true},
		{"version newline", registry.ValidateVersion, "1.0.0\n", false},
		{"version spaces", registry.ValidateVersion, " 1.0.0 ", false},
		{"version letter first", registry.ValidateVersion, "v1.0.0", false},
		{"version slash", registry.ValidateVersion, "1.0/../x", false},
		{"name", registry.ValidateName, ".NET 10 — Release", true},
		{"name empty", registry.ValidateName, "", false},
		{"name escape", registry.ValidateName, "evil\x1b[2J", false},
		{"name C1 control", registry.ValidateName, "a\u0085b", false},
		{"name tab", registry.ValidateName, "a\tb", false},
		{"name not utf-8", registry.ValidateName, "a\xffb", false},
		{"name padded", registry.ValidateName, " a ", false},
		{"url", registry.ValidateURL, "https://github.com/dotnet/arcade", true},
		{"url space", registry.ValidateURL, "https://github.com/dotnet/not a repo", false},
		{"url newline", registry.ValidateURL, "https://github.com/dotnet/arcade\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.value)
			if (err == nil) != tt.ok {
				t.Fatalf("%q: err = %v, want ok=%v", tt.value, err, tt.ok)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\n\x1b\t") {
				t.Errorf("the error carries a control character: %q", err)
			}
		})
	}
}

func TestValidateBuild(t *testing.T) {
	good := func() maestro.Build {
		return maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "main", Commit: strings.Repeat("a", 40),
			Assets: []maestro.Asset{{Name: "A", Version: "1.0.0"}, {Name: "b/c.zip", Version: ""}}}
	}
	tests := []struct {
		name  string
		edit  func(b *maestro.Build)
		files []registry.FileUpload
		want  string // substring of the error; "" for no error
	}{
		{"good", func(*maestro.Build) {}, []registry.FileUpload{{AssetIndex: 1, Path: "/up/b/c.zip", Name: "blobs/b/c.zip"}}, ""},
		{"no repository", func(b *maestro.Build) { b.Repository = "" }, nil, "names no repository"},
		{"bad commit", func(b *maestro.Build) { b.Commit = "../../x" }, nil, "build commit"},
		{"bad branch", func(b *maestro.Build) { b.Branch = "main\nx" }, nil, "build branch"},
		{"bad version", func(b *maestro.Build) { b.Assets[0].Version = "1.0.0\n" }, nil, "asset A version"},
		{"bad asset name", func(b *maestro.Build) { b.Assets[0].Name = "A\x1b" }, nil, "asset name"},
		{"bad build number", func(b *maestro.Build) { b.AzureDevOpsBuildNumber = "1\n2" }, nil, "AzureDevOpsBuildNumber"},
		{"two versions", func(b *maestro.Build) { b.Assets = append(b.Assets, maestro.Asset{Name: "a", Version: "2.0.0"}) }, nil, "versions 1.0.0 and 2.0.0"},
		{"same version twice", func(b *maestro.Build) { b.Assets = append(b.Assets, maestro.Asset{Name: "a", Version: "1.0.0"}) }, nil, ""},
		{"two versions, non-ASCII", func(b *maestro.Build) {
			b.Assets = append(b.Assets, maestro.Asset{Name: "Café", Version: "1.0.0"}, maestro.Asset{Name: "CAFÉ", Version: "2.0.0"})
		}, nil, "versions 1.0.0 and 2.0.0"},
		{"two versions, Kelvin sign", func(b *maestro.Build) {
			b.Assets = append(b.Assets, maestro.Asset{Name: "k", Version: "1.0.0"}, maestro.Asset{Name: "\u212a", Version: "2.0.0"})
		}, nil, "versions 1.0.0 and 2.0.0"},
		{"asset name with a leading space", func(b *maestro.Build) { b.Assets[0].Name = " A" }, nil, "asset name"},
		{"asset name with a trailing space", func(b *maestro.Build) { b.Assets[0].Name = "A " }, nil, "asset name"},
		{"asset name with DEL", func(b *maestro.Build) { b.Assets[0].Name = "A\x7f" }, nil, "asset name"},
		{"asset name too long", func(b *maestro.Build) { b.Assets[0].Name = strings.Repeat("A", 257) }, nil, "asset name"},
		{"asset name not UTF-8", func(b *maestro.Build) { b.Assets[0].Name = "A\xff" }, nil, "asset name"},
		{"asset name with a non-breaking space at its end", func(b *maestro.Build) { b.Assets[0].Name = "A\u00a0" }, nil, "asset name"},
		{"no asset name", func(b *maestro.Build) { b.Assets[0].Name = "" }, nil, "has no name"},
		{"upload with a dot segment", func(*maestro.Build) {}, []registry.FileUpload{{AssetIndex: 1, Path: "/up/x/./y/f", Name: "blobs/x/./y/f"}}, "x/./y/f"},
		{"upload with an empty segment", func(*maestro.Build) {}, []registry.FileUpload{{AssetIndex: 1, Path: "/up/x//f", Name: "blobs/x//f"}}, "x//f"},
		{"upload of no asset", func(*maestro.Build) {}, []registry.FileUpload{{AssetIndex: 7, Path: "/up/f", Name: "blobs/f"}}, "names no asset"},
		{"dependency id", func(b *maestro.Build) { b.Dependencies = []maestro.BuildDependency{{BuildID: 0}} }, nil, "build dependency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := good()
			tt.edit(&b)
			err := registry.ValidateBuild(b, tt.files)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if maestro.KindOf(err) != maestro.KindInvalid {
				t.Errorf("kind %v, want KindInvalid", maestro.KindOf(err))
			}
		})
	}
}

// FuzzValidateBuild: whatever commit, branch, version and upload name a
// manifest carries, a build that passes validation makes only valid store
// keys and carries no control character into a stored text.
func FuzzValidateBuild(f *testing.F) {
	f.Add(strings.Repeat("a", 40), "main", "1.0.0", "x/y/f")
	f.Add("abc/def", "main\n", " 1.0.0", "x/./y/f")
	f.Add(strings.Repeat("0", 64), "release/1.0", "1.0.0-rc.1+meta", "a\\b")
	f.Fuzz(func(t *testing.T, commit, branch, version, file string) {
		b := maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: branch, Commit: commit,
			Assets: []maestro.Asset{{Name: "A", Version: version}}}
		err := registry.ValidateBuild(b, []registry.FileUpload{{AssetIndex: 0, Path: file, Name: "blobs/" + file}})
		if err != nil {
			if maestro.KindOf(err) != maestro.KindInvalid {
				t.Fatalf("kind %v: %v", maestro.KindOf(err), err)
			}
			return
		}
		for _, s := range []string{commit, branch, version} {
			for _, r := range s {
				if r < 0x20 || r == 0x7f || r == ' ' {
					t.Fatalf("%q accepted with a control character or space", s)
				}
			}
		}
		if strings.Contains(commit, "/") || strings.Contains("/"+file+"/", "/./") || strings.Contains("/"+file+"/", "/../") {
			t.Fatalf("accepted commit %q / file %q", commit, file)
		}
	})
}

// FuzzValidateAssetNames: the duplicate check and the name rules of
// ValidateBuild (which take a fast path for ASCII names) agree with
// ValidateName and strings.ToLower for any two names.
func FuzzValidateAssetNames(f *testing.F) {
	f.Add("Microsoft.NETCore.App", "microsoft.netcore.app")
	f.Add("Café", "CAFÉ")
	f.Add("k", "\u212a")
	f.Add(" A", "A\x7f")
	f.Add("A\xff", "a")
	f.Fuzz(func(t *testing.T, n1, n2 string) {
		b := maestro.Build{Repository: "https://github.com/dotnet/arcade", Branch: "main", Commit: strings.Repeat("a", 40),
			Assets: []maestro.Asset{{Name: n1, Version: "1.0.0"}, {Name: n2, Version: "2.0.0"}}}
		err := registry.ValidateBuild(b, nil)
		want := registry.ValidateName(n1) != nil || registry.ValidateName(n2) != nil || strings.ToLower(n1) == strings.ToLower(n2)
		if (err != nil) != want {
			t.Fatalf("names %q, %q: err = %v, want an error: %v", n1, n2, err, want)
		}
	})
}

package coherency_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/coherency"
	"github.com/maestroplusplus/maestro/internal/deps/coherency/memregistry"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func build(id int, repo, commit string, dependsOn []int, assets ...string) *maestro.Build {
	b := &maestro.Build{ID: id, Repository: repo, Commit: commit}
	for _, d := range dependsOn {
		b.Dependencies = append(b.Dependencies, maestro.BuildDependency{BuildID: d, IsProduct: true})
	}
	for _, a := range assets {
		name, version, _ := strings.Cut(a, "@")
		b.Assets = append(b.Assets, maestro.Asset{Name: name, Version: version, Locations: []maestro.AssetLocation{
			{Type: maestro.LocationNuGetFeed, Location: fmt.Sprintf("https://pkgs.dev.azure.com/dnceng/public/_packaging/darc-pub-%s-%s/nuget/v3/index.json", filepath.Base(repo), commit[:8])},
		}})
	}
	return b
}

const (
	sdkRepo     = "https://github.com/dotnet/sdk"
	runtimeRepo = "https://github.com/dotnet/runtime"
	aspRepo     = "https://github.com/dotnet/aspnetcore"
	efRepo      = "https://github.com/dotnet/efcore"
)

func sha(c byte) string { return strings.Repeat(string(c), 40) }

// registry: sdk build 30 depends on aspnetcore build 20 and runtime build 10;
// aspnetcore build 20 depends on runtime build 11 and efcore build 5.
func registry() *memregistry.Registry {
	return &memregistry.Registry{Builds: []*maestro.Build{
		build(5, efRepo, sha('e'), nil, "Microsoft.EntityFrameworkCore@9.0.2"),
		build(10, runtimeRepo, sha('1'), nil, "Microsoft.NETCore.App.Ref@9.0.1", "System.Text.Json@9.0.1"),
		build(11, runtimeRepo, sha('2'), nil, "Microsoft.NETCore.App.Ref@9.0.2", "System.Text.Json@9.0.2"),
		build(20, aspRepo, sha('a'), []int{11, 5}, "Microsoft.AspNetCore.App.Ref@9.0.2"),
		build(30, sdkRepo, sha('s'), []int{20, 10}, "Microsoft.NET.Sdk@9.0.200", "Microsoft.AspNetCore.App.Ref.Internal@9.0.200"),
		build(31, sdkRepo, sha('t'), nil, "Microsoft.NET.Sdk@9.0.201"),
	}}
}

func dep(name, version, repo, commit, parent string, pinned bool) coherency.Dependency {
	return coherency.Dependency{Name: name, Version: version, URI: repo, Sha: commit, CoherentParent: parent, Pinned: pinned}
}

func render(ups []coherency.Update, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	if len(ups) == 0 {
		b.WriteString("no updates\n")
	}
	for _, u := range ups {
		fmt.Fprintf(&b, "%s %s from %s @ %s (follows %s, build %d)\n  locations: %s\n", u.Name, u.Version, u.URI, u.Sha, u.Parent, u.BuildID, strings.Join(u.Locations, " "))
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("differs from %s (rerun with -update if intended):\ngot:\n%s\nwant:\n%s", p, got, want)
	}
}

func TestResolveGolden(t *testing.T) {
	sdk := dep("Microsoft.NET.Sdk", "9.0.200", sdkRepo, sha('s'), "", false)
	tests := []struct {
		name string
		deps []coherency.Dependency
	}{
		{
			// EF follows ASP.NET Core, which follows the SDK: ASP.NET Core is
			// resolved first, and EF then follows its new build.
			name: "chain",
			deps: []coherency.Dependency{
				dep("Microsoft.EntityFrameworkCore", "9.0.0", efRepo, sha('0'), "Microsoft.AspNetCore.App.Ref", false),
				dep("Microsoft.AspNetCore.App.Ref", "9.0.0", aspRepo, sha('0'), "Microsoft.NET.Sdk", false),
				dep("Microsoft.NETCore.App.Ref", "9.0.0", runtimeRepo, sha('0'), "Microsoft.NET.Sdk", false),
				sdk,
			},
		},
		{
			// ASP.NET Core is pinned: it stays, and EF follows its current build.
			name: "pinned-stops-walk",
			deps: []coherency.Dependency{
				dep("Microsoft.EntityFrameworkCore", "9.0.0", efRepo, sha('0'), "Microsoft.AspNetCore.App.Ref", false),
				dep("Microsoft.AspNetCore.App.Ref", "9.0.2", aspRepo, sha('a'), "Microsoft.NET.Sdk", true),
				sdk,
			},
		},
		{
			name: "already-coherent",
			deps: []coherency.Dependency{
				dep("Microsoft.NETCore.App.Ref", "9.0.1", runtimeRepo, sha('1'), "Microsoft.NET.Sdk", false),
				sdk,
			},
		},
		{
			// The SDK build did not depend on anything that produced EF.
			name: "missing-link",
			deps: []coherency.Dependency{
				dep("Microsoft.EntityFrameworkCore", "9.0.0", efRepo, sha('0'), "Microsoft.NET.Sdk", false),
				dep("System.Text.Json", "9.0.0", runtimeRepo, sha('0'), "Microsoft.NET.Sdk", false),
				sdk,
			},
		},
		{
			// The SDK build 31 recorded no dependencies: the whole chain under
			// it stops at the first link.
			name: "missing-link-stops-chain",
			deps: []coherency.Dependency{
				dep("Microsoft.EntityFrameworkCore", "9.0.0", efRepo, sha('0'), "Microsoft.AspNetCore.App.Ref", false),
				dep("Microsoft.AspNetCore.App.Ref", "9.0.0", aspRepo, sha('0'), "Microsoft.NET.Sdk", false),
				dep("Microsoft.NET.Sdk", "9.0.201", sdkRepo, sha('t'), "", false),
			},
		},
		{
			name: "no-parent-build",
			deps: []coherency.Dependency{
				dep("Microsoft.NETCore.App.Ref", "9.0.0", runtimeRepo, sha('0'), "Microsoft.NET.Sdk", false),
				dep("Microsoft.NET.Sdk", "9.0.999", sdkRepo, sha('9'), "", false),
			},
		},
		{
			name: "cycle",
			deps: []coherency.Dependency{
				dep("A", "1", runtimeRepo, sha('0'), "B", false),
				dep("B", "1", runtimeRepo, sha('0'), "A", false),
			},
		},
		{
			name: "unknown-parent",
			deps: []coherency.Dependency{dep("A", "1", runtimeRepo, sha('0'), "Nope", false)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ups, err := coherency.Resolve(context.Background(), registry(), tc.deps)
			if err != nil && maestro.KindOf(err) != maestro.KindInvalid {
				t.Errorf("error kind %v, want KindInvalid", maestro.KindOf(err))
			}
			golden(t, tc.name+".txt", render(ups, err))
		})
	}
}

func TestResolveErrorCarriesProblems(t *testing.T) {
	deps := []coherency.Dependency{
		dep("Microsoft.EntityFrameworkCore", "9.0.0", efRepo, sha('0'), "Microsoft.NET.Sdk", false),
		dep("Microsoft.NET.Sdk", "9.0.200", sdkRepo, sha('s'), "", false),
	}
	_, err := coherency.Resolve(context.Background(), registry(), deps)
	var ce *coherency.Error
	if !errors.As(err, &ce) || len(ce.Problems) != 1 {
		t.Fatalf("want one coherency problem, got %v", err)
	}
	p := ce.Problems[0]
	if p.Dependency != "Microsoft.EntityFrameworkCore" || p.Repository != sdkRepo || p.Commit != sha('s') || len(p.Fixes) != 3 {
		t.Errorf("problem %+v", p)
	}
}

type failingRegistry struct{ memregistry.Registry }

func (failingRegistry) AssetBuild(context.Context, string, string, string, string) (*maestro.Build, error) {
	return nil, errors.New("registry unavailable")
}

func TestResolveRegistryFailure(t *testing.T) {
	deps := []coherency.Dependency{
		dep("A", "1", runtimeRepo, sha('0'), "B", false),
		dep("B", "1", runtimeRepo, sha('0'), "", false),
	}
	_, err := coherency.Resolve(context.Background(), &failingRegistry{}, deps)
	if err == nil || !strings.Contains(err.Error(), "registry unavailable") {
		t.Fatalf("err = %v", err)
	}
}

package deps_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/deps/nugetconfig"
)

// publicFeed stands for an asset published to a feed the flow does not manage.
const publicFeed = "https://pkgs.dev.azure.com/dnceng/public/_packaging/dotnet-eng/nuget/v3/index.json"

// botNuGetCases are the oracle cases whose NuGet.config the bot changed (the
// others leave it alone or show a person's edit outside the managed block).
var botNuGetCases = []string{
	"sourcelink-2061478793", "sourcelink-259c0516f0", "sourcelink-486e83fee3", "sourcelink-4cc140fff9",
	"sourcelink-539fbb78b2", "sourcelink-7640eb547b", "sourcelink-ae4c02dfe1", "sourcelink-ef47386597",
	"sourcelink-efad4bb0e7", "templating-97b2b516a2", "templating-ba1c265157", "xharness-b90e24b9b3",
}

// withLocations gives each update of an oracle case the feeds the Build Asset
// Registry would have recorded for it — recovered from after/NuGet.config,
// whose managed feeds name the commit they hold — and restates, with their
// feeds, the dependencies the update left alone but whose feeds production
// (reading the registry) wrote.
func withLocations(t *testing.T, c oracleCase) deps.UpdateFile {
	t.Helper()
	after, err := os.ReadFile(filepath.Join(c.dir, "after", "NuGet.config"))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nugetconfig.Parse("NuGet.config", after)
	if err != nil {
		t.Fatal(err)
	}
	feeds := nc.ManagedFeeds()
	matching := func(sha string) []string {
		var out []string
		for _, f := range feeds {
			if p, ok := nugetconfig.ParseFeed(f); ok && strings.HasPrefix(strings.ToLower(sha), strings.ToLower(p.Sha)) {
				out = append(out, f)
			}
		}
		return out
	}
	u := c.update
	u.Updates = append([]deps.Update(nil), u.Updates...)
	updated := map[string]bool{}
	for i := range u.Updates {
		updated[strings.ToLower(u.Updates[i].Name)] = true
		u.Updates[i].Locations = matching(u.Updates[i].Sha)
		if len(u.Updates[i].Locations) == 0 {
			u.Updates[i].Locations = []string{publicFeed}
		}
	}
	l, err := deps.List(filepath.Join(c.dir, "before"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range l.Dependencies {
		if updated[strings.ToLower(d.Name)] || d.Sha == "" {
			continue
		}
		if locs := matching(d.Sha); len(locs) > 0 {
			u.Updates = append(u.Updates, deps.Update{Name: d.Name, Version: d.Version, Sha: d.Sha, URI: d.URI, Locations: locs})
		}
	}
	return u
}

// TestOracleNuGetConfig replays the oracle cases whose NuGet.config the bot
// changed, with the feeds of each update given as locations, and compares
// NuGet.config with the bot's byte for byte.
func TestOracleNuGetConfig(t *testing.T) {
	cases := map[string]oracleCase{}
	for _, c := range loadOracleCases(t) {
		cases[c.name] = c
	}
	for _, name := range botNuGetCases {
		c, ok := cases[name]
		if !ok {
			t.Fatalf("no oracle case %s", name)
		}
		t.Run(name, func(t *testing.T) {
			res, err := deps.ApplyUpdateFile(context.Background(), filepath.Join(c.dir, "before"), withLocations(t, c), deps.Options{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join(c.dir, "after", "NuGet.config"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(c.dir, "before", "NuGet.config"))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range res.Files {
				if f.Path == "NuGet.config" {
					got = f.New
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("NuGet.config differs from the bot's:\n%s", deps.UnifiedDiff("NuGet.config", want, got))
			}
		})
	}
}

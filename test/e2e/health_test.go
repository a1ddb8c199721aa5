package e2e_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/flow"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestFlowHealth seeds a registry and real repositories on the local
// platform with one of each problem health can see there, and checks that
// each is reported once, in table and JSON, with a non-zero exit.
func TestFlowHealth(t *testing.T) {
	e := newLocal(t)
	files := func(deps string) string {
		dir := t.TempDir()
		writeFile(t, dir, "eng/Version.Details.xml", "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ToolsetDependencies>\n"+deps+"  </ToolsetDependencies>\n</Dependencies>\n")
		writeFile(t, dir, "global.json", "{\n  \"msbuild-sdks\": {\n    \"Microsoft.DotNet.Arcade.Sdk\": \"9.0.0-beta.1\"\n  }\n}\n")
		return dir
	}
	dep := func(name, uri string) string {
		return fmt.Sprintf("    <Dependency Name=%q Version=\"9.0.0-beta.1\">\n      <Uri>%s</Uri>\n      <Sha>0000000000000000000000000000000000000001</Sha>\n    </Dependency>\n", name, uri)
	}
	target := bareRepoFrom(t, files(dep("Microsoft.DotNet.Arcade.Sdk", "https://github.com/dotnet/arcade")+dep("Microsoft.NET.Sdk", "https://github.com/dotnet/sdk")))
	cycA, cycB := bareRepoFrom(t, files("")), bareRepoFrom(t, files(""))
	missingTarget := filepath.Join(t.TempDir(), "gone.git")

	e.ok("channel", "add", "--name", "dev")
	add := func(source, target, freq string) maestro.Subscription {
		var s maestro.Subscription
		e.okJSON(&s, "subscription", "add", "--channel", "dev", "--source-repo", source, "--target-repo", target, "--target-branch", "main", "--update-frequency", freq)
		e.ok("default-channel", "add", "--repository", source, "--branch", "main", "--channel", "dev")
		return s
	}
	add("https://github.com/dotnet/arcade", target, "everyBuild")
	failing := add("https://github.com/dotnet/broken", missingTarget, "everyBuild")
	unused := add("https://github.com/dotnet/unused", target, "everyBuild")
	c1 := add("https://github.com/dotnet/c1", target, "everyBuild")
	c2 := add("https://github.com/dotnet/c2", target, "everyBuild")
	add(cycA, cycB, "none")
	add(cycB, cycA, "none")

	dir := t.TempDir()
	n := 0
	publish := func(repo, pkg string) {
		n++
		m := writeFile(t, dir, fmt.Sprintf("m%d.xml", n), manifestSpec{repo: repo, branch: "main", commit: sha(n), azdoBuildID: n,
			packages: []string{pkg + "@10.0.0-beta." + fmt.Sprint(n)}}.xml())
		e.ok("publish", "--manifest", m)
	}
	publish("https://github.com/dotnet/arcade", "Microsoft.DotNet.Arcade.Sdk")
	for range 3 {
		publish("https://github.com/dotnet/broken", "Broken.Pkg")
	}
	publish("https://github.com/dotnet/unused", "Unused.Pkg")
	publish("https://github.com/dotnet/unused", "Unused.Pkg")
	publish("https://github.com/dotnet/c1", "Shared.Pkg")
	publish("https://github.com/dotnet/c2", "Shared.Pkg")

	later := time.Now().UTC().Add(10 * 24 * time.Hour).Format(time.RFC3339)
	r := e.run("flow", "health", "--unused", "2", "--now", later)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "unhealthy: 7 problems")
	for _, want := range []string{
		"failing: " + missingTarget + "@main: the last 3 attempts failed",
		"unused-subscription: " + target + "@main: its last 2 builds changed nothing",
		"conflicting-subscriptions: " + target + "@main: 2 subscriptions bring shared.pkg",
		"missing-subscription: " + target + "@main: Microsoft.NET.Sdk (and any other dependency from https://github.com/dotnet/sdk)",
		"dependency-cycle: ",
		"stale-pull-request: ",
		"unreadable: " + missingTarget + "@main: could not read the dependencies",
	} {
		assert.Equal(t, 1, strings.Count(r.stdout, want), "%q in\n%s", want, r.stdout)
	}
	assert.Equal(t, 7, strings.Count(r.stdout, "\n"), r.stdout)

	var problems []flow.Problem
	r = e.run("flow", "health", "--unused", "2", "--now", later, "--output", "json")
	assert.Equal(t, 1, r.code)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &problems))
	kinds := map[string]int{}
	for _, p := range problems {
		kinds[p.Kind]++
		assert.NotEmpty(t, p.Action)
	}
	assert.Equal(t, map[string]int{"failing": 1, "unused-subscription": 1, "conflicting-subscriptions": 1, "missing-subscription": 1,
		"dependency-cycle": 1, "stale-pull-request": 1, "unreadable": 1}, kinds)
	for _, p := range problems {
		switch p.Kind {
		case "failing":
			assert.Equal(t, []string{failing.ID}, p.Subscriptions)
		case "unused-subscription":
			assert.Equal(t, []string{unused.ID}, p.Subscriptions)
		case "conflicting-subscriptions":
			assert.ElementsMatch(t, []string{c1.ID, c2.ID}, p.Subscriptions)
		}
	}

	// Not yet stale a day later; with the broken subscription gone, and fewer limits, fewer problems.
	e.ok("subscription", "delete", "--id", failing.ID)
	r = e.run("flow", "health", "--unused", "2")
	assert.Equal(t, 1, r.code)
	assert.NotContains(t, r.stdout, "stale-pull-request")
	assert.NotContains(t, r.stdout, "failing:")
	assert.NotContains(t, r.stdout, "unreadable")
}

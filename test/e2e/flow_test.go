package e2e_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

func TestFlowExplainReasons(t *testing.T) {
	e := newLocal(t)
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	add := func(target, freq string, extra ...string) maestro.Subscription {
		var s maestro.Subscription
		e.okJSON(&s, append([]string{"subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
			"--target-repo", target, "--target-branch", "main", "--update-frequency", freq}, extra...)...)
		return s
	}
	every := add("https://github.com/dotnet/runtime", "everyBuild")
	weekly := add("https://github.com/dotnet/sdk", "everyWeek")
	manual := add("https://github.com/dotnet/aspnetcore", "none")
	off := add("https://github.com/dotnet/efcore", "everyBuild", "--disabled")
	// A subscription to the Azure DevOps mirror of the same repository counts too.
	mirror := add("https://github.com/dotnet/winforms", "everyBuild")
	e.ok("subscription", "update", "--id", mirror.ID, "--source-repo", "https://dev.azure.com/dnceng/internal/_git/dotnet-arcade")

	dir := t.TempDir()
	m := writeFile(t, dir, "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(1), azdoBuildID: 1,
		packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.1"}}.xml())
	id := strings.TrimSpace(e.ok("publish", "--manifest", m))
	out := e.ok("flow", "explain", "--build", id)
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		for _, s := range []maestro.Subscription{every, weekly, manual, off, mirror} {
			if strings.Contains(l, s.ID) {
				lines[s.ID] = l
			}
		}
	}
	assert.Contains(t, lines[every.ID], "trigger — update frequency everyBuild")
	assert.Contains(t, lines[weekly.ID], "schedule — update frequency everyWeek: applied when the schedule is next due")
	assert.Contains(t, lines[manual.ID], "on-demand — update frequency none")
	assert.Contains(t, lines[off.ID], "skip — the subscription is disabled")
	assert.Contains(t, lines[mirror.ID], "trigger", "the Azure DevOps mirror of the build's repository")

	var ex struct {
		Channels []struct {
			Subscriptions []struct {
				Action string `json:"action"`
			} `json:"subscriptions"`
		} `json:"channels"`
	}
	e.okJSON(&ex, "flow", "explain", "--build", id)
	require.Len(t, ex.Channels, 1)
	assert.Len(t, ex.Channels[0].Subscriptions, 5)
}

// TestFlowExplainAssetReasons: explain reads the target branch and names, per
// dependency, why it would or would not move: excluded, pinned, updated.
func TestFlowExplainAssetReasons(t *testing.T) {
	e := newLocal(t)
	src := t.TempDir()
	writeFile(t, src, "eng/Version.Details.xml", `<?xml version="1.0" encoding="utf-8"?>
<Dependencies>
  <ProductDependencies>
  </ProductDependencies>
  <ToolsetDependencies>
    <Dependency Name="Microsoft.DotNet.Arcade.Sdk" Version="9.0.0-beta.1">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
    <Dependency Name="Microsoft.DotNet.Helix.Sdk" Version="9.0.0-beta.1" Pinned="true">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
    <Dependency Name="Microsoft.DotNet.SignTool" Version="9.0.0-beta.1">
      <Uri>https://github.com/dotnet/arcade</Uri>
      <Sha>0000000000000000000000000000000000000001</Sha>
    </Dependency>
  </ToolsetDependencies>
</Dependencies>
`)
	target := bareRepoFrom(t, src)
	e.ok("channel", "add", "--name", "dev")
	e.ok("default-channel", "add", "--repository", "https://github.com/dotnet/arcade", "--branch", "main", "--channel", "dev")
	var s maestro.Subscription
	e.okJSON(&s, "subscription", "add", "--channel", "dev", "--source-repo", "https://github.com/dotnet/arcade",
		"--target-repo", target, "--target-branch", "main", "--update-frequency", "everyWeek", "--excluded-asset", "Microsoft.DotNet.Sign*")
	dir := t.TempDir()
	m := writeFile(t, dir, "m.xml", manifestSpec{repo: "https://github.com/dotnet/arcade", branch: "main", commit: sha(2), azdoBuildID: 2,
		packages: []string{"Microsoft.DotNet.Arcade.Sdk@10.0.0-beta.2", "Microsoft.DotNet.Helix.Sdk@10.0.0-beta.2", "Microsoft.DotNet.SignTool@10.0.0-beta.2"}}.xml())
	id := strings.TrimSpace(e.ok("publish", "--manifest", m))
	out := e.ok("flow", "explain", "--build", id)
	for _, want := range []string{
		"schedule — update frequency everyWeek: applied when the schedule is next due",
		"Microsoft.DotNet.Arcade.Sdk 9.0.0-beta.1 → 10.0.0-beta.2: updated",
		"Microsoft.DotNet.Helix.Sdk 9.0.0-beta.1: pinned in eng/Version.Details.xml",
		"Microsoft.DotNet.SignTool 9.0.0-beta.1: excluded by the subscription",
	} {
		assert.Contains(t, out, want)
	}
}

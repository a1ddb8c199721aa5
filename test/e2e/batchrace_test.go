package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestConcurrentBatchedApplies: 8 separate maestro processes apply 8
// batchable subscriptions into one target branch at the same moment. Exactly
// one pull request opens, and it carries all 8 updates: none opened a second
// pull request, none dropped another's part.
func TestConcurrentBatchedApplies(t *testing.T) {
	const n = 8
	stores(t, func(t *testing.T, e *env) {
		var vdx strings.Builder
		vdx.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ProductDependencies>\n")
		for i := range n {
			fmt.Fprintf(&vdx, "    <Dependency Name=\"Pkg%d\" Version=\"1.0.0\">\n      <Uri>https://github.com/dotnet/src%d</Uri>\n      <Sha>%s</Sha>\n    </Dependency>\n", i, i, sha(1000+i))
		}
		vdx.WriteString("  </ProductDependencies>\n  <ToolsetDependencies>\n  </ToolsetDependencies>\n</Dependencies>\n")
		src := t.TempDir()
		writeFile(t, src, "eng/Version.Details.xml", vdx.String())
		target := bareRepoFrom(t, src)

		e.ok("channel", "add", "--name", "dev")
		dir := t.TempDir()
		subs := make([]maestro.Subscription, n)
		for i := range n {
			source := fmt.Sprintf("https://github.com/dotnet/src%d", i)
			e.ok("default-channel", "add", "--repository", source, "--branch", "main", "--channel", "dev")
			e.okJSON(&subs[i], "subscription", "add", "--channel", "dev", "--source-repo", source, "--target-repo", target,
				"--target-branch", "main", "--update-frequency", "none", "--batchable")
			e.ok("publish", "--manifest", writeFile(t, dir, fmt.Sprintf("m%d.xml", i), manifestSpec{repo: source, branch: "main",
				commit: sha(i + 1), azdoBuildID: i + 1, packages: []string{fmt.Sprintf("Pkg%d@2.0.%d", i, i)}}.xml()))
		}

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		type run struct {
			out, errOut bytes.Buffer
			err         error
		}
		runs := make([]*run, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			r := &run{}
			runs[i] = r
			cmd := e.command(ctx, "subscription", "apply", "--id", subs[i].ID, "--build", fmt.Sprint(i+1))
			cmd.Stdout, cmd.Stderr = &r.out, &r.errOut
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r.err = cmd.Run()
			}()
		}
		close(start)
		wg.Wait()
		for i, r := range runs {
			require.NoError(t, r.err, "process %d\nstdout: %s\nstderr: %s", i, r.out.String(), r.errOut.String())
			assert.Contains(t, r.out.String(), ": updated", "process %d", i)
		}

		var prs []maestro.PullRequest
		e.okJSON(&prs, "pr", "list", "--repository", target)
		require.Len(t, prs, 1, "one pull request for all 8")
		details := showFile(t, target, prs[0].HeadBranch, "eng/Version.Details.xml")
		for i, s := range subs {
			assert.Contains(t, details, fmt.Sprintf(`Name="Pkg%d" Version="2.0.%d"`, i, i))
			assert.Contains(t, prs[0].Body, "[marker]: <> (Begin:"+s.ID+")")
		}
		branches := gitOut(t, target, "for-each-ref", "--format=%(refname:short)", "refs/heads/")
		assert.ElementsMatch(t, []string{"main", prs[0].HeadBranch}, strings.Fields(branches), "no second branch")
	})
}

func gitOut(t *testing.T, repo string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).Output()
	require.NoError(t, err, "git %v", args)
	return string(out)
}

package policy_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
	"github.com/maestroplusplus/maestro/internal/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestMessagesGolden: what a person reads for each recorded pull request
// state, under Standard's host policies, kept in testdata/golden (go test
// -run TestMessagesGolden -update rewrites them).
func TestMessagesGolden(t *testing.T) {
	hosts := map[string]func(*testing.T, string) platform.Status{"github": githubStatus, "azdo": azdoStatus}
	policies := []maestro.MergePolicy{{Name: maestro.PolicyStandard, Properties: map[string]any{"ignoreChecks": []any{}}}}
	for host, read := range hosts {
		files, err := filepath.Glob(filepath.Join("testdata", host, "*.json"))
		require.NoError(t, err)
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".json")
			t.Run(host+"/"+name, func(t *testing.T) {
				res := policy.Evaluate(policies, policy.PullRequestState{Host: read(t, name), BotEmails: []string{bot}, BotLogins: []string{"dotnet-maestro[bot]"}})
				var b strings.Builder
				for _, r := range res.Policies {
					switch r.Name {
					case maestro.PolicyAllChecksSuccessful, maestro.PolicyNoRequestedChanges, maestro.PolicyNoExtraCommits:
					default:
						continue // they judge files and records, not the host's report
					}
					decisive := ""
					if r.Decisive {
						decisive = " (decisive)"
					}
					fmt.Fprintf(&b, "## %s: %s%s\n\n%s\n", r.Name, r.Outcome, decisive, r.Title)
					if r.Message != "" {
						fmt.Fprintf(&b, "\n%s\n", r.Message)
					}
					b.WriteString("\n")
				}
				golden := filepath.Join("testdata", "golden", host+"-"+name+".md")
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
					require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
				}
				want, err := os.ReadFile(golden)
				require.NoError(t, err, "run go test -run TestMessagesGolden -update")
				assert.Equal(t, string(want), b.String())
			})
		}
	}
}

package config_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/maestroplusplus/maestro/internal/config"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// FuzzParse checks that Parse never panics and fails only with Problems, and
// that whatever it accepts and NewPlan passes, an empty registry accepts too:
// validation must catch everything the registry would reject, before any
// write. A second plan must then be empty.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	more, err := filepath.Glob(filepath.Join("testdata", "plan", "*", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range append(seeds, more...) {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"{}",
		"channels: [{name: a}, {name: A}]",
		"channels: &a [{name: x}]\ndefaultChannels: *a",
		"channels:\n  - &c {name: a, classification: b}\n  - <<: *c\n    name: d\n",
		"subscriptions: [{channel: c, sourceRepository: /s, targetRepository: /t, targetBranch: b, mergePolicies: [{name: Standard, properties: {x: .nan}}]}]",
		"channels: [{name: c}]\nsubscriptions: [{id: x, channel: c, sourceRepository: file:///s, targetRepository: /t, targetBranch: refs/heads/, excludedAssets: ['']}]",
		"repositoryPolicies: [{repository: 'https://a/b', branch: m, mergePolicies: [{name: AllChecksSuccessful, properties: {a: {1: 2}}}]}]",
		"defaultChannels: [{repository: /r, branch: '-regex:(', channel: c}]",
		"repositoryPolicies: [{repository: /r, branch: m, autoMerge: false, mergeMethod: native}, {repository: /r, branch: n, mergeMethod: ''}]",
		"repositoryPolicies: [{repository: /r, branch: m, mergeMethod: Squash}]",
		"---\n---\n",
		"channels: !!binary aGVsbG8=",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := config.Parse("fuzz.yaml", data)
		if err != nil {
			var ps config.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Parse error %T %q is not Problems", err, err)
			}
			return
		}
		ctx := context.Background()
		reg := newRegistryOn(mem.New())
		st, err := config.Load(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		p, err := config.NewPlan(file, st, config.Options{Prune: true})
		if err != nil {
			var ps config.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("NewPlan error %T %q is not Problems", err, err)
			}
			return
		}
		if _, err := p.Apply(ctx, reg); err != nil {
			t.Fatalf("the registry rejected what validation passed: %v", err)
		}
		if st, err = config.Load(ctx, reg); err != nil {
			t.Fatal(err)
		}
		again, err := config.NewPlan(file, st, config.Options{Prune: true})
		if err != nil {
			t.Fatalf("second plan: %v", err)
		}
		if !again.Empty() {
			t.Fatalf("second plan is not empty: %d actions, first %c %s %s", len(again.Actions), again.Actions[0].Op, again.Actions[0].Kind, again.Actions[0].Subject)
		}
	})
}

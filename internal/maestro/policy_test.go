package maestro_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestEffectiveMergeMethod: a policy without a merge method (one written
// before the field existed) squash-merges; a recorded method is kept.
func TestEffectiveMergeMethod(t *testing.T) {
	for method, want := range map[string]string{
		"":                        maestro.MergeMethodSquash,
		maestro.MergeMethodSquash: maestro.MergeMethodSquash,
		maestro.MergeMethodNative: maestro.MergeMethodNative,
	} {
		assert.Equal(t, want, maestro.RepositoryBranchPolicy{MergeMethod: method}.EffectiveMergeMethod(), "MergeMethod %q", method)
	}
	assert.Equal(t, []string{"squash", "native"}, maestro.MergeMethods)
}

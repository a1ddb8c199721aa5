package mirror_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// TestOnTarget: a commit is on a target branch when it is the head or an
// ancestor of it: an older commit of a fastForward branch, a source commit
// an internalMerge merged into internal/main. A commit only the source
// has, and any commit of a branch the target lacks, are not; a target that
// cannot be read is an error.
func TestOnTarget(t *testing.T) {
	w := newWorld(t)
	one := w.commit(w.source, "main", "", map[string]string{"a.txt": "1\n"}, "one")
	two := w.commit(w.source, "main", one, map[string]string{"a.txt": "2\n"}, "two")
	_, err := w.run(maestro.MirrorFastForward)
	require.NoError(t, err)
	three := w.commit(w.source, "main", two, map[string]string{"a.txt": "3\n"}, "three")

	own := w.commit(w.target, "internal/main", two, map[string]string{"internal.txt": "x\n"}, "internal only")
	_, err = w.run(maestro.MirrorInternalMerge)
	require.NoError(t, err)
	merge := w.head(w.target, "internal/main")
	require.NotEqual(t, three, merge, "a merge commit, not the source head")
	four := w.commit(w.source, "main", three, map[string]string{"a.txt": "4\n"}, "four")

	target := "file://" + w.target
	tests := []struct {
		name, branch, commit string
		want                 bool
	}{
		{"the head", "main", two, true},
		{"older than the head", "main", one, true},
		{"only in the source", "main", three, false},
		{"merged into internal/main", "internal/main", three, true},
		{"the internal commit", "internal/main", own, true},
		{"not merged yet", "internal/main", four, false},
		{"a branch the target lacks", "release/1.0", one, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			on, err := w.m.OnTarget(w.ctx, target, tt.branch, tt.commit)
			require.NoError(t, err)
			assert.Equal(t, tt.want, on)
		})
	}

	_, err = w.m.OnTarget(w.ctx, "file://"+filepath.Join(t.TempDir(), "gone.git"), "main", one)
	assert.ErrorContains(t, err, "read branch main of file://")
	_, err = w.m.OnTarget(w.ctx, target, "--main", one)
	assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
}

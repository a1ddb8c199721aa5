package local

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenAppendNamesTheFoldersToFlush: creating an object names its
// folder and the parent of every folder it created, whose entries changed;
// appending to an existing object names none.
func TestOpenAppendNamesTheFoldersToFlush(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "a", "b", "c", "object")
	f, changed, err := openAppend(path, 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Equal(t, []string{filepath.Join(root, "a", "b", "c"), filepath.Join(root, "a", "b"), filepath.Join(root, "a"), root}, changed)

	f, changed, err = openAppend(filepath.Join(root, "a", "b", "c", "second"), 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Equal(t, []string{filepath.Join(root, "a", "b", "c")}, changed, "a new object in an existing folder")

	f, changed, err = openAppend(path, 0)
	require.NoError(t, err, "an existing empty object at 0")
	require.NoError(t, f.Close())
	assert.Empty(t, changed)
}

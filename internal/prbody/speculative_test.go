package prbody_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/prbody"
)

func TestWithSpeculative(t *testing.T) {
	const root, mid = "https://github.com/dotnet/arcade/pull/1", "https://github.com/dotnet/runtime/pull/2"
	body := "[marker]: <> (Begin:sub-1)\n## From arcade\n[marker]: <> (End:sub-1)\n"
	mark := &maestro.SpeculativeMark{Parent: mid, Chain: []string{root, mid}}
	got := prbody.WithSpeculative(body, mark)
	assert.True(t, strings.HasPrefix(got, "[marker]: <> (Begin:speculative)\n## Speculative\n"), got)
	assert.Contains(t, got, "speculative** build of pull request "+mid)
	assert.Contains(t, got, "1. "+root+"\n2. "+mid+"\n3. this pull request\n")
	assert.True(t, strings.HasSuffix(got, body), "the subscription's section stays")
	assert.Equal(t, got, prbody.WithSpeculative(got, mark), "set once, in place")
	assert.Equal(t, body, prbody.WithSpeculative(got, &maestro.SpeculativeMark{Parent: mid, Chain: mark.Chain, Moved: true}), "moved: removed")
	assert.Equal(t, body, prbody.WithSpeculative(got, nil))

	assert.Equal(t, "[speculative] [main] Update", prbody.SpeculativeTitle("[main] Update"))
	assert.Equal(t, "[speculative] [main] Update", prbody.SpeculativeTitle("[speculative] [main] Update"))
}

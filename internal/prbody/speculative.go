package prbody

import (
	"fmt"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// SpeculativePrefix starts the title of a speculative pull request.
const SpeculativePrefix = "[speculative] "

// SpeculativeLabel is the label a speculative pull request carries where
// the host has labels (GitHub).
const SpeculativeLabel = "speculative"

// speculativeID is the marker id of a body's speculative section.
const speculativeID = "speculative"

// SpeculativeTitle is title with the speculative prefix, once.
func SpeculativeTitle(title string) string {
	return SpeculativePrefix + strings.TrimPrefix(title, SpeculativePrefix)
}

// WithSpeculative returns body with its speculative section — first in the
// body, between markers — set to the one of mark, or removed when mark is
// nil or moved. The section links the parent pull request and names the
// chain from the root down to this pull request.
func WithSpeculative(body string, mark *maestro.SpeculativeMark) string {
	out := sectionRE.ReplaceAllStringFunc(body, func(m string) string {
		if sectionRE.FindStringSubmatch(m)[1] == speculativeID {
			return ""
		}
		return m
	})
	out = strings.TrimLeft(out, "\n")
	if mark == nil || mark.Moved {
		return out
	}
	var sb strings.Builder
	sb.WriteString(beginMarker(speculativeID) + "\n")
	sb.WriteString("## Speculative\n\n")
	fmt.Fprintf(&sb, "This pull request takes a **speculative** build of pull request %s, which has not merged. "+
		"It cannot merge before every pull request above it has merged (merge policy %s); "+
		"when its parent merges, it moves to the mainline build of the merged commit, "+
		"and when an ancestor closes without merging, it is closed.\n\n", mark.Parent, maestro.PolicySpeculativeParentsMerged)
	sb.WriteString("Chain, from the root:\n")
	for i, u := range mark.Chain {
		fmt.Fprintf(&sb, "%d. %s\n", i+1, u)
	}
	fmt.Fprintf(&sb, "%d. this pull request\n", len(mark.Chain)+1)
	sb.WriteString(endMarker(speculativeID) + "\n")
	if out != "" {
		sb.WriteString("\n")
	}
	return sb.String() + out
}

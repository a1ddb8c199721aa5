package registry

import (
	"regexp"
	"strings"
	"testing"
)

// The rules ValidateEventID and validEventSource check, as the regular
// expressions they replaced: the oracle of FuzzEventIDs.
var (
	eventIDRule     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,99}$`)
	eventSourceRule = regexp.MustCompile(`^[a-z0-9]{1,20}$`)
)

func FuzzEventIDs(f *testing.F) {
	for _, s := range []string{"", "a", "-", "-a", "a-", "A-9", "github", "azdo", "Github", "a_b", "a b", "é", "a\x00",
		"72d3162e-cc78-11e3-81ab-4c9367dc0958", strings.Repeat("a", 20), strings.Repeat("a", 21),
		strings.Repeat("a", 100), strings.Repeat("a", 101), "a" + strings.Repeat("-", 99), "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidateEventID(s) == nil, eventIDRule.MatchString(s); got != want {
			t.Errorf("ValidateEventID(%q) accepts: %v, the rule: %v", s, got, want)
		}
		if got, want := validEventSource(s), eventSourceRule.MatchString(s); got != want {
			t.Errorf("validEventSource(%q): %v, the rule: %v", s, got, want)
		}
	})
}

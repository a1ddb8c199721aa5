package semver_test

import (
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/semver"
)

func TestNewer(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"10.0.100", "10.0.100-rc.2.25502.107", true},
		{"10.0.100-rc.2.25502.107", "10.0.100", false},
		{"11.0.100-alpha.1.26064.118", "11.0.100-alpha.1.25618.104", true},
		{"9.0.100-alpha.1.9", "9.0.100-alpha.1.10", false},
		{"9.0.100-beta", "9.0.100-alpha.1", true},
		{"9.0.100-alpha.1", "9.0.100-alpha", true},
		{"10.0.101", "10.0.100+build", true},
		{"3.0.100-preview6-012264", "3.0.100-preview5-011568", true},
		{"5.0.100", "5.0.100", false},
		{"not a version", "1.0.0", true},
	}
	for _, tc := range tests {
		if got := semver.Newer(tc.a, tc.b); got != tc.want {
			t.Errorf("Newer(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

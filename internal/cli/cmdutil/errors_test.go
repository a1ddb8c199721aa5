package cmdutil_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/httptimeout"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

func TestReportError(t *testing.T) {
	agent := func(k string) string {
		if k == "TF_BUILD" {
			return "True"
		}
		return ""
	}
	none := func(string) string { return "" }
	cases := []struct {
		name   string
		err    error
		getenv func(string) string
		want   string
	}{
		{"one line", errors.New("channel 7 does not exist"), none, "maestro: channel 7 does not exist\n"},
		{"problem list", maestro.Errorf(maestro.KindInvalid, "eng/Version.Details.xml is not coherent:\n  A 1.0 needs B 2.0\n  C 3.0 needs D 4.0\n"), none,
			"maestro: eng/Version.Details.xml is not coherent:\n  A 1.0 needs B 2.0\n  C 3.0 needs D 4.0\n"},
		{"CRLF and blank lines", errors.New("two problems:\r\nfirst\r\n\r\nsecond"), none, "maestro: two problems:\n  first\n  second\n"},
		{"agent", errors.New("bad:\nx 100%"), agent, "##vso[task.logissue type=error]bad:%0Ax 100%AZP25\nmaestro: bad:\n  x 100%\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			cmdutil.ReportError(&b, c.err, c.getenv)
			if b.String() != c.want {
				t.Fatalf("ReportError printed\n%q\nwant\n%q", b.String(), c.want)
			}
		})
	}
}

// TestExitCodeOfASilentHost: a host that did not answer in time
// (MAESTRO_HTTP_TIMEOUT) is a service that could not be reached: exit 5.
func TestExitCodeOfASilentHost(t *testing.T) {
	err := fmt.Errorf("pull request 1: %w", &httptimeout.Error{Method: "GET", Host: "github.example", After: time.Minute})
	if got := cmdutil.ExitCode(err); got != cmdutil.ExitUnavailable {
		t.Errorf("ExitCode(%v) = %d, want %d", err, got, cmdutil.ExitUnavailable)
	}
	if got := cmdutil.ExitCode(errors.New("other")); got != cmdutil.ExitFailure {
		t.Errorf("ExitCode(other) = %d, want %d", got, cmdutil.ExitFailure)
	}
}

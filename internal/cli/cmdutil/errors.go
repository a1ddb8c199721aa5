package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/maestroplusplus/maestro/internal/httptimeout"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Exit codes of the maestro binary.
const (
	ExitOK          = 0
	ExitFailure     = 1 // an internal or unclassified error
	ExitInvalid     = 2 // bad input: flags, files, fields
	ExitNotFound    = 3
	ExitConflict    = 4
	ExitUnavailable = 5 // a remote service could not be reached
)

// UsageErrorf returns an invalid-input error about the command line.
func UsageErrorf(format string, args ...any) error {
	return maestro.Errorf(maestro.KindInvalid, format, args...)
}

// ExitCode maps an error to the binary's exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	switch maestro.KindOf(err) {
	case maestro.KindInvalid:
		return ExitInvalid
	case maestro.KindNotFound:
		return ExitNotFound
	case maestro.KindConflict:
		return ExitConflict
	case maestro.KindUnavailable:
		return ExitUnavailable
	}
	if errors.As(err, new(*httptimeout.Error)) {
		return ExitUnavailable // a host did not answer in time
	}
	return ExitFailure
}

// ReportError prints err on w: "maestro: " and its first line, then each
// further line of a multi-line message (a list of problems) indented on a
// line of its own. Under an Azure Pipelines agent (TF_BUILD=True) it is also
// one ##vso[task.logissue] line, its lines escaped, so that it shows in the
// run summary.
func ReportError(w io.Writer, err error, getenv func(string) string) {
	msg := strings.TrimRight(strings.ReplaceAll(err.Error(), "\r\n", "\n"), "\n")
	if IsAgent(getenv) {
		fmt.Fprintf(w, "##vso[task.logissue type=error]%s\n", EscapeLogData(msg))
	}
	first, rest, _ := strings.Cut(msg, "\n")
	fmt.Fprintf(w, "maestro: %s\n", first)
	for _, line := range strings.Split(rest, "\n") {
		if line != "" {
			fmt.Fprintf(w, "  %s\n", strings.TrimLeft(line, " \t"))
		}
	}
}

// Warn prints a warning the same way ReportError prints an error.
func Warn(w io.Writer, msg string, getenv func(string) string) {
	if IsAgent(getenv) {
		fmt.Fprintf(w, "##vso[task.logissue type=warning]%s\n", EscapeLogData(msg))
	}
	fmt.Fprintf(w, "maestro: warning: %s\n", msg)
}

// Progress reports done of total under an agent as a ##vso[task.setprogress] line.
func Progress(w io.Writer, getenv func(string) string, what string, done, total int) {
	if !IsAgent(getenv) || total == 0 {
		return
	}
	fmt.Fprintf(w, "##vso[task.setprogress value=%d;]%s\n", done*100/total, EscapeLogData(what))
}

// IsAgent reports whether the process runs inside an Azure Pipelines job.
func IsAgent(getenv func(string) string) bool {
	return strings.EqualFold(getenv("TF_BUILD"), "true")
}

// EscapeLogData escapes the message of a ##vso logging command as the agent
// expects (properties would also need ";" and "]" escaped; messages do not).
func EscapeLogData(s string) string {
	return strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// Package fileerr builds the errors the dependency-file parsers return for bad
// input: kind maestro.KindInvalid, with a message that names the file and line
// ("eng/Version.Details.xml:12: ...") and says what to do.
package fileerr

import (
	"errors"
	"fmt"

	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// At returns an invalid-input error located at path:line. A line of 0 names
// only the file.
func At(path string, line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if line > 0 {
		return maestro.Errorf(maestro.KindInvalid, "%s:%d: %s", path, line, msg)
	}
	return maestro.Errorf(maestro.KindInvalid, "%s: %s", path, msg)
}

// XML turns an xmltok error into an invalid-input error naming path.
func XML(path string, err error) error {
	var se *xmltok.SyntaxError
	if errors.As(err, &se) {
		return maestro.Errorf(maestro.KindInvalid, "%s:%d:%d: malformed XML: %s; fix the file and try again", path, se.Line, se.Col, se.Msg)
	}
	return maestro.Errorf(maestro.KindInvalid, "%s: malformed XML: %w", path, err)
}

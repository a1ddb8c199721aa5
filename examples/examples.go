// Package examples ships sample inputs with the binary: the seed files of the
// three repositories `maestro demo` creates (repos/widgets, repos/gadgets,
// repos/app). Files are text/template templates; {{.Widgets}} and
// {{.WidgetsSha}} (and the same for Gadgets) are the upstream repository and
// its commit.
package examples

import "embed"

// Repos holds repos/<name>/... for each demo repository.
//
//go:embed repos
var Repos embed.FS

// Package examples ships sample inputs with the binary: the asset manifests
// of one build of a sample repository, which `maestro demo` publishes.
package examples

import "embed"

// Manifests holds manifests/*.xml: two jobs of one official build of
// https://github.com/contoso/widgets.
//
//go:embed manifests/*.xml
var Manifests embed.FS

// Package deps reads and edits a repository's dependency files the way the
// production Maestro bot does, byte for byte: eng/Version.Details.xml,
// eng/Versions.props, eng/Version.Details.props, global.json, NuGet.config,
// .config/dotnet-tools.json and eng/common. It is the library behind
// `maestro deps list|verify|add|update`:
//
//   - ApplyUpdateFile applies an UpdateFile (docs/update-file.md), optionally
//     followed by the coherency pass; UpdateCoherency runs that pass alone.
//   - List, Verify and Add back `deps list`, `deps verify` and `deps add`.
//
// Every edit is spliced into the original bytes (see the xmltok, jsonedit and
// splice packages): nothing outside the values that change is rewritten.
// Changes are computed in full before anything is written, and written all
// or none. Bad input is a maestro.KindInvalid error naming the file and line.
//
// One sub-package per file format (versiondetails, props, globaljson,
// dotnettools, nugetconfig, engcommon), plus coherency for the strict
// coherency algorithm over a small registry interface.
package deps

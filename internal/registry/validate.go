package registry

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Every text a user gives becomes part of a key, a document or a table row.
// The checks here run before the first write of a command, so bad input is
// refused (maestro.KindInvalid, exit 2) with the field named and nothing in
// the store changed. Keys are derived with a placeholder build id and checked
// against the store's key rules, so a value that would only fail inside a
// backend fails here first.

// Limits on the length of stored texts.
const (
	maxNameLen    = 256  // channel names, classifications, asset names
	maxVersionLen = 256  // asset versions
	maxBranchLen  = 255  // git refs are limited by file names
	maxTextLen    = 1024 // build numbers, Azure DevOps fields
)

// ValidateCommit checks a commit id: 40 (SHA-1) or 64 (SHA-256) hexadecimal
// digits.
func ValidateCommit(commit string) error {
	if len(commit) != 40 && len(commit) != 64 {
		return fmt.Errorf("%s: must be 40 or 64 hexadecimal digits (a full git commit id), not %d characters", quoteField(commit), len(commit))
	}
	for i := 0; i < len(commit); i++ {
		c := commit[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return fmt.Errorf("%s: must be 40 or 64 hexadecimal digits (a full git commit id)", quoteField(commit))
		}
	}
	return nil
}

// ValidateBranch checks a branch name (without refs/heads/) by git's rules
// for ref names (git check-ref-format): no control characters, spaces or
// ~^:?*[\ characters, no "..", "@{" or "//", no segment starting with "." or
// ending with ".lock", and not starting or ending with "/".
func ValidateBranch(branch string) error {
	if branch == "" {
		return fmt.Errorf("is empty")
	}
	if len(branch) > maxBranchLen {
		return fmt.Errorf("%s: longer than %d bytes", quoteField(branch), maxBranchLen)
	}
	if !utf8.ValidString(branch) {
		return fmt.Errorf("%s: not UTF-8", quoteField(branch))
	}
	for _, r := range branch {
		if unicode.IsControl(r) || unicode.IsSpace(r) || strings.ContainsRune(`~^:?*[\`, r) {
			return fmt.Errorf("%s: a branch name has no spaces, control characters or any of ~^:?*[\\", quoteField(branch))
		}
	}
	switch {
	case strings.Contains(branch, ".."), strings.Contains(branch, "@{"), strings.Contains(branch, "//"),
		strings.HasPrefix(branch, "/"), strings.HasSuffix(branch, "/"), strings.HasSuffix(branch, "."), branch == "@":
		return fmt.Errorf("%s: not a valid git branch name (see git check-ref-format)", quoteField(branch))
	}
	for seg := range strings.SplitSeq(branch, "/") {
		if strings.HasPrefix(seg, ".") || strings.HasSuffix(seg, ".lock") {
			return fmt.Errorf("%s: not a valid git branch name (see git check-ref-format)", quoteField(branch))
		}
	}
	return nil
}

// ValidateVersion checks an asset version: NuGet/SemVer text, that is ASCII
// letters, digits, '.', '-' and '+', starting with a digit. An empty version
// is allowed (a blob whose path names none).
func ValidateVersion(version string) error {
	if version == "" {
		return nil
	}
	if len(version) > maxVersionLen {
		return fmt.Errorf("%s: longer than %d bytes", quoteField(version), maxVersionLen)
	}
	if version[0] < '0' || version[0] > '9' {
		return fmt.Errorf("%s: a version starts with a digit (NuGet/SemVer, e.g. 10.0.0-preview.1.25)", quoteField(version))
	}
	for i := 0; i < len(version); i++ {
		c := version[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '-' || c == '+') {
			return fmt.Errorf("%s: a version holds only letters, digits, '.', '-' and '+' (NuGet/SemVer), no spaces or control characters", quoteField(version))
		}
	}
	return nil
}

// ValidateName checks a name shown in tables (a channel name, a
// classification, an asset name): not empty, no surrounding spaces, no
// control characters (a terminal escape or a line break would break the
// table), valid UTF-8, at most 256 bytes.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("is empty")
	}
	return validateText(name, maxNameLen)
}

// validateText checks free text that is stored and printed: valid UTF-8, no
// control characters, no surrounding spaces, at most limit bytes.
func validateText(s string, limit int) error {
	if len(s) > limit {
		return fmt.Errorf("%s: longer than %d bytes", quoteField(s), limit)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s: not UTF-8", quoteField(s))
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%s: has spaces at its start or end", quoteField(s))
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%s: contains a control character", quoteField(s))
		}
	}
	return nil
}

// ValidateURL checks a repository URL: what repourl accepts (which refuses
// and redacts user info), and no whitespace or control characters anywhere
// in it. Errors show the URL only through redact.String.
func ValidateURL(raw string) error {
	for _, r := range raw {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("%s: a URL has no spaces or control characters", quoteField(redact.String(raw)))
		}
	}
	if err := repourl.Validate(raw); err != nil {
		return fmt.Errorf("%s: %v", quoteField(redact.String(raw)), err)
	}
	return nil
}

// ValidateMirrorURL is ValidateURL for the repositories of a mirror, which
// are printed by every mirror command and kept in its history: a URL
// (not a local path) with a query or a fragment is refused too, since a
// repository URL needs neither and a query may carry a token
// (?access_token=...).
func ValidateMirrorURL(raw string) error {
	if err := ValidateURL(raw); err != nil {
		return err
	}
	if strings.HasPrefix(strings.TrimSpace(raw), "/") {
		return nil
	}
	if u, err := url.Parse(strings.TrimSpace(raw)); err == nil && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "") {
		// Neither is repeated: either may be the secret.
		shown := u.Scheme + "://" + u.Host + u.EscapedPath() + "?…"
		return fmt.Errorf("%s: remove the query (?...) and fragment (#...) from the repository URL; credentials come from the environment", quoteField(shown))
	}
	return nil
}

// quoteField quotes a bad value for an error message, escaping control
// characters and cutting it short.
func quoteField(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// invalid returns a KindInvalid error naming field and what to do.
func invalid(field string, err error, hint string) error {
	sep := " " // `field "value": why`
	if msg := err.Error(); msg == "" || msg[0] != '"' {
		sep = ": " // `field: why`
	}
	if hint != "" {
		return maestro.Errorf(maestro.KindInvalid, "%s%s%v; %s", field, sep, err, hint)
	}
	return maestro.Errorf(maestro.KindInvalid, "%s%s%v", field, sep, err)
}

// ValidateBuild checks everything a publish of b with files will write, before
// anything is: the repository URL, commit, branch, Azure DevOps fields,
// asset names and versions, the names of uploaded files, and every store key
// derived from them. b.Branch is expected without refs/heads/.
func ValidateBuild(b maestro.Build, files []FileUpload) error {
	_, err := validateBuild(b, files)
	return err
}

// validateBuild is ValidateBuild that also returns the distinct names of
// the build's assets lower-cased, in the order of the assets, which it
// computes anyway (publish indexes them).
func validateBuild(b maestro.Build, files []FileUpload) (lowered []string, _ error) {
	if strings.TrimSpace(b.Repository) == "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "the build names no repository: set AzureDevOpsRepository in the manifest, BUILD_REPOSITORY_URI or --repository")
	}
	if err := ValidateURL(b.Repository); err != nil {
		return nil, invalid("build repository", err, "set AzureDevOpsRepository in the manifest, BUILD_REPOSITORY_URI or --repository")
	}
	if b.Commit == "" {
		return nil, maestro.Errorf(maestro.KindInvalid, "build commit is empty: set Commit in the manifest, BUILD_SOURCEVERSION or --commit")
	}
	if err := ValidateCommit(b.Commit); err != nil {
		return nil, invalid("build commit", err, "set Commit in the manifest, BUILD_SOURCEVERSION or --commit")
	}
	if b.Branch != "" {
		if err := ValidateBranch(b.Branch); err != nil {
			return nil, invalid("build branch", err, "set Branch in the manifest, BUILD_SOURCEBRANCH or --branch")
		}
	}
	for _, f := range []struct{ name, value string }{
		{"AzureDevOpsAccount", b.AzureDevOpsAccount},
		{"AzureDevOpsProject", b.AzureDevOpsProject},
		{"AzureDevOpsBuildNumber", b.AzureDevOpsBuildNumber},
		{"AzureDevOpsRepository", b.AzureDevOpsRepository},
		{"AzureDevOpsBranch", b.AzureDevOpsBranch},
		{"GitHubRepository", b.GitHubRepository},
		{"GitHubBranch", b.GitHubBranch},
	} {
		if f.value == "" {
			continue
		}
		if err := validateText(f.value, maxTextLen); err != nil {
			return nil, invalid("build "+f.name, err, "")
		}
	}
	if b.AzureDevOpsBuildID < 0 || b.AzureDevOpsBuildDefinitionID < 0 {
		return nil, maestro.Errorf(maestro.KindInvalid, "build AzureDevOpsBuildId %d / AzureDevOpsBuildDefinitionId %d: must not be negative", b.AzureDevOpsBuildID, b.AzureDevOpsBuildDefinitionID)
	}
	if len(b.Assets) >= maxAssetsPerBuild {
		return nil, maestro.Errorf(maestro.KindInvalid, "build has %d assets; at most %d are supported", len(b.Assets), maxAssetsPerBuild-1)
	}
	lowered, err := validateAssets(b.Assets)
	if err != nil {
		return nil, err
	}
	for _, d := range b.Dependencies {
		if d.BuildID <= 0 {
			return nil, maestro.Errorf(maestro.KindInvalid, "build dependency %d: a build id is a positive number", d.BuildID)
		}
	}
	// Every key the publish writes, with a placeholder id; the id only
	// changes digits, never whether a key is valid. The claim key of a build
	// without Azure DevOps ids is a fixed prefix and a hex digest, so the
	// digest of no assets stands for it (hashing every asset name here
	// would only cost time).
	const placeholder = 1
	claimShape := b
	if !hasAzDO(b) {
		claimShape.Assets = nil
	}
	keys := []string{
		buildKey(placeholder), assetsDocKey(placeholder, assetTails{}), buildStateKey(placeholder),
		listHeadKey(repoListPrefix(b.Repository)), claimKey(claimShape),
		commitSetKey(b.Repository, b.Commit),
		repoAssetsKey(b.Repository),
	}
	for _, k := range keys {
		if err := store.ValidateKey(k); err != nil {
			return nil, maestro.Errorf(maestro.KindInvalid, "build %s: makes the store key %q, which is not valid: %v", b.Repository, k, err)
		}
	}
	for _, f := range files {
		if f.AssetIndex < 0 || f.AssetIndex >= len(b.Assets) {
			return nil, maestro.Errorf(maestro.KindInvalid, "upload %s: names no asset of the build", f.Path)
		}
		k := buildFilesPrefix(placeholder) + f.Name
		if err := store.ValidateKey(k); err != nil {
			return nil, maestro.Errorf(maestro.KindInvalid, "upload %s: the name %q is not a valid store key (no empty, \".\" or \"..\" path segments, no control characters or backslashes): %v", f.Path, f.Name, err)
		}
	}
	return lowered, nil
}

// validateAssets checks the assets' names and versions and that no name is
// listed (case-insensitively) with two versions, and returns the distinct
// names lower-cased, in asset order. Publishing 20,000 assets
// runs it twice (before the store is opened and inside PublishBuild), so the
// common case — ASCII names — takes a path without per-asset allocations:
// every lower-cased name is written into one string and the duplicate check
// keys on slices of it.
func validateAssets(assets []maestro.Asset) ([]string, error) {
	total := 0
	for _, a := range assets {
		total += len(a.Name)
	}
	lower := make([]byte, 0, total)
	ends := make([]int, len(assets))
	for i, a := range assets {
		if a.Name == "" {
			return nil, maestro.Errorf(maestro.KindInvalid, "an asset of version %q has no name", a.Version)
		}
		var ok bool
		if lower, ok = appendLowerPrintableASCII(lower, a.Name); !ok {
			if err := ValidateName(a.Name); err != nil {
				return nil, invalid("asset name", err, "")
			}
			lower = append(lower, strings.ToLower(a.Name)...)
		}
		ends[i] = len(lower)
		if err := ValidateVersion(a.Version); err != nil {
			return nil, invalid("asset "+a.Name+" version", err, "")
		}
	}
	// lower is not written again, so the keys may share its bytes.
	keys := unsafe.String(unsafe.SliceData(lower), len(lower))
	seen := make(map[string]int32, len(assets)) // lower-cased name → first asset with it
	distinct := make([]string, 0, len(assets))
	start := 0
	for i, a := range assets {
		k := keys[start:ends[i]]
		start = ends[i]
		if j, ok := seen[k]; ok {
			if v := assets[j].Version; v != a.Version {
				return nil, maestro.Errorf(maestro.KindInvalid, "asset %s is listed with versions %s and %s", a.Name, v, a.Version)
			}
			continue
		}
		seen[k] = int32(i)
		distinct = append(distinct, k)
	}
	return distinct, nil
}

// appendLowerPrintableASCII appends name lower-cased to buf and reports true
// if name is a valid name made of printable ASCII only (what ValidateName
// accepts, decided without decoding runes); otherwise it returns buf as it
// was and false, and the caller checks name the general way.
func appendLowerPrintableASCII(buf []byte, name string) ([]byte, bool) {
	if len(name) == 0 || len(name) > maxNameLen || name[0] == ' ' || name[len(name)-1] == ' ' {
		return buf, false
	}
	start := len(buf)
	buf = append(buf, name...)
	for i := start; i < len(buf); i++ {
		c := buf[i]
		if c < 0x20 || c > 0x7e {
			return buf[:start], false
		}
		buf[i] = asciiLower[c]
	}
	return buf, true
}

// asciiLower maps each byte to itself, A-Z to a-z.
var asciiLower = func() (t [256]byte) {
	for c := range 256 {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			t[c] = byte(c + 'a' - 'A')
		}
	}
	return t
}()

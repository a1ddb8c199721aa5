package mirror

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// DefaultTarget is the Azure Repos repository a source is mirrored into
// when none is named: {organization}/{project}/_git/{owner}-{repo} in the
// organization and project of the mirror pipeline, as dnceng names its
// mirrors (https://github.com/dotnet/runtime →
// https://dev.azure.com/dnceng/internal/_git/dotnet-runtime). The source is
// read normalized (repourl.Normalize: GitHub paths lower-cased, no .git), so
// every spelling of one repository gives one target.
func DefaultTarget(source string, pipeline maestro.UpdatePipeline) (string, error) {
	u, err := url.Parse(repourl.Normalize(strings.TrimSpace(source)))
	parts := []string{}
	if err == nil {
		parts = strings.Split(strings.Trim(u.Path, "/"), "/")
	}
	if err != nil || u.Host == "" || len(parts) < 2 || parts[len(parts)-2] == "" || parts[len(parts)-1] == "" {
		return "", maestro.Errorf(maestro.KindInvalid, "source %q: not a repository URL like https://github.com/OWNER/REPO; name the target", source)
	}
	owner, repo := parts[len(parts)-2], strings.TrimSuffix(parts[len(parts)-1], ".git")
	if pipeline.Organization == "" || pipeline.Project == "" {
		return "", maestro.Errorf(maestro.KindInvalid, "source %s: name the target, or a mirror pipeline whose organization and project it lives in", source)
	}
	return fmt.Sprintf("%s/%s/_git/%s-%s", strings.TrimSuffix(pipeline.Organization, "/"), url.PathEscape(pipeline.Project), owner, repo), nil
}

// ParseBranch reads a branch pattern as the command line and files write
// it, PATTERN or PATTERN=MODE (the last = separates them; fastForward when
// no mode is given).
func ParseBranch(s string) (maestro.MirrorBranch, error) {
	b := maestro.MirrorBranch{Pattern: s, Mode: maestro.MirrorFastForward}
	if i := strings.LastIndex(s, "="); i >= 0 {
		mode, err := maestro.ParseMirrorMode(s[i+1:])
		if err != nil {
			return b, maestro.Errorf(maestro.KindInvalid, "branch %q: %v (write PATTERN=MODE)", s, err)
		}
		b.Pattern, b.Mode = s[:i], mode
	}
	return b, nil
}

package policy

import (
	"fmt"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps/semver"
	"github.com/maestroplusplus/maestro/internal/deps/versiondetails"
)

func dontAutomergeDowngrades(s *eval) PolicyResult {
	if r, ok := unrecorded(s); !ok {
		return r
	}
	var bad []string
	for _, u := range s.Updates {
		for _, d := range u.Dependencies {
			to, ok := semver.Parse(d.ToVersion)
			if !ok {
				bad = append(bad, fmt.Sprintf("- %s: %s → %s, which is not a SemVer version", d.Name, d.FromVersion, d.ToVersion))
				continue
			}
			from, ok := semver.Parse(d.FromVersion)
			if ok && semver.Compare(to, from) < 0 {
				bad = append(bad, fmt.Sprintf("- %s: %s → %s, a downgrade", d.Name, d.FromVersion, d.ToVersion))
			}
		}
	}
	if len(bad) > 0 {
		return failDecisively("Downgrade or non-SemVer version",
			fmt.Sprintf("This pull request moves dependencies to versions that cannot be merged automatically:\n%s\n\nIf this is intended, review and merge it by hand; otherwise close it, and check the channel the subscription follows.", strings.Join(bad, "\n")))
	}
	return succeed("No downgrades", "")
}

// unrecorded fails when an update's record carries no dependency versions
// (written before they were kept): the next update of the pull request
// records them.
func unrecorded(s *eval) (PolicyResult, bool) {
	if len(s.Updates) == 0 {
		return failTransiently("No updates recorded", "The record of this pull request lists no dependency updates; the next update of the pull request records them."), false
	}
	for _, u := range s.Updates {
		if u.Dependencies == nil {
			return failTransiently("Dependency versions not recorded",
				fmt.Sprintf("The record of subscription %s's update (build %d) carries no dependency versions: it was written by an older Maestro++. The next update of this pull request records them.", u.SubscriptionID, u.BuildID)), false
		}
	}
	return PolicyResult{}, true
}

func noNewerUpdateMerged(s *eval) PolicyResult {
	if r, ok := unrecorded(s); !ok {
		return r
	}
	if s.Target == nil {
		return failTransiently("Target branch not read", "The target branch's "+VersionDetailsXMLPath+" was not read; the next evaluation tries again.")
	}
	src, ok := s.Target[VersionDetailsXMLPath]
	if !ok {
		return succeed("No newer update merged", "The target branch has no "+VersionDetailsXMLPath+".")
	}
	f, err := versiondetails.Parse(VersionDetailsXMLPath, src)
	if err != nil {
		return failTransiently("Target branch's "+VersionDetailsXMLPath+" is invalid",
			fmt.Sprintf("The target branch's %s does not parse (%v); fix it there.", VersionDetailsXMLPath, err))
	}
	defer f.Release()
	var newer []string
	for _, u := range s.Updates {
		for _, d := range u.Dependencies {
			cur, ok := f.Find(d.Name)
			if !ok || strings.EqualFold(cur.Version, d.FromVersion) {
				continue
			}
			if strings.EqualFold(cur.Version, d.ToVersion) || atLeast(cur.Version, d.ToVersion) {
				newer = append(newer, fmt.Sprintf("- %s: the target has %s; this pull request brings %s", d.Name, cur.Version, d.ToVersion))
			}
		}
	}
	if len(newer) > 0 {
		return failDecisively("Newer update already merged",
			fmt.Sprintf("The target branch already has the same or a newer version of dependencies this pull request updates:\n%s\n\nClose this pull request; the next build that flows opens a fresh one.", strings.Join(newer, "\n")))
	}
	return succeed("No newer update merged", "")
}

// atLeast reports whether SemVer version a is the same as or newer than b;
// false when either does not parse.
func atLeast(a, b string) bool {
	va, okA := semver.Parse(a)
	vb, okB := semver.Parse(b)
	return okA && okB && semver.Compare(va, vb) >= 0
}

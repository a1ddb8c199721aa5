// Package prbody writes the text of dependency-update commits and pull
// requests in the production bot's style: the commit message, the title, and
// a body with one section per subscription between markers, so that a later
// update rewrites its own section in place and leaves the others alone.
package prbody

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// MaxTitle is the length past which a title names the number of source
// repositories instead of listing them.
const MaxTitle = 150

// CommitMessage is the message of the commit that applies a build's update.
func CommitMessage(b maestro.Build, changes []deps.Change) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Update dependencies from %s build %s\n", b.Repository, buildNumber(b))
	for _, c := range changes {
		fmt.Fprintf(&sb, "\n%s\n From Version %s -> To Version %s", c.Name, c.FromVersion, c.ToVersion)
		if c.CoherentParent != "" {
			fmt.Fprintf(&sb, " (parent: %s)", c.CoherentParent)
		}
	}
	sb.WriteString("\n")
	return sb.String()
}

// Title is "[branch] Update dependencies from owner/repo"; several source
// repositories are listed sorted, or counted when the list is too long.
func Title(targetBranch string, sources []string) string {
	names := make([]string, 0, len(sources))
	for _, s := range sources {
		names = append(names, shortName(s))
	}
	slices.Sort(names)
	names = slices.Compact(names)
	t := fmt.Sprintf("[%s] Update dependencies from %s", targetBranch, strings.Join(names, ", "))
	if len(t) > MaxTitle {
		t = fmt.Sprintf("[%s] Update dependencies from %d repositories", targetBranch, len(names))
	}
	return t
}

// shortName is owner/repo for GitHub and the repository name for Azure Repos.
func shortName(repo string) string {
	if owner, name, ok := repourl.GitHubOwnerRepo(repo); ok {
		return owner + "/" + name
	}
	n := repourl.Normalize(repo)
	return n[strings.LastIndexByte(n, '/')+1:]
}

// Section is one subscription's part of a body.
type Section struct {
	SubscriptionID string
	Build          maestro.Build
	Changes        []deps.Change
}

func beginMarker(id string) string { return "[marker]: <> (Begin:" + id + ")" }
func endMarker(id string) string   { return "[marker]: <> (End:" + id + ")" }

// Render writes one section, markers included.
func (s Section) Render() string {
	b := s.Build
	var sb strings.Builder
	sb.WriteString(beginMarker(s.SubscriptionID) + "\n")
	fmt.Fprintf(&sb, "## From %s\n", b.Repository)
	fmt.Fprintf(&sb, "- **Subscription**: %s\n", s.SubscriptionID)
	fmt.Fprintf(&sb, "- **Build**: %s (BAR build %d)\n", buildNumber(b), b.ID)
	fmt.Fprintf(&sb, "- **Date Produced**: %s\n", b.DateProduced.UTC().Format("January 2, 2006 3:04:05 PM UTC"))
	fmt.Fprintf(&sb, "- **Commit**: %s\n", b.Commit)
	fmt.Fprintf(&sb, "- **Branch**: %s\n", b.Branch)
	var direct, coherent []deps.Change
	for _, c := range s.Changes {
		if c.CoherentParent != "" {
			coherent = append(coherent, c)
		} else {
			direct = append(direct, c)
		}
	}
	writeGroups(&sb, "Updates", direct, b.Repository)
	if len(coherent) > 0 {
		sb.WriteString("\n## Coherency Updates\n\nThe following updates ensure that dependencies with a *CoherentParentDependency* attribute were produced in a build used as input to the parent dependency's build.\n")
		writeGroups(&sb, "Coherency Updates", coherent, "")
	}
	sb.WriteString(endMarker(s.SubscriptionID) + "\n")
	return sb.String()
}

// writeGroups lists changes grouped "From old to new", with compare links.
func writeGroups(sb *strings.Builder, title string, changes []deps.Change, repo string) {
	if len(changes) == 0 {
		return
	}
	type group struct {
		from, to, fromSha, toSha, uri string
		names                         []string
	}
	var groups []*group
	for _, c := range changes {
		i := slices.IndexFunc(groups, func(g *group) bool { return g.from == c.FromVersion && g.to == c.ToVersion })
		if i < 0 {
			groups = append(groups, &group{from: c.FromVersion, to: c.ToVersion, fromSha: c.FromSha, toSha: c.ToSha, uri: c.ToURI})
			i = len(groups) - 1
		}
		groups[i].names = append(groups[i].names, c.Name)
	}
	fmt.Fprintf(sb, "\n- **%s**:\n", title)
	for _, g := range groups {
		link := compareLink(g.uri, g.fromSha, g.toSha)
		if link != "" {
			fmt.Fprintf(sb, "  - From [%s to %s](%s)\n", g.from, g.to, link)
		} else {
			fmt.Fprintf(sb, "  - From %s to %s\n", g.from, g.to)
		}
		for _, n := range g.names {
			fmt.Fprintf(sb, "     - %s\n", n)
		}
	}
	sb.WriteString("\n")
}

// compareLink links the commits of a GitHub or Azure Repos repository.
func compareLink(repo, from, to string) string {
	if repo == "" || from == "" || to == "" || from == to {
		return ""
	}
	if _, _, ok := repourl.GitHubOwnerRepo(repo); ok {
		return fmt.Sprintf("%s/compare/%s...%s", repourl.Normalize(repo), from, to)
	}
	if strings.HasPrefix(repourl.Normalize(repo), "https://dev.azure.com/") {
		return fmt.Sprintf("%s/branches?baseVersion=GC%s&targetVersion=GC%s&_a=files", repourl.Normalize(repo), from, to)
	}
	return ""
}

var sectionRE = regexp.MustCompile(`(?s)\[marker\]: <> \(Begin:([^)]+)\)\n.*?\[marker\]: <> \(End:([^)]+)\)\n?`)

// Merge returns body with the section of s replaced, or appended when the
// body has none for its subscription. Text outside the markers is kept.
func Merge(body string, s Section) string {
	rendered := s.Render()
	replaced := false
	out := sectionRE.ReplaceAllStringFunc(body, func(m string) string {
		id := sectionRE.FindStringSubmatch(m)[1]
		if id != s.SubscriptionID {
			return m
		}
		replaced = true
		return rendered
	})
	if replaced {
		return out
	}
	if out != "" && !strings.HasSuffix(out, "\n\n") {
		out = strings.TrimRight(out, "\n") + "\n\n"
	}
	return out + rendered
}

func buildNumber(b maestro.Build) string {
	if b.AzureDevOpsBuildNumber != "" {
		return b.AzureDevOpsBuildNumber
	}
	return fmt.Sprint(b.ID)
}

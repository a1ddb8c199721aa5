package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
)

func allChecksSuccessful(p maestro.MergePolicy, s *eval) PolicyResult {
	ignore, err := stringList(p, ignoreChecksProperty)
	if err != nil {
		return failDecisively("Invalid merge policy properties", err.Error()+". Fix the merge policy.")
	}
	var failed, waiting []string
	counted := 0
	for _, c := range s.Host.Checks {
		if platform.IsPolicyCheck(c.Name) || ignored(ignore, c) {
			continue
		}
		counted++
		line := "- " + c.Name
		if c.URL != "" {
			line += ": " + c.URL
		}
		switch c.State {
		case maestro.CheckSuccess:
		case maestro.CheckFailure:
			failed = append(failed, line)
		default:
			waiting = append(waiting, line)
		}
	}
	head := shortSHA(s.Host.HeadCommit)
	switch {
	case len(failed) > 0:
		return failTransiently(fmt.Sprintf("%d check%s failed", len(failed), plural(len(failed))),
			fmt.Sprintf("These checks on %s failed:\n%s\n\nFix the cause and re-run them, or push a fix; when they pass, the pull request can merge.", head, strings.Join(failed, "\n")))
	case counted == 0:
		return pending("Waiting for checks", fmt.Sprintf("No checks have reported on %s yet.", head))
	case len(waiting) > 0:
		return pending(fmt.Sprintf("Waiting for %d check%s", len(waiting), plural(len(waiting))),
			fmt.Sprintf("These checks on %s have not finished:\n%s", head, strings.Join(waiting, "\n")))
	}
	return succeed(fmt.Sprintf("%d check%s succeeded", counted, plural(counted)), "")
}

// ignored reports whether ignoreChecks names c, by its name or one of its
// other names, case-insensitively.
func ignored(ignore []string, c maestro.Check) bool {
	return slices.ContainsFunc(ignore, func(n string) bool {
		return strings.EqualFold(n, c.Name) || slices.ContainsFunc(c.AltNames, func(a string) bool { return strings.EqualFold(n, a) })
	})
}

func noRequestedChanges(s *eval) PolicyResult {
	latest := map[string]platform.Review{}
	var order []string
	for _, r := range s.Host.Reviews {
		if r.State == platform.ReviewCommented {
			// A comment does not replace a reviewer's approval or request.
			continue
		}
		if _, ok := latest[r.Reviewer]; !ok {
			order = append(order, r.Reviewer)
		}
		latest[r.Reviewer] = r
	}
	var asking []string
	for _, who := range order {
		if r := latest[who]; r.State == platform.ReviewChangesRequested {
			line := "- " + who
			if r.URL != "" {
				line += ": " + r.URL
			}
			asking = append(asking, line)
		}
	}
	if len(asking) > 0 {
		return failTransiently("Changes requested",
			fmt.Sprintf("These reviewers requested changes:\n%s\n\nAddress them and ask for a new review (or have the review dismissed, or the vote reset).", strings.Join(asking, "\n")))
	}
	return succeed("No changes requested", "")
}

func noExtraCommits(s *eval) PolicyResult {
	if len(s.Host.Commits) == 0 {
		return pending("Waiting for the commits", "The host reported no commits on this pull request yet.")
	}
	if len(s.BotEmails) == 0 && len(s.BotLogins) == 0 {
		return failTransiently("Bot identity unknown",
			"Maestro++ does not know which commits are its own, so it cannot tell whether anyone else pushed to this branch. Configure the git author email the updater commits with.")
	}
	var others []string
	for _, c := range s.Host.Commits {
		if bot(s, c) {
			continue
		}
		who := c.AuthorName
		if c.AuthorEmail != "" {
			who += " <" + c.AuthorEmail + ">"
		}
		if c.AuthorLogin != "" {
			who += " (@" + c.AuthorLogin + ")"
		}
		others = append(others, fmt.Sprintf("- %s by %s", shortSHA(c.SHA), strings.TrimSpace(who)))
	}
	if len(others) > 0 {
		return failDecisively("Commits by others",
			fmt.Sprintf("These commits were not made by Maestro++:\n%s\n\nA person who adds commits merges the pull request: review it and merge it by hand, or remove the commits.", strings.Join(others, "\n")))
	}
	return succeed("Only Maestro++ commits", "")
}

func bot(s *eval, c platform.Commit) bool {
	for _, e := range s.BotEmails {
		if c.AuthorEmail != "" && strings.EqualFold(e, c.AuthorEmail) {
			return true
		}
	}
	for _, l := range s.BotLogins {
		if c.AuthorLogin != "" && strings.EqualFold(l, c.AuthorLogin) {
			return true
		}
	}
	return false
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

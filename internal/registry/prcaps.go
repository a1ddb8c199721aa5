package registry

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// The caps of a repository policy (MaxOpenPullRequests,
// MaxNewPullRequestsPerHour) are kept with one document per target branch,
// flow/prcaps/{repo}/{branch}.json: the pull requests the flow opened into
// the branch in the last hour, each with its tracking key and time. An
// update that would open a pull request first reserves a slot there
// (ReservePullRequest), one compare-and-swap write that reads the tracked
// records of the branch inside it, so two updates that reserve at once are
// counted against each other: the loser of the write reads again and sees
// the winner's slot. A slot younger than reservationHold counts as an open
// pull request even before its record is tracked (the reserving update
// tracks it within the lock's lifetime). A crash after the reservation
// leaves a slot that only counts against the hourly cap, for at most an
// hour: the caps err on the side of opening fewer pull requests, never more.

// reservationHold is how long a reserved slot counts as open without a
// tracked record: longer than an update holds its pull request's lock.
const reservationHold = 15 * time.Minute

func prCapsKey(repo, branch string) string {
	return fmt.Sprintf("flow/prcaps/%s/%s.json", repourl.Key(repo), url.PathEscape(branch))
}

type prCapsDoc struct {
	Opened []openedSlot `json:"opened"`
}

type openedSlot struct {
	Key  string    `json:"key"`
	Time time.Time `json:"time"`
}

// CapError is returned (wrapped) by ReservePullRequest when a cap is
// reached. Until is when the hourly cap frees a slot (zero for the open cap,
// which frees when a pull request merges or closes).
type CapError struct {
	Msg   string
	Until time.Time
}

func (e *CapError) Error() string { return e.Msg }

// ValidatePullRequestCaps checks the caps of a repository policy.
func ValidatePullRequestCaps(p maestro.RepositoryBranchPolicy) error {
	if p.MaxOpenPullRequests < 0 {
		return maestro.Errorf(maestro.KindInvalid, "repository policy %s@%s: maxOpenPullRequests is %d; use 0 (no cap) or more", p.Repository, p.Branch, p.MaxOpenPullRequests)
	}
	if p.MaxNewPullRequestsPerHour < 0 {
		return maestro.Errorf(maestro.KindInvalid, "repository policy %s@%s: maxNewPullRequestsPerHour is %d; use 0 (no cap) or more", p.Repository, p.Branch, p.MaxNewPullRequestsPerHour)
	}
	return nil
}

// maxCheckTimeout bounds a check command's time limit.
const maxCheckTimeout = 24 * 60 * 60

// ValidateCheckCommand checks a repository policy's check command: only for
// local repositories (a path or file:// URL; GitHub and Azure DevOps run
// their own CI), one line of text, and a time limit between 1 s and a day
// that only comes with a command.
func ValidateCheckCommand(p maestro.RepositoryBranchPolicy) error {
	where := fmt.Sprintf("repository policy %s@%s", p.Repository, p.Branch)
	switch {
	case p.CheckCommand == "" && p.CheckTimeoutSeconds != 0:
		return maestro.Errorf(maestro.KindInvalid, "%s: a check timeout without a check command; give the command too", where)
	case p.CheckCommand == "":
		return nil
	case strings.HasPrefix(p.Repository, "https://") || strings.HasPrefix(p.Repository, "http://"):
		return maestro.Errorf(maestro.KindInvalid, "%s: a check command runs only for local repositories (a path or file:// URL); GitHub and Azure DevOps run their own checks", where)
	case strings.TrimSpace(p.CheckCommand) == "" || !utf8.ValidString(p.CheckCommand) || strings.ContainsAny(p.CheckCommand, "\x00\n\r"):
		return maestro.Errorf(maestro.KindInvalid, "%s: check command %q must be one line of text", where, p.CheckCommand)
	case len(p.CheckCommand) > 4096:
		return maestro.Errorf(maestro.KindInvalid, "%s: check command is %d bytes long; at most 4096 (put a longer one in a script)", where, len(p.CheckCommand))
	case p.CheckTimeoutSeconds < 0 || p.CheckTimeoutSeconds > maxCheckTimeout:
		return maestro.Errorf(maestro.KindInvalid, "%s: check timeout %ds is outside 1s to 24h", where, p.CheckTimeoutSeconds)
	}
	return nil
}

// ValidateBuildCommands checks a policy's build and test commands (`maestro
// speculative build`): one line of text each, at most 4096 bytes, for a
// local repository, and a test command only beside a build command.
func ValidateBuildCommands(p maestro.RepositoryBranchPolicy) error {
	where := fmt.Sprintf("repository policy %s@%s", p.Repository, p.Branch)
	if p.BuildCommand == "" && p.TestCommand != "" {
		return maestro.Errorf(maestro.KindInvalid, "%s: a test command without a build command; give the build command too", where)
	}
	for _, c := range []struct{ name, cmd string }{{"build", p.BuildCommand}, {"test", p.TestCommand}} {
		switch {
		case c.cmd == "":
		case strings.HasPrefix(p.Repository, "https://") || strings.HasPrefix(p.Repository, "http://"):
			return maestro.Errorf(maestro.KindInvalid, "%s: a %s command runs only for local repositories (a path or file:// URL); Azure DevOps builds run their own pipeline", where, c.name)
		case strings.TrimSpace(c.cmd) == "" || !utf8.ValidString(c.cmd) || strings.ContainsAny(c.cmd, "\x00\n\r"):
			return maestro.Errorf(maestro.KindInvalid, "%s: %s command %q must be one line of text", where, c.name, c.cmd)
		case len(c.cmd) > 4096:
			return maestro.Errorf(maestro.KindInvalid, "%s: %s command is %d bytes long; at most 4096 (put a longer one in a script)", where, c.name, len(c.cmd))
		}
	}
	return nil
}

// ReservePullRequest reserves the right to open a pull request for key
// (a subscription id or BatchedKey) into repo@branch at now under the caps
// of p, or returns a *CapError saying which cap is reached. Caps of 0 need
// no reservation.
func (r *Registry) ReservePullRequest(ctx context.Context, p maestro.RepositoryBranchPolicy, repo, branch, key string, now time.Time) error {
	if p.MaxOpenPullRequests == 0 && p.MaxNewPullRequestsPerHour == 0 {
		return nil
	}
	var capErr *CapError
	_, err := update(ctx, r.st, prCapsKey(repo, branch), func(d *prCapsDoc, _ bool) error {
		capErr = nil
		d.Opened = slices.DeleteFunc(d.Opened, func(s openedSlot) bool { return !s.Time.After(now.Add(-time.Hour)) })
		if p.MaxNewPullRequestsPerHour > 0 && len(d.Opened) >= p.MaxNewPullRequestsPerHour {
			oldest := d.Opened[len(d.Opened)-p.MaxNewPullRequestsPerHour]
			capErr = &CapError{Until: oldest.Time.Add(time.Hour), Msg: fmt.Sprintf(
				"%s@%s reached its cap of %d new pull requests per hour (maxNewPullRequestsPerHour); the update waits until %s",
				repo, branch, p.MaxNewPullRequestsPerHour, oldest.Time.Add(time.Hour).UTC().Format(time.RFC3339))}
			return capErr
		}
		if p.MaxOpenPullRequests > 0 {
			open, err := r.trackedKeys(ctx, repo, branch)
			if err != nil {
				return err
			}
			for _, s := range d.Opened {
				if s.Time.After(now.Add(-reservationHold)) {
					open[s.Key] = true
				}
			}
			delete(open, key)
			if len(open) >= p.MaxOpenPullRequests {
				capErr = &CapError{Msg: fmt.Sprintf(
					"%s@%s has %d open dependency-update pull requests, its cap (maxOpenPullRequests is %d); the update waits until one merges or closes",
					repo, branch, len(open), p.MaxOpenPullRequests)}
				return capErr
			}
		}
		d.Opened = append(d.Opened, openedSlot{Key: key, Time: now.UTC()})
		return nil
	})
	if capErr != nil {
		return capErr
	}
	if err != nil {
		return fmt.Errorf("reserve a pull request into %s@%s: %w", repo, branch, err)
	}
	return nil
}

// trackedKeys returns the keys of the tracked records of a target branch.
func (r *Registry) trackedKeys(ctx context.Context, repo, branch string) (map[string]bool, error) {
	prefix := strings.TrimSuffix(trackedKey(repo, branch, "x"), "x.json")
	keys, err := r.st.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("tracked pull requests of %s@%s: %w", repo, branch, err)
	}
	out := map[string]bool{}
	for _, k := range keys {
		if name, ok := strings.CutSuffix(strings.TrimPrefix(k, prefix), ".json"); ok && !strings.Contains(name, "/") {
			out[name] = true
		}
	}
	return out, nil
}

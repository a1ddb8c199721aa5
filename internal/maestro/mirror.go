package maestro

import (
	"regexp"
	"time"
)

// MirrorMode says how a mirror keeps an internal branch current.
type MirrorMode string

// Mirror modes.
const (
	// MirrorFastForward: the internal branch equals the public one; it only
	// ever moves forward, and a branch with commits of its own is left alone.
	MirrorFastForward MirrorMode = "fastForward"
	// MirrorInternalMerge: the public branch is merged into internal/{branch},
	// which may carry commits of its own.
	MirrorInternalMerge MirrorMode = "internalMerge"
)

// ParseMirrorMode returns the mode s names, or a KindInvalid error.
func ParseMirrorMode(s string) (MirrorMode, error) {
	switch m := MirrorMode(s); m {
	case MirrorFastForward, MirrorInternalMerge:
		return m, nil
	}
	return "", Errorf(KindInvalid, "mirror mode %q: use fastForward or internalMerge", s)
}

// TargetBranch is the branch of the target repository that mirrors branch.
func (m MirrorMode) TargetBranch(branch string) string {
	if m == MirrorInternalMerge {
		return "internal/" + branch
	}
	return branch
}

// MirrorResult is what one mirror run did.
type MirrorResult string

// Mirror results. The first four leave the target current; the others do
// not, and push nothing.
const (
	MirrorCreated       MirrorResult = "created"       // the target branch did not exist and now does
	MirrorFastForwarded MirrorResult = "fastForwarded" // the target branch moved forward to the source head
	MirrorMerged        MirrorResult = "merged"        // a merge commit of both heads was pushed
	MirrorUpToDate      MirrorResult = "upToDate"      // the target already held the source head
	MirrorRefused       MirrorResult = "refused"       // fastForward: the target has commits the source lacks
	MirrorConflict      MirrorResult = "conflict"      // internalMerge: the heads do not merge cleanly
	MirrorFailure       MirrorResult = "failure"       // anything else: unreachable, no permission, moved meanwhile
)

// Current reports whether the run left the target branch holding the source head.
func (r MirrorResult) Current() bool {
	switch r {
	case MirrorCreated, MirrorFastForwarded, MirrorMerged, MirrorUpToDate:
		return true
	}
	return false
}

// MirrorOutcome is the record one mirror run leaves.
type MirrorOutcome struct {
	Time             time.Time    `json:"time"`
	SourceRepository string       `json:"sourceRepository"`
	Branch           string       `json:"branch"`
	TargetRepository string       `json:"targetRepository"`
	TargetBranch     string       `json:"targetBranch"`
	Mode             MirrorMode   `json:"mode"`
	SourceHead       string       `json:"sourceHead,omitempty"`
	TargetHeadBefore string       `json:"targetHeadBefore,omitempty"` // "" when the branch did not exist
	TargetHeadAfter  string       `json:"targetHeadAfter,omitempty"`
	Commits          int          `json:"commits"` // commits the target branch gained
	Result           MirrorResult `json:"result"`
	Message          string       `json:"message,omitempty"`
}

// MirrorBranch is one branch pattern of a mirror and how its branches are
// mirrored. Pattern is a regular expression matched against the whole
// branch name (anchored: "release/.*" matches release/9.0, not
// x/release/9.0).
type MirrorBranch struct {
	Pattern string     `json:"pattern"`
	Mode    MirrorMode `json:"mode"`
}

// Mirror is the mirror configuration of one source repository: which of its
// branches are mirrored into TargetRepository (an Azure Repos repository),
// each in its mode, by runs of Pipeline.
type Mirror struct {
	SourceRepository string         `json:"sourceRepository"`
	TargetRepository string         `json:"targetRepository"`
	Branches         []MirrorBranch `json:"branches"`
	Pipeline         UpdatePipeline `json:"pipeline"`
}

// Branch returns the first of m's branch patterns that matches branch
// whole; ok is false when none does (or a pattern does not compile, which
// validation refuses before it is written).
func (m Mirror) Branch(branch string) (b MirrorBranch, ok bool) {
	for _, b := range m.Branches {
		if re, err := regexp.Compile(`^(?:` + b.Pattern + `)$`); err == nil && re.MatchString(branch) {
			return b, true
		}
	}
	return MirrorBranch{}, false
}

// MirrorHostChecker is the HostChecker of a configuration that also knows
// which URLs are Azure Repos repositories: a mirror's target must be one.
// CheckMirrorTarget returns nil, or an error that names the URL and says
// what to configure.
type MirrorHostChecker interface {
	HostChecker
	CheckMirrorTarget(repo string) error
}

// MirrorQueuedRun is the mirror pipeline run last queued for one branch of
// a source repository, so that triggers while it is queued or running
// coalesce into it. ClaimedAt is set by the trigger that is queueing a run
// (RunID still 0) and kept afterwards.
type MirrorQueuedRun struct {
	SourceRepository string    `json:"sourceRepository"`
	Branch           string    `json:"branch"`
	ClaimedAt        time.Time `json:"claimedAt"`
	RunID            int       `json:"runId,omitempty"`
	URL              string    `json:"url,omitempty"`
	Commit           string    `json:"commit,omitempty"` // the commit of the trigger that queued it, if given
}

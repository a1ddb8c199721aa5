package maestro

import "time"

// Results of a repository in a speculative product build, and of the run.
const (
	SpeculativeSucceeded          = "succeeded"
	SpeculativePartiallySucceeded = "partiallySucceeded"
	SpeculativeFailed             = "failed"
	SpeculativeSkipped            = "skipped"
)

// ProductBuild is the report of one speculative product build (`maestro
// speculative build`): which repositories were built, in which order, from
// which speculative builds upstream, with what result and how long each
// took, and the run's critical path.
type ProductBuild struct {
	ID      string   `json:"id"`
	Channel Channel  `json:"channel"`
	Inject  []string `json:"inject"` // REPO@SHA as given
	// Result is failed when any repository failed, else partiallySucceeded
	// when any did, else succeeded.
	Result       string              `json:"result"`
	Started      time.Time           `json:"started"`
	Finished     time.Time           `json:"finished"`
	WallSeconds  float64             `json:"wallSeconds"`
	Repositories []ProductBuildEntry `json:"repositories"` // topological order
	// CriticalPath is the chain of repositories, upstream first, whose
	// build times add up to the longest; CriticalPathSeconds their sum.
	CriticalPath        []string `json:"criticalPath"`
	CriticalPathSeconds float64  `json:"criticalPathSeconds"`
	// Platform is where it built: local or azure-devops.
	Platform string `json:"platform,omitempty"`
	// MainlineSeconds is the time the same change took to flow through
	// mainline, when the registry can tell: from the publication of the
	// injected commits' official builds to the publication of the last of
	// the repositories' first official builds that contain them (see
	// ProductBuildEntry.MainlineSeconds); absent when any is unknown.
	MainlineSeconds *float64 `json:"mainlineSeconds,omitempty"`
}

// ProductBuildEntry is one repository of a speculative product build.
type ProductBuildEntry struct {
	Repository string `json:"repository"`
	Branch     string `json:"branch"`
	// Commit is the commit built (with the update applied on top).
	Commit   string `json:"commit"`
	Injected bool   `json:"injected,omitempty"`
	// Upstream are the repositories of the run whose builds it took.
	Upstream []string `json:"upstream"`
	Level    int      `json:"level"`
	Result   string   `json:"result"`
	Reason   string   `json:"reason,omitempty"`
	// BuildID is the speculative build recorded from its manifests.
	BuildID  int       `json:"buildId,omitempty"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	Seconds  float64   `json:"seconds"`
	// AzureDevOpsBuildID and AzureDevOpsBuildURL are the build queued for
	// it, on the Azure DevOps platform.
	AzureDevOpsBuildID  int    `json:"azureDevOpsBuildId,omitempty"`
	AzureDevOpsBuildURL string `json:"azureDevOpsBuildUrl,omitempty"`
	// MainlineBuildID is its first official build, on its branch, that
	// contains every injected change upstream of it (through the recorded
	// dependencies); MainlineSeconds is the time from the publication of
	// the earliest injected commit's official build to that build's.
	// Both absent when the registry cannot tell (a change not merged yet,
	// or not yet flowed this far).
	MainlineBuildID int      `json:"mainlineBuildId,omitempty"`
	MainlineSeconds *float64 `json:"mainlineSeconds,omitempty"`
}

// SpeculativeMark makes a tracked pull request a speculative one: the
// pull request whose speculative builds it takes (Parent) and the chain
// of pull requests above it, root first, Parent last. Moved marks one
// whose parent merged and that now carries the mainline build of the
// merged commit: its [speculative] marks are gone, and the ordinary merge
// policies decide once the gate (every ancestor merged) passes.
type SpeculativeMark struct {
	Parent string   `json:"parent"`
	Chain  []string `json:"chain"`
	Moved  bool     `json:"moved,omitempty"`
}

// States of a speculative pull request (SpeculativePullRequest.State).
const (
	// SpeculativeOpen: open, carrying a speculative build of its parent.
	SpeculativeOpen = "open"
	// SpeculativeMoved: open, moved to the mainline build of its merged parent.
	SpeculativeMoved  = "moved"
	SpeculativeMerged = "merged"
	// SpeculativeClosed: closed because an ancestor closed without merging
	// (or closed by a person).
	SpeculativeClosed = "closed"
)

// SpeculativePullRequest is the flow's work and record for one speculative
// pull request: subscription SubscriptionID takes the speculative builds
// of pull request Parent into a pull request of its own (tracked under
// Key in the target branch). BuildID is the newest speculative build of
// Parent to carry, AppliedBuildID the one it carries; once Parent merged,
// MainlineBuildID is the mainline build of the merged commit it moved to.
type SpeculativePullRequest struct {
	Key              string    `json:"key"`
	SubscriptionID   string    `json:"subscriptionId"`
	SourceRepository string    `json:"sourceRepository"`
	TargetRepository string    `json:"targetRepository"`
	TargetBranch     string    `json:"targetBranch"`
	Parent           string    `json:"parent"`
	Chain            []string  `json:"chain"`
	BuildID          int       `json:"buildId"`
	AppliedBuildID   int       `json:"appliedBuildId,omitempty"`
	MainlineBuildID  int       `json:"mainlineBuildId,omitempty"`
	PullRequestURL   string    `json:"pullRequestUrl,omitempty"`
	Number           int       `json:"number,omitempty"`
	State            string    `json:"state"`
	Waiting          string    `json:"waiting,omitempty"`
	NextAttempt      time.Time `json:"nextAttempt"`
	Updated          time.Time `json:"updated"`
	Claim            *Claim    `json:"claim,omitempty"`
}

// Claim is an attempt's hold on a piece of work until Until.
type Claim struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

// Ended reports whether a speculative pull request needs no more work.
func (s SpeculativePullRequest) Ended() bool {
	return s.State == SpeculativeMerged || s.State == SpeculativeClosed
}

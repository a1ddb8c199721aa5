// Package maestro holds the domain types of Maestro++ (builds, assets, channels,
// subscriptions, policies, flow outcomes) and the error kinds that the edges map
// to exit codes and HTTP statuses. JSON names follow the production service's API.
package maestro

import (
	"strings"
	"time"
)

// Build is one official build recorded in the Build Asset Registry.
type Build struct {
	ID                           int               `json:"id"`
	Repository                   string            `json:"repository"`
	Branch                       string            `json:"branch"`
	Commit                       string            `json:"commit"`
	AzureDevOpsAccount           string            `json:"azureDevOpsAccount,omitempty"`
	AzureDevOpsProject           string            `json:"azureDevOpsProject,omitempty"`
	AzureDevOpsBuildID           int               `json:"azureDevOpsBuildId,omitempty"`
	AzureDevOpsBuildDefinitionID int               `json:"azureDevOpsBuildDefinitionId,omitempty"`
	AzureDevOpsBuildNumber       string            `json:"azureDevOpsBuildNumber,omitempty"`
	AzureDevOpsRepository        string            `json:"azureDevOpsRepository,omitempty"`
	AzureDevOpsBranch            string            `json:"azureDevOpsBranch,omitempty"`
	GitHubRepository             string            `json:"gitHubRepository,omitempty"`
	GitHubBranch                 string            `json:"gitHubBranch,omitempty"`
	DateProduced                 time.Time         `json:"dateProduced"`
	Released                     bool              `json:"released"`
	Stable                       bool              `json:"stable"`
	Assets                       []Asset           `json:"assets"`
	Dependencies                 []BuildDependency `json:"dependencies"`
	Channels                     []Channel         `json:"channels"`
	// Speculative marks a build made from a pull request or a non-mainline
	// branch: it is recorded apart from every other build, in the
	// speculative twins of channels, with non-shipping assets, and no normal
	// question (latest build, a subscription's update, coherency) sees it.
	Speculative bool `json:"speculative,omitempty"`
	// PullRequest is the pull request a speculative build was made from.
	PullRequest *BuildPullRequest `json:"pullRequest,omitempty"`
	// ProductBuild is the speculative product build (`maestro speculative
	// build`) that made a speculative build.
	ProductBuild string `json:"productBuild,omitempty"`
	// Promotable, on a speculative build of a pull request, keeps what
	// `maestro build promote` needs that recording it speculatively
	// changed; nil on one recorded before it was kept, which cannot be
	// promoted.
	Promotable *Promotable `json:"promotable,omitempty"`
	// PromotedFrom, on a mainline build made by `maestro build promote`, is
	// the speculative build it was promoted from.
	PromotedFrom int `json:"promotedFrom,omitempty"`
	// PromotedTo, on a speculative build that `build show` reads, is the
	// mainline build it was promoted to (never stored: the promoted
	// build's claim says so).
	PromotedTo int `json:"promotedTo,omitempty"`
}

// Promotable is what a speculative build keeps for its promotion to a
// mainline build.
type Promotable struct {
	// Shipping lists the assets its manifests marked shipping (every asset
	// of a speculative build is recorded non-shipping), as ranges [first,
	// last] of positions in Assets, ascending.
	Shipping [][2]int `json:"shipping"`
}

// BuildPullRequest links a speculative build to the pull request it was made
// from and the pull request's head commit it built (a pull request build of
// Azure DevOps builds a merge commit, so Commit may differ from HeadCommit).
type BuildPullRequest struct {
	URL        string `json:"url"`
	HeadCommit string `json:"headCommit"`
	// TargetBranch is the branch the pull request merges into: the default
	// channels of that branch are the ones whose twins the build joins.
	TargetBranch string `json:"targetBranch,omitempty"`
}

// Asset is one package or blob a build produced.
type Asset struct {
	ID          int             `json:"id"`
	Name        string          `json:"name"`
	Version     string          `json:"version"`
	NonShipping bool            `json:"nonShipping"`
	Locations   []AssetLocation `json:"locations"`
}

// LocationType says where an asset can be fetched from.
type LocationType string

// Asset location types, as the production service names them.
const (
	LocationNuGetFeed LocationType = "nugetFeed"
	LocationContainer LocationType = "container"
)

// AssetLocation is one place an asset was published to.
type AssetLocation struct {
	Type     LocationType `json:"type"`
	Location string       `json:"location"`
}

// BuildDependency records that a build consumed another build's assets.
type BuildDependency struct {
	BuildID                  int     `json:"buildId"`
	IsProduct                bool    `json:"isProduct"`
	TimeToInclusionInMinutes float64 `json:"timeToInclusionInMinutes"`
}

// Channel is a named stream of builds that subscriptions follow.
type Channel struct {
	ID             int    `json:"id"`
	Name           string `json:"name"`
	Classification string `json:"classification"`
}

// DefaultChannel assigns builds of a repository branch to a channel. A Branch
// starting with RegexBranchPrefix is a regular expression over branch names.
type DefaultChannel struct {
	ID         int    `json:"id"`
	Repository string `json:"repository"`
	Branch     string `json:"branch"`
	ChannelID  int    `json:"channelId"`
	Enabled    bool   `json:"enabled"`
}

// RegexBranchPrefix marks a default channel branch that is a regular expression.
const RegexBranchPrefix = "-regex:"

// UpdateFrequency says when a subscription takes new builds.
type UpdateFrequency string

// Update frequencies the production service accepts.
const (
	FrequencyNone          UpdateFrequency = "none"
	FrequencyEveryBuild    UpdateFrequency = "everyBuild"
	FrequencyTwiceDaily    UpdateFrequency = "twiceDaily"
	FrequencyEveryDay      UpdateFrequency = "everyDay"
	FrequencyEveryWeek     UpdateFrequency = "everyWeek"
	FrequencyEveryTwoWeeks UpdateFrequency = "everyTwoWeeks"
	FrequencyEveryMonth    UpdateFrequency = "everyMonth"
)

// UpdateFrequencies lists every valid UpdateFrequency in documentation order.
var UpdateFrequencies = []UpdateFrequency{
	FrequencyNone, FrequencyEveryBuild, FrequencyTwiceDaily, FrequencyEveryDay,
	FrequencyEveryWeek, FrequencyEveryTwoWeeks, FrequencyEveryMonth,
}

// MergePolicy is one named check that must pass before a PR is merged.
type MergePolicy struct {
	Name       string         `json:"name"`
	Properties map[string]any `json:"properties,omitempty"`
}

// Merge policy names.
const (
	PolicyAllChecksSuccessful     = "AllChecksSuccessful"
	PolicyNoRequestedChanges      = "NoRequestedChanges"
	PolicyDontAutomergeDowngrades = "DontAutomergeDowngrades"
	PolicyValidateCoherency       = "ValidateCoherency"
	PolicyNoExtraCommits          = "NoExtraCommits"
	PolicyNoNewerUpdateMerged     = "NoNewerUpdateMerged"
	PolicyVersionDetailsProps     = "VersionDetailsProps"
	PolicyStandard                = "Standard"
	// PolicySpeculativeParentsMerged holds a speculative pull request until
	// every ancestor pull request merged; every speculative pull request
	// is judged by it, listed or not.
	PolicySpeculativeParentsMerged = "SpeculativeParentsMerged"
)

// MergePolicyNames lists every valid merge policy name.
var MergePolicyNames = []string{
	PolicyAllChecksSuccessful, PolicyNoRequestedChanges, PolicyDontAutomergeDowngrades,
	PolicyValidateCoherency, PolicyNoExtraCommits, PolicyNoNewerUpdateMerged, PolicyVersionDetailsProps,
	PolicyStandard, PolicySpeculativeParentsMerged,
}

// StandardPolicyMembers are the policies production's Standard stands for: a
// list that holds Standard may not also name any of them. Standard evaluates
// more than these (policy.StandardMembers); a stored list that names Standard
// beside one of the others stays valid, and each policy is evaluated once.
var StandardPolicyMembers = []string{
	PolicyAllChecksSuccessful, PolicyNoRequestedChanges, PolicyDontAutomergeDowngrades,
	PolicyValidateCoherency,
}

// SubscriptionPolicy is how and when a subscription applies updates.
type SubscriptionPolicy struct {
	Batchable       bool            `json:"batchable"`
	UpdateFrequency UpdateFrequency `json:"updateFrequency"`
	MergePolicies   []MergePolicy   `json:"mergePolicies"`
}

// Subscription says that a target repository branch takes what a source
// repository publishes to a channel.
type Subscription struct {
	ID                                 string             `json:"id"`
	ChannelID                          int                `json:"channelId"`
	SourceRepository                   string             `json:"sourceRepository"`
	TargetRepository                   string             `json:"targetRepository"`
	TargetBranch                       string             `json:"targetBranch"`
	Enabled                            bool               `json:"enabled"`
	Policy                             SubscriptionPolicy `json:"policy"`
	ExcludedAssets                     []string           `json:"excludedAssets"`
	SourceDirectory                    string             `json:"sourceDirectory,omitempty"`
	TargetDirectory                    string             `json:"targetDirectory,omitempty"`
	LastAppliedBuildID                 int                `json:"lastAppliedBuildId,omitempty"`
	PullRequestFailureNotificationTags string             `json:"pullRequestFailureNotificationTags,omitempty"`
	// UpdatePipeline, when set, is the target's dependency-update pipeline:
	// the flow queues it instead of applying the update itself.
	UpdatePipeline *UpdatePipeline `json:"updatePipeline,omitempty"`
	// Speculative opts the subscription in to speculative version flow:
	// speculative builds of its source in the speculative twin of its
	// channel flow to it too, each into a pull request of its own marked
	// speculative (docs/speculative.md). Without it, a subscription never
	// sees a speculative build.
	Speculative bool `json:"speculative,omitempty"`
}

// UpdatePipeline is an Azure Pipelines pipeline that runs
// `maestro subscription apply` for a subscription and build.
type UpdatePipeline struct {
	Organization string `json:"organization"` // https://dev.azure.com/{org}
	Project      string `json:"project"`
	PipelineID   int    `json:"pipelineId"`
	// Classic marks a classic build definition, queued as a build with
	// variables instead of a pipeline run with template parameters.
	Classic bool `json:"classic,omitempty"`
}

// HostChecker says whether a git host this configuration serves stands
// behind a URL a subscription names, so that a subscription whose pull
// requests or pipeline runs could never be sent is refused when it is
// written, not when it first flows. The composition root (service/wire)
// implements it from the environment; packages that validate input take
// it as a value and read no environment themselves. Both methods return
// nil, or an error that names the URL (without user info) and says what
// to configure.
type HostChecker interface {
	// CheckTarget checks a target repository: a local repository, GitHub
	// or Azure Repos on a configured host.
	CheckTarget(repo string) error
	// CheckPipelineOrganization checks an update pipeline's Azure DevOps
	// organization (or collection) URL.
	CheckPipelineOrganization(org string) error
}

// CheckHosts applies h to what a write of subscription s sends somewhere:
// the target repository of a new subscription (before is nil) and an update
// pipeline whose organization is new or changed. A subscription recorded
// before its host became unconfigured stays editable (it can be disabled or
// deleted; its flow fails before any token is sent). Source repositories
// are only matched against builds, never contacted, so they are not checked.
func CheckHosts(h HostChecker, s Subscription, before *Subscription) (target, pipeline error) {
	if before == nil {
		target = h.CheckTarget(s.TargetRepository)
	}
	org := func(up *UpdatePipeline) string { return strings.ToLower(strings.TrimSuffix(up.Organization, "/")) }
	if up := s.UpdatePipeline; up != nil && (before == nil || before.UpdatePipeline == nil || org(before.UpdatePipeline) != org(up)) {
		pipeline = h.CheckPipelineOrganization(up.Organization)
	}
	return target, pipeline
}

// RepositoryBranchPolicy holds the merge policies of a repository branch; batchable
// subscriptions into that branch use them.
type RepositoryBranchPolicy struct {
	Repository    string        `json:"repository"`
	Branch        string        `json:"branch"`
	MergePolicies []MergePolicy `json:"mergePolicies"`
	// AutoMerge: Maestro++ merges (or, with MergeMethodNative, hands to the
	// host's auto-merge) the pull requests into the branch once every
	// merge policy succeeds. Off, they wait for a person.
	AutoMerge bool `json:"autoMerge"`
	// MergeMethod says how a pull request is merged when AutoMerge is on:
	// MergeMethodSquash or MergeMethodNative; "" (a policy written before
	// the field existed) is MergeMethodSquash. With AutoMerge off it is
	// kept, and used again when auto-merge is switched back on.
	MergeMethod string `json:"mergeMethod,omitempty"`
	// MaxOpenPullRequests caps the dependency-update pull requests the
	// flow keeps open into the branch at once, MaxNewPullRequestsPerHour
	// those it opens in any hour (Renovate's prConcurrentLimit and
	// prHourlyLimit); 0 is no cap. An update over a cap that would open a
	// pull request waits as pending work (reason "cap"); updates of open
	// pull requests are never capped.
	MaxOpenPullRequests       int `json:"maxOpenPullRequests,omitempty"`
	MaxNewPullRequestsPerHour int `json:"maxNewPullRequestsPerHour,omitempty"`
	// CheckCommand, for a local repository, is run by `sh -c` in a worktree
	// of every head commit the flow pushes to a pull request into the
	// branch, within CheckTimeoutSeconds (0: DefaultCheckTimeout); its exit
	// status is the pull request's check CheckCommandName on that commit.
	CheckCommand        string `json:"checkCommand,omitempty"`
	CheckTimeoutSeconds int    `json:"checkTimeoutSeconds,omitempty"`
	// BuildCommand, for a local repository, is how `maestro speculative
	// build` builds the branch: run by `sh -c` in a worktree with the
	// update applied, it writes the build's asset manifests into
	// $MAESTRO_MANIFEST_DIR. TestCommand, when set, runs after a build that
	// succeeded; its failure makes the build partially succeeded.
	BuildCommand string `json:"buildCommand,omitempty"`
	TestCommand  string `json:"testCommand,omitempty"`
}

// Merge methods of a repository branch policy.
const (
	// MergeMethodSquash: Maestro++ merges the pull request itself once every
	// policy succeeds — a squash merge that deletes the branch on GitHub,
	// completion with the squash strategy that deletes the source branch on
	// Azure DevOps.
	MergeMethodSquash = "squash"
	// MergeMethodNative: Maestro++ turns on the host's own merge instead
	// (GitHub auto-merge, Azure DevOps auto-complete), so that branch
	// protection such as required reviewers is honoured.
	MergeMethodNative = "native"
)

// MergeMethods lists the merge methods, for validation and messages.
var MergeMethods = []string{MergeMethodSquash, MergeMethodNative}

// EffectiveMergeMethod is the policy's merge method, MergeMethodSquash when
// none is recorded.
func (p RepositoryBranchPolicy) EffectiveMergeMethod() string {
	if p.MergeMethod == "" {
		return MergeMethodSquash
	}
	return p.MergeMethod
}

// CheckCommandName names the check a repository policy's check command
// reports on a local pull request.
const CheckCommandName = "check-command"

// DefaultCheckTimeout bounds a check command's run when the policy names no
// time limit.
const DefaultCheckTimeout = 10 * time.Minute

// CheckTimeout is the policy's time limit for its check command.
func (p RepositoryBranchPolicy) CheckTimeout() time.Duration {
	if p.CheckTimeoutSeconds > 0 {
		return time.Duration(p.CheckTimeoutSeconds) * time.Second
	}
	return DefaultCheckTimeout
}

// FlowResult is the outcome of one attempt to flow a build through a subscription.
type FlowResult string

// Flow results.
const (
	ResultUpdated     FlowResult = "updated"
	ResultNoUpdate    FlowResult = "no-update"
	ResultFailure     FlowResult = "failure"
	ResultConflict    FlowResult = "conflict"
	ResultRescheduled FlowResult = "rescheduled"
	// ResultQueued: the update was handed to the target's update pipeline.
	ResultQueued FlowResult = "queued"
)

// FlowOutcome is one record of flow history.
type FlowOutcome struct {
	SubscriptionID string     `json:"subscriptionId"`
	BuildID        int        `json:"buildId"`
	Time           time.Time  `json:"time"`
	Result         FlowResult `json:"result"`
	PullRequestURL string     `json:"pullRequestUrl,omitempty"`
	Message        string     `json:"message,omitempty"`
}

// PullRequestState is where a pull request stands.
type PullRequestState string

// Pull request states.
const (
	PullRequestOpen   PullRequestState = "open"
	PullRequestMerged PullRequestState = "merged"
	PullRequestClosed PullRequestState = "closed"
)

// PullRequest is a dependency-update pull request.
type PullRequest struct {
	Repository string           `json:"repository"`
	Number     int              `json:"number"`
	URL        string           `json:"url"`
	Title      string           `json:"title"`
	Body       string           `json:"body"`
	HeadBranch string           `json:"headBranch"`
	BaseBranch string           `json:"baseBranch"`
	State      PullRequestState `json:"state"`
	CreatedAt  time.Time        `json:"createdAt"`
	UpdatedAt  time.Time        `json:"updatedAt"`
	// Checks are the checks recorded on a pull request of the local
	// platform (`maestro pr set-check`), sorted by name. GitHub and Azure Repos
	// keep their own, read through platform.Platform.Checks; there this
	// stays empty.
	Checks []Check `json:"checks,omitempty"`
	// Policies are the merge policy results reported on a pull request of
	// the local platform for its head commit PolicyHead (the local
	// platform's PolicyReporter); a policy reported before and no longer
	// evaluated stays with state skipped. NotifiedHead is the head commit
	// whose failure was last notified. GitHub and Azure Repos keep these
	// on the host (check runs, statuses, comments); there they stay empty.
	Policies     []PolicyResult `json:"policies,omitempty"`
	PolicyHead   string         `json:"policyHead,omitempty"`
	NotifiedHead string         `json:"notifiedHead,omitempty"`
	// CheckRun is the last run of the repository policy's check command on
	// a head commit of a local pull request (the local platform's CI); its
	// check counts while Commit is the head.
	CheckRun *CheckRun `json:"checkRun,omitempty"`
	// MergeCommit is the squash commit a merge of a local pull request
	// pushes to the base branch, recorded before the push: a pull request
	// still open whose MergeCommit is on its base branch was merged by a
	// process that died before marking it, and reads as merged.
	MergeCommit string `json:"mergeCommit,omitempty"`
}

// CheckRun is one run of a repository policy's check command on a commit.
// State is pending while it runs (since Started); Output keeps the end of
// what it printed.
type CheckRun struct {
	Commit   string     `json:"commit"`
	Command  string     `json:"command"`
	State    CheckState `json:"state"`
	Started  time.Time  `json:"started"`
	Finished time.Time  `json:"finished,omitzero"`
	// Deadline is when a pending run is given up as dead (its process gone).
	Deadline time.Time `json:"deadline"`
	Output   string    `json:"output,omitempty"`
	Message  string    `json:"message,omitempty"`
}

// PolicyResult is one merge policy's verdict as reported on a pull request:
// State is pending, success or failure, or CheckSkipped for a policy that
// was reported before on the same head commit and is no longer evaluated.
// Message says what a person can do about it.
type PolicyResult struct {
	Name    string     `json:"name"`
	State   CheckState `json:"state"`
	Message string     `json:"message,omitempty"`
}

// CheckState is the state of one check on a pull request (a CI status, a
// check run, a branch policy).
type CheckState string

// Check states.
const (
	CheckPending CheckState = "pending"
	CheckSuccess CheckState = "success"
	CheckFailure CheckState = "failure"
	// CheckSkipped is only ever a reported merge policy's state (see
	// PolicyResult): one no longer evaluated. ParseCheckState refuses it.
	CheckSkipped CheckState = "skipped"
)

// ParseCheckState returns the check state s names, or a KindInvalid error.
func ParseCheckState(s string) (CheckState, error) {
	switch st := CheckState(s); st {
	case CheckPending, CheckSuccess, CheckFailure:
		return st, nil
	}
	return "", Errorf(KindInvalid, "check state %q: use pending, success or failure", s)
}

// Check is one check reported on a pull request's head commit: a GitHub
// check run or commit status, an Azure DevOps pull request status or
// branch-policy evaluation, or a check of the local platform.
type Check struct {
	Name  string     `json:"name"`
	State CheckState `json:"state"`
	// URL is where a person reads the check's details, when the host gives one.
	URL string `json:"url,omitempty"`
	// Genre is an Azure DevOps status's context genre ("maestro" for our
	// own statuses); empty elsewhere.
	Genre string `json:"genre,omitempty"`
	// AltNames are other names a merge policy's ignoreChecks may give the
	// check: an Azure DevOps status's name without its genre, a branch
	// policy's type and display names.
	AltNames []string `json:"altNames,omitempty"`
}

// TrackedPullRequest is the flow's state of an open dependency-update pull
// request: which subscriptions and builds it carries, and the last commit the
// bot pushed to its branch.
type TrackedPullRequest struct {
	PullRequest PullRequest          `json:"pullRequest"`
	Updates     []SubscriptionUpdate `json:"updates"`
	HeadCommit  string               `json:"headCommit"`
	// Speculative marks a speculative pull request (docs/speculative.md).
	Speculative *SpeculativeMark `json:"speculative,omitempty"`
}

// SubscriptionUpdate is one subscription's part of a pull request.
type SubscriptionUpdate struct {
	SubscriptionID   string `json:"subscriptionId"`
	BuildID          int    `json:"buildId"`
	SourceRepository string `json:"sourceRepository"`
	// Dependencies are the dependencies this part moved, with the versions
	// before and after (production's RequiredUpdates). Records written
	// before they were kept have none (nil).
	Dependencies []DependencyUpdate `json:"dependencies,omitempty"`
}

// DependencyUpdate is one dependency a pull request moves.
type DependencyUpdate struct {
	Name        string `json:"name"`
	FromVersion string `json:"fromVersion"`
	ToVersion   string `json:"toVersion"`
}

package maestro

// PublishTrigger opts the builds of one Azure DevOps pipeline (build
// definition) in to the package-publish trigger of `maestro serve`: when a
// build of it succeeds (or partially succeeds) and Azure DevOps reports it
// through a service hook, the server downloads the build's AssetManifests
// artifact and publishes it as `maestro publish` would.
//
// Official builds and pull request builds opt in apart: a trigger without
// PullRequests takes the pipeline's official builds (any reason but a pull
// request), one with PullRequests its pull request builds, recorded as
// speculative builds of their pull request as `maestro publish
// --speculative --pull-request URL` records them. A pipeline may have
// both.
type PublishTrigger struct {
	// Organization is the organization's URL, https://dev.azure.com/{org}
	// (or an Azure DevOps Server collection), without a trailing slash.
	Organization string `json:"organization"`
	// Project is the project's name (or id).
	Project string `json:"project"`
	// DefinitionID is the pipeline's (build definition's) id.
	DefinitionID int `json:"definitionId"`
	// PullRequests: the trigger takes the pipeline's pull request builds
	// (build reason pullRequest), as speculative builds; without it, its
	// official builds.
	PullRequests bool `json:"pullRequests,omitempty"`
}

// Builds names the builds a trigger takes: "official" or "pull requests".
func (t PublishTrigger) Builds() string {
	if t.PullRequests {
		return "pull requests"
	}
	return "official"
}

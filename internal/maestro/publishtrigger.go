package maestro

// PublishTrigger opts the builds of one Azure DevOps pipeline (build
// definition) in to the package-publish trigger of `maestro serve`: when a
// build of it succeeds (or partially succeeds) and Azure DevOps reports it
// through a service hook, the server downloads the build's AssetManifests
// artifact and publishes it as `maestro publish` would.
type PublishTrigger struct {
	// Organization is the organization's URL, https://dev.azure.com/{org}
	// (or an Azure DevOps Server collection), without a trailing slash.
	Organization string `json:"organization"`
	// Project is the project's name (or id).
	Project string `json:"project"`
	// DefinitionID is the pipeline's (build definition's) id.
	DefinitionID int `json:"definitionId"`
}

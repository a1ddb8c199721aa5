package service

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/manifest"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// PipelineBuild is the build a publish records: the asset manifests one
// build wrote, merged (manifest.Merge), with the metadata they lack taken
// from the pipeline's predefined variables (getenv: BUILD_BUILDID,
// BUILD_BUILDNUMBER, BUILD_SOURCEVERSION, BUILD_SOURCEBRANCH,
// BUILD_REPOSITORY_URI, SYSTEM_TEAMFOUNDATIONCOLLECTIONURI,
// SYSTEM_TEAMPROJECT, SYSTEM_DEFINITIONID), then from flags, produced at
// now. `maestro publish` (in the pipeline's job) and the publish trigger of
// `maestro serve` (with the variables that job saw, read back from the
// Builds API) both make their build here, so the same Azure DevOps build
// has the same identity — account, project and build id — whichever
// records it, and the registry records it once.
func PipelineBuild(ms []*manifest.Manifest, getenv func(string) string, flags maestro.Build, now time.Time) (maestro.Build, error) {
	b, err := manifest.Merge(ms)
	if err != nil {
		return maestro.Build{}, err
	}
	b = FillMetadata(b, getenv, flags)
	b.DateProduced = now.UTC()
	return b, nil
}

// FillMetadata completes b from the pipeline's variables, then from flags
// (see PipelineBuild).
func FillMetadata(b maestro.Build, getenv func(string) string, flags maestro.Build) maestro.Build {
	fill := func(dst *string, vals ...string) {
		for _, v := range vals {
			if *dst == "" {
				*dst = strings.TrimSpace(v)
			}
		}
	}
	fillInt := func(dst *int, vals ...string) {
		for _, v := range vals {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); *dst == 0 && err == nil {
				*dst = n
			}
		}
	}
	fill(&b.Repository, getenv("BUILD_REPOSITORY_URI"), flags.Repository)
	fill(&b.Branch, getenv("BUILD_SOURCEBRANCH"), flags.Branch)
	fill(&b.Commit, getenv("BUILD_SOURCEVERSION"), flags.Commit)
	fill(&b.AzureDevOpsBuildNumber, getenv("BUILD_BUILDNUMBER"), flags.AzureDevOpsBuildNumber)
	fill(&b.AzureDevOpsAccount, AccountOf(getenv("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI")))
	fill(&b.AzureDevOpsProject, getenv("SYSTEM_TEAMPROJECT"))
	fill(&b.AzureDevOpsRepository, getenv("BUILD_REPOSITORY_URI"))
	fill(&b.AzureDevOpsBranch, getenv("BUILD_SOURCEBRANCH"))
	fillInt(&b.AzureDevOpsBuildID, getenv("BUILD_BUILDID"))
	fillInt(&b.AzureDevOpsBuildDefinitionID, getenv("SYSTEM_DEFINITIONID"))
	b.Branch = strings.TrimPrefix(b.Branch, "refs/heads/")
	return b
}

// AccountOf returns the organization of a collection URI:
// https://dev.azure.com/{org}/ or https://{org}.visualstudio.com/ (for
// another host, the first segment of its path, as an Azure DevOps Server
// collection URL names its collection).
func AccountOf(collectionURI string) string {
	u, err := url.Parse(strings.TrimSpace(collectionURI))
	if err != nil || u.Host == "" {
		return ""
	}
	if org, ok := strings.CutSuffix(strings.ToLower(u.Host), ".visualstudio.com"); ok {
		return org
	}
	return strings.Split(strings.Trim(u.Path, "/"), "/")[0]
}

// FlowBuildPending is FlowBuild for a build whose flow may have been
// interrupted (the publisher died between the record and the flow): it
// skips the subscriptions that have a flow outcome for the build already,
// so that flowing it again flows each subscription once. An error means
// the flow history could not be read, and nothing was flowed.
func (s *Service) FlowBuildPending(ctx context.Context, b maestro.Build, channels []int) ([]Triggered, error) {
	outcomes, err := s.Registry.Outcomes(ctx, registry.OutcomeFilter{BuildID: b.ID})
	if err != nil {
		return nil, fmt.Errorf("build %d: flow history: %w", b.ID, err)
	}
	done := map[string]bool{}
	for _, o := range outcomes {
		done[o.SubscriptionID] = true
	}
	return s.flowBuild(ctx, b, channels, done), nil
}

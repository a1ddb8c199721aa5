package config

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Export returns the file that describes st, in a deterministic order:
// channels by name; default channels by repository, branch and channel;
// subscriptions by target repository, target branch, source repository,
// channel, directories and id; repository policies by repository and branch;
// mirrors by source repository; publish triggers by organization, project
// and definition.
// Every field is spelled out, so the file does not depend on defaults.
func Export(st *State) (*File, error) {
	ix := newIndex(st)
	f := &File{}
	for _, c := range ix.sortedChannels() {
		f.Channels = append(f.Channels, Channel{Name: c.Name, Classification: c.Classification})
	}
	for _, dc := range ix.sortedDefaultChannels() {
		ch := ix.byID[dc.ChannelID]
		if ch == nil {
			return nil, fmt.Errorf("export: default channel %d refers to channel %d, which does not exist", dc.ID, dc.ChannelID)
		}
		f.DefaultChannels = append(f.DefaultChannels, DefaultChannel{
			Repository: dc.Repository, Branch: dc.Branch, Channel: ch.Name, Enabled: new(dc.Enabled),
		})
	}
	for _, s := range ix.sortedSubscriptions() {
		ch := ix.byID[s.ChannelID]
		if ch == nil {
			return nil, fmt.Errorf("export: subscription %s refers to channel %d, which does not exist", s.ID, s.ChannelID)
		}
		var excluded []string
		if len(s.ExcludedAssets) > 0 {
			excluded = slices.Clone(s.ExcludedAssets)
		}
		f.Subscriptions = append(f.Subscriptions, Subscription{
			ID: s.ID, Channel: ch.Name,
			SourceRepository: s.SourceRepository, TargetRepository: s.TargetRepository, TargetBranch: s.TargetBranch,
			SourceDirectory: s.SourceDirectory, TargetDirectory: s.TargetDirectory,
			Enabled: new(s.Enabled), UpdateFrequency: string(frequencyOf(s)), Batchable: s.Policy.Batchable,
			MergePolicies: fromMaestro(s.Policy.MergePolicies), ExcludedAssets: excluded,
			FailureNotificationTags: s.PullRequestFailureNotificationTags,
			UpdatePipeline:          pipelineOf(s.UpdatePipeline),
			Speculative:             s.Speculative,
		})
	}
	for _, p := range ix.sortedPolicies() {
		f.RepositoryPolicies = append(f.RepositoryPolicies, RepositoryPolicy{
			Repository: p.Repository, Branch: p.Branch, AutoMerge: new(p.AutoMerge), MergeMethod: p.EffectiveMergeMethod(),
			MergePolicies:       fromMaestro(p.MergePolicies),
			MaxOpenPullRequests: p.MaxOpenPullRequests, MaxNewPullRequestsPerHour: p.MaxNewPullRequestsPerHour,
			CheckCommand: p.CheckCommand, CheckTimeout: timeoutText(p.CheckTimeoutSeconds),
			BuildCommand: p.BuildCommand, TestCommand: p.TestCommand,
		})
	}
	for _, m := range ix.sortedMirrors() {
		fm := Mirror{SourceRepository: m.SourceRepository, TargetRepository: m.TargetRepository, Pipeline: azdo.PipelineURL(m.Pipeline)}
		for _, b := range m.Branches {
			fm.Branches = append(fm.Branches, MirrorBranch{Pattern: b.Pattern, Mode: string(b.Mode)})
		}
		f.Mirrors = append(f.Mirrors, fm)
	}
	for _, t := range ix.sortedPublishTriggers() {
		f.PublishTriggers = append(f.PublishTriggers, PublishTrigger{
			Pipeline:     azdo.PipelineURL(maestro.UpdatePipeline{Organization: t.Organization, Project: t.Project, PipelineID: t.DefinitionID}),
			PullRequests: t.PullRequests,
		})
	}
	return f, nil
}

// Marshal returns f as YAML, indented by two spaces.
func (f *File) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode configuration: %w", err)
	}
	return b.Bytes(), nil
}

// timeoutText writes a check timeout in seconds as a duration ("" for none).
func timeoutText(seconds int) string {
	if seconds == 0 {
		return ""
	}
	return (time.Duration(seconds) * time.Second).String()
}

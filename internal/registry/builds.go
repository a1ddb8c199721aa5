package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// A build is three documents under builds/{id}/: assets.json (the assets),
// state.json (channels, released: the parts that change) and build.json (the
// rest). build.json is written last and never changes: a build exists for a
// reader exactly when build.json does, so no reader sees a half-written build.
// Indexes are empty objects (or small documents) that point at builds; they are
// written before build.json and readers skip entries whose build.json is
// missing, so an interrupted publish leaves nothing visible and is completed
// by running it again.
const (
	buildCounterKey = "meta/counters/build.json"
	// maxAssetsPerBuild bounds asset ids: asset id = build id × maxAssetsPerBuild + index + 1.
	maxAssetsPerBuild = 1_000_000
	// latestDepth is how many newest builds a latest-in-channel index keeps.
	latestDepth = 16
)

func buildPrefix(id int) string      { return "builds/" + idKey(id) + "/" }
func buildKey(id int) string         { return buildPrefix(id) + "build.json" }
func buildAssetsKey(id int) string   { return buildPrefix(id) + "assets.json" }
func buildStateKey(id int) string    { return buildPrefix(id) + "state.json" }
func buildFilesPrefix(id int) string { return buildPrefix(id) + "files/" }

// idKey formats a build id so that byte order is numeric order.
func idKey(id int) string { return fmt.Sprintf("%012d", id) }

func parseIDKey(key string) (int, bool) {
	id, err := strconv.Atoi(key[strings.LastIndexByte(key, '/')+1:])
	return id, err == nil
}

func repoBuildsPrefix(repo string) string { return "index/builds/repo/" + repourl.Key(repo) + "/" }
func commitBuildsPrefix(repo, commit string) string {
	return "index/builds/commit/" + repourl.Key(repo) + "/" + strings.ToLower(commit) + "/"
}
func channelBuildsPrefix(channelID int) string {
	return fmt.Sprintf("index/builds/channel/%d/", channelID)
}
func latestKey(channelID int, repo string) string {
	return fmt.Sprintf("index/builds/latest/%d/%s.json", channelID, repourl.Key(repo))
}
func dependentsPrefix(id int) string { return "index/builds/dependents/" + idKey(id) + "/" }

func azdoKey(b maestro.Build) string {
	sum := sha256.Sum256([]byte(strings.ToLower(b.AzureDevOpsAccount + "/" + b.AzureDevOpsProject)))
	return fmt.Sprintf("index/builds/azdo/%s/%d.json", hex.EncodeToString(sum[:8]), b.AzureDevOpsBuildID)
}

type counterDoc struct {
	Next int `json:"next"`
}

type idDoc struct {
	ID int `json:"id"`
}

type buildState struct {
	Channels []int `json:"channels"`
	Released bool  `json:"released"`
}

type latestDoc struct {
	IDs []int `json:"ids"`
}

// FileUpload is a local file that publish copies into the store beside the
// build, recording the copy as a location of the asset.
type FileUpload struct {
	AssetIndex int    // index into Build.Assets
	Path       string // local file
	Name       string // relative name under the build's files/ folder
}

// PublishOptions are the choices of one publish.
type PublishOptions struct {
	// Channels are channel ids to add the build to besides the default channels it matches.
	Channels []int
	// Files are uploaded before the build becomes visible.
	Files []FileUpload
	// LocationBase prefixes the key of an uploaded file to form its recorded location.
	LocationBase string
	// ReadFile reads an upload's contents.
	ReadFile func(path string) ([]byte, error)
	// Progress, if set, is told how many uploads of the total are done.
	Progress func(done, total int)
}

// PublishResult says what publish did.
type PublishResult struct {
	Build maestro.Build
	// Existing is true when the Azure DevOps build was recorded before.
	Existing bool
	// NewChannels are the channels the build was added to by this call.
	NewChannels []int
}

// PublishBuild records a build with its assets and dependencies, assigns it to
// the channels of its matching enabled default channels and opts.Channels,
// and returns it with its BAR id. Publishing the same Azure DevOps build
// (account, project, build id) again returns the recorded build (adding any new
// channels) instead of a second record.
func (r *Registry) PublishBuild(ctx context.Context, b maestro.Build, opts PublishOptions) (PublishResult, error) {
	b.Branch = trimRefsHeads(b.Branch)
	if err := ValidateBuild(b, opts.Files); err != nil {
		return PublishResult{}, err
	}
	for _, id := range opts.Channels {
		if _, err := r.Channel(ctx, id); err != nil {
			return PublishResult{}, err
		}
	}
	dcs, err := r.DefaultChannels(ctx)
	if err != nil {
		return PublishResult{}, err
	}
	channels := MatchDefaultChannels(dcs, b.Repository, b.Branch)
	for _, id := range opts.Channels {
		if !slices.Contains(channels, id) {
			channels = append(channels, id)
		}
	}
	slices.Sort(channels)

	id, err := r.buildID(ctx, b)
	if err != nil {
		return PublishResult{}, err
	}
	if existing, err := r.Build(ctx, id); err == nil {
		added, err := r.addToChannels(ctx, existing, channels)
		if err != nil {
			return PublishResult{}, err
		}
		existing, err = r.Build(ctx, id)
		return PublishResult{Build: existing, Existing: true, NewChannels: added}, err
	} else if maestro.KindOf(err) != maestro.KindNotFound {
		return PublishResult{}, err
	}

	b.ID = id
	if b.DateProduced.IsZero() {
		b.DateProduced = r.now().UTC()
	}
	b.Assets = slices.Clone(b.Assets)
	for i := range b.Assets {
		b.Assets[i].ID = id*maxAssetsPerBuild + i + 1
	}
	if err := r.upload(ctx, &b, opts); err != nil {
		return PublishResult{}, err
	}
	if err := putJSON(ctx, r.st, buildAssetsKey(id), b.Assets, store.Condition{}); err != nil {
		return PublishResult{}, fmt.Errorf("write assets of build %d: %w", id, err)
	}
	if err := r.writeBuildIndexes(ctx, b); err != nil {
		return PublishResult{}, err
	}
	added, err := r.addToChannels(ctx, b, channels)
	if err != nil {
		return PublishResult{}, err
	}
	rec := b
	rec.Assets, rec.Channels = nil, nil
	if err := putJSON(ctx, r.st, buildKey(id), rec, store.Condition{}); err != nil {
		return PublishResult{}, fmt.Errorf("write build %d: %w", id, err)
	}
	// The record is complete in memory; only the channels (which a concurrent
	// add-to-channel may have extended) are read back.
	info, err := r.BuildInfo(ctx, id)
	if err != nil {
		return PublishResult{}, err
	}
	info.Assets = b.Assets
	return PublishResult{Build: info, NewChannels: added}, nil
}

// buildID returns the id for b: the recorded one for a known Azure DevOps
// build, else a new one from the counter.
func (r *Registry) buildID(ctx context.Context, b maestro.Build) (int, error) {
	hasAzDO := b.AzureDevOpsBuildID != 0 && b.AzureDevOpsAccount != "" && b.AzureDevOpsProject != ""
	if hasAzDO {
		var d idDoc
		if _, err := getJSON(ctx, r.st, azdoKey(b), &d); err == nil {
			return d.ID, nil
		} else if !errors.Is(err, store.ErrNotExist) {
			return 0, fmt.Errorf("look up Azure DevOps build %d: %w", b.AzureDevOpsBuildID, err)
		}
	}
	c, err := update(ctx, r.st, buildCounterKey, func(c *counterDoc, _ bool) error {
		c.Next = max(c.Next, 1) + 1
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("allocate build id: %w", err)
	}
	id := c.Next - 1
	if !hasAzDO {
		return id, nil
	}
	err = putJSON(ctx, r.st, azdoKey(b), idDoc{ID: id}, store.Condition{CreateOnly: true})
	if errors.Is(err, store.ErrPrecondition) {
		var d idDoc
		if _, err := getJSON(ctx, r.st, azdoKey(b), &d); err != nil {
			return 0, fmt.Errorf("look up Azure DevOps build %d: %w", b.AzureDevOpsBuildID, err)
		}
		return d.ID, nil
	}
	if err != nil {
		return 0, fmt.Errorf("record Azure DevOps build %d: %w", b.AzureDevOpsBuildID, err)
	}
	return id, nil
}

// upload copies opts.Files into the store under the build and records each
// copy as a container location of its asset.
func (r *Registry) upload(ctx context.Context, b *maestro.Build, opts PublishOptions) error {
	if len(opts.Files) == 0 {
		return nil
	}
	total := len(opts.Files)
	var (
		mu   sync.Mutex
		done int
	)
	err := parallelDo(ctx, opts.Files, func(ctx context.Context, f FileUpload) error {
		data, err := opts.ReadFile(f.Path)
		if err != nil {
			return maestro.Errorf(maestro.KindInvalid, "upload %s: %v", f.Path, err)
		}
		key := buildFilesPrefix(b.ID) + f.Name
		if _, err := r.st.Put(ctx, key, data, store.Condition{}); err != nil {
			return fmt.Errorf("upload %s: %w", f.Path, err)
		}
		if opts.Progress != nil {
			mu.Lock()
			done++
			opts.Progress(done, total)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range opts.Files {
		a := &b.Assets[f.AssetIndex]
		a.Locations = append(a.Locations, maestro.AssetLocation{
			Type:     maestro.LocationContainer,
			Location: opts.LocationBase + buildFilesPrefix(b.ID) + f.Name,
		})
	}
	return nil
}

// writeBuildIndexes records b in the repository, commit, dependents and asset
// name indexes.
func (r *Registry) writeBuildIndexes(ctx context.Context, b maestro.Build) error {
	keys := []string{
		repoBuildsPrefix(b.Repository) + idKey(b.ID),
		commitBuildsPrefix(b.Repository, b.Commit) + idKey(b.ID),
	}
	for _, d := range b.Dependencies {
		keys = append(keys, dependentsPrefix(d.BuildID)+idKey(b.ID))
	}
	err := parallelDo(ctx, keys, func(ctx context.Context, k string) error {
		_, err := r.st.Put(ctx, k, nil, store.Condition{})
		return err
	})
	if err != nil {
		return fmt.Errorf("index build %d: %w", b.ID, err)
	}
	if err := r.indexAssetNames(ctx, b); err != nil {
		return fmt.Errorf("index assets of build %d: %w", b.ID, err)
	}
	return nil
}

// addToChannels adds b to each channel it is not in yet; it returns those.
func (r *Registry) addToChannels(ctx context.Context, b maestro.Build, channels []int) ([]int, error) {
	var added []int
	_, err := update(ctx, r.st, buildStateKey(b.ID), func(s *buildState, _ bool) error {
		added = nil
		for _, c := range channels {
			if !slices.Contains(s.Channels, c) {
				s.Channels = append(s.Channels, c)
				added = append(added, c)
			}
		}
		slices.Sort(s.Channels)
		if len(added) == 0 && s.Channels != nil {
			return errUnchanged
		}
		if s.Channels == nil {
			s.Channels = []int{}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("assign build %d to channels: %w", b.ID, err)
	}
	// The channel indexes are written for every channel, not only new ones, so
	// that a publish interrupted after the state write is completed by a rerun.
	err = parallelDo(ctx, channels, func(ctx context.Context, c int) error {
		if _, err := r.st.Put(ctx, channelBuildsPrefix(c)+idKey(b.ID), nil, store.Condition{}); err != nil {
			return err
		}
		_, err := update(ctx, r.st, latestKey(c, b.Repository), func(d *latestDoc, _ bool) error {
			if slices.Contains(d.IDs, b.ID) {
				return errUnchanged
			}
			d.IDs = append(d.IDs, b.ID)
			slices.SortFunc(d.IDs, func(x, y int) int { return y - x })
			if len(d.IDs) > latestDepth {
				d.IDs = d.IDs[:latestDepth]
			}
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("index build %d in channels: %w", b.ID, err)
	}
	return added, nil
}

// AddBuildToChannel adds a recorded build to a channel; it reports whether the
// build was not in the channel before.
func (r *Registry) AddBuildToChannel(ctx context.Context, buildID, channelID int) (bool, error) {
	b, err := r.BuildInfo(ctx, buildID)
	if err != nil {
		return false, err
	}
	if _, err := r.Channel(ctx, channelID); err != nil {
		return false, err
	}
	added, err := r.addToChannels(ctx, b, []int{channelID})
	return len(added) > 0, err
}

// RemoveBuildFromChannel takes a build out of a channel.
func (r *Registry) RemoveBuildFromChannel(ctx context.Context, buildID, channelID int) error {
	b, err := r.BuildInfo(ctx, buildID)
	if err != nil {
		return err
	}
	_, err = update(ctx, r.st, buildStateKey(buildID), func(s *buildState, _ bool) error {
		i := slices.Index(s.Channels, channelID)
		if i < 0 {
			return maestro.Errorf(maestro.KindNotFound, "build %d is not in channel %d", buildID, channelID)
		}
		s.Channels = slices.Delete(s.Channels, i, i+1)
		return nil
	})
	if err != nil {
		return err
	}
	if err := r.st.Delete(ctx, channelBuildsPrefix(channelID)+idKey(buildID), ""); err != nil && !errors.Is(err, store.ErrNotExist) {
		return fmt.Errorf("unindex build %d from channel %d: %w", buildID, channelID, err)
	}
	_, err = update(ctx, r.st, latestKey(channelID, b.Repository), func(d *latestDoc, exists bool) error {
		i := slices.Index(d.IDs, buildID)
		if !exists || i < 0 {
			return errUnchanged
		}
		d.IDs = slices.Delete(d.IDs, i, i+1)
		if len(d.IDs) == 0 {
			ids, err := r.rescanLatest(ctx, b.Repository, channelID, buildID)
			if err != nil {
				return err
			}
			d.IDs = ids
		}
		return nil
	})
	return err
}

// rescanLatest rebuilds a latest-in-channel list from the repository index.
func (r *Registry) rescanLatest(ctx context.Context, repo string, channelID, without int) ([]int, error) {
	keys, err := r.st.List(ctx, repoBuildsPrefix(repo))
	if err != nil {
		return nil, err
	}
	ids := []int{}
	for i := len(keys) - 1; i >= 0 && len(ids) < latestDepth; i-- {
		id, ok := parseIDKey(keys[i])
		if !ok || id == without {
			continue
		}
		var s buildState
		if _, err := getJSON(ctx, r.st, buildStateKey(id), &s); err != nil {
			continue
		}
		if slices.Contains(s.Channels, channelID) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// SetReleased marks a build released or not.
func (r *Registry) SetReleased(ctx context.Context, buildID int, released bool) (maestro.Build, error) {
	if _, err := r.BuildInfo(ctx, buildID); err != nil {
		return maestro.Build{}, err
	}
	_, err := update(ctx, r.st, buildStateKey(buildID), func(s *buildState, _ bool) error {
		if s.Released == released && s.Channels != nil {
			return errUnchanged
		}
		s.Released = released
		if s.Channels == nil {
			s.Channels = []int{}
		}
		return nil
	})
	if err != nil {
		return maestro.Build{}, err
	}
	return r.BuildInfo(ctx, buildID)
}

// BuildInfo returns a build with its channels but without its assets.
func (r *Registry) BuildInfo(ctx context.Context, id int) (maestro.Build, error) {
	var b maestro.Build
	if id <= 0 {
		return b, maestro.Errorf(maestro.KindInvalid, "build id %d: must be a positive number", id)
	}
	if _, err := getJSON(ctx, r.st, buildKey(id), &b); err != nil {
		if errors.Is(err, store.ErrNotExist) {
			return b, maestro.Errorf(maestro.KindNotFound, "build %d does not exist; `maestro build list` shows the builds", id)
		}
		return b, fmt.Errorf("read build %d: %w", id, err)
	}
	var s buildState
	if _, err := getJSON(ctx, r.st, buildStateKey(id), &s); err != nil && !errors.Is(err, store.ErrNotExist) {
		return b, fmt.Errorf("read build %d: %w", id, err)
	}
	b.Released = s.Released
	b.Channels = []maestro.Channel{}
	if len(s.Channels) > 0 {
		all, err := r.Channels(ctx)
		if err != nil {
			return b, err
		}
		for _, c := range all {
			if slices.Contains(s.Channels, c.ID) {
				b.Channels = append(b.Channels, c)
			}
		}
	}
	b.Assets = nil
	return b, nil
}

// Build returns a build with its assets and channels.
func (r *Registry) Build(ctx context.Context, id int) (maestro.Build, error) {
	b, err := r.BuildInfo(ctx, id)
	if err != nil {
		return b, err
	}
	if _, err := getJSON(ctx, r.st, buildAssetsKey(id), &b.Assets); err != nil {
		return b, fmt.Errorf("read assets of build %d: %w", id, err)
	}
	return b, nil
}

// BuildFilter selects builds; zero fields match everything.
type BuildFilter struct {
	Repository string
	Commit     string // needs Repository
	ChannelID  int
	Limit      int // newest first; 0 means 50
}

// Builds returns the newest builds that match f, without assets.
func (r *Registry) Builds(ctx context.Context, f BuildFilter) ([]maestro.Build, error) {
	var prefix string
	switch {
	case f.Repository != "" && f.Commit != "":
		prefix = commitBuildsPrefix(f.Repository, f.Commit)
	case f.Repository != "":
		prefix = repoBuildsPrefix(f.Repository)
	case f.ChannelID != 0:
		prefix = channelBuildsPrefix(f.ChannelID)
	case f.Commit != "":
		return nil, maestro.Errorf(maestro.KindInvalid, "a commit filter needs a repository")
	default:
		prefix = "builds/"
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	keys, err := r.st.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list builds: %w", err)
	}
	var ids []int
	for _, k := range keys {
		if prefix == "builds/" {
			if !strings.HasSuffix(k, "/build.json") {
				continue
			}
			k = strings.TrimSuffix(k, "/build.json")
		}
		if id, ok := parseIDKey(k); ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	slices.Reverse(ids)
	var out []maestro.Build
	for len(ids) > 0 && len(out) < f.Limit {
		batch := ids[:min(len(ids), f.Limit-len(out))]
		ids = ids[len(batch):]
		bs, err := r.buildInfos(ctx, batch)
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if f.ChannelID != 0 && !slices.ContainsFunc(b.Channels, func(c maestro.Channel) bool { return c.ID == f.ChannelID }) {
				continue
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// buildInfos reads builds by id, skipping ids that are not (yet) visible.
func (r *Registry) buildInfos(ctx context.Context, ids []int) ([]maestro.Build, error) {
	bs, err := parallelMap(ctx, ids, func(ctx context.Context, id int) (*maestro.Build, error) {
		b, err := r.BuildInfo(ctx, id)
		if maestro.KindOf(err) == maestro.KindNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &b, nil
	})
	if err != nil {
		return nil, err
	}
	var out []maestro.Build
	for _, b := range bs {
		if b != nil {
			out = append(out, *b)
		}
	}
	return out, nil
}

// LatestBuild returns the newest build of repo in a channel (any channel when
// channelID is 0), with its assets.
func (r *Registry) LatestBuild(ctx context.Context, repo string, channelID int) (maestro.Build, error) {
	var ids []int
	if channelID != 0 {
		var d latestDoc
		if _, err := getJSON(ctx, r.st, latestKey(channelID, repo), &d); err != nil && !errors.Is(err, store.ErrNotExist) {
			return maestro.Build{}, fmt.Errorf("latest build of %s: %w", repo, err)
		}
		ids = d.IDs
	} else {
		keys, err := r.st.List(ctx, repoBuildsPrefix(repo))
		if err != nil {
			return maestro.Build{}, fmt.Errorf("latest build of %s: %w", repo, err)
		}
		for i := len(keys) - 1; i >= 0; i-- {
			if id, ok := parseIDKey(keys[i]); ok {
				ids = append(ids, id)
			}
		}
	}
	for _, id := range ids {
		b, err := r.Build(ctx, id)
		if maestro.KindOf(err) == maestro.KindNotFound {
			continue
		}
		if err != nil {
			return b, err
		}
		if channelID != 0 && !slices.ContainsFunc(b.Channels, func(c maestro.Channel) bool { return c.ID == channelID }) {
			continue
		}
		return b, nil
	}
	if channelID != 0 {
		return maestro.Build{}, maestro.Errorf(maestro.KindNotFound, "no build of %s in channel %d", repo, channelID)
	}
	return maestro.Build{}, maestro.Errorf(maestro.KindNotFound, "no build of %s", repo)
}

// Dependents returns the ids of builds that recorded a dependency on build id.
func (r *Registry) Dependents(ctx context.Context, id int) ([]int, error) {
	keys, err := r.st.List(ctx, dependentsPrefix(id))
	if err != nil {
		return nil, fmt.Errorf("dependents of build %d: %w", id, err)
	}
	var ids []int
	for _, k := range keys {
		if d, ok := parseIDKey(k); ok {
			if _, err := r.BuildInfo(ctx, d); err == nil {
				ids = append(ids, d)
			}
		}
	}
	return ids, nil
}

// TimeToInclusion is the minutes between a dependency's production and the
// production of the build that includes it.
func TimeToInclusion(dep, b maestro.Build) float64 {
	d := b.DateProduced.Sub(dep.DateProduced)
	if d < 0 {
		return 0
	}
	return float64(d.Round(time.Second)) / float64(time.Minute)
}

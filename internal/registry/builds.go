package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// A build is recorded by one create-only write of builds/{id}/build.json, the
// commit point. Everything else a publish writes comes before it and is either
// private to the build id (its assets document, uploaded files) or an index
// entry that readers check against the record: an id in an index whose
// build.json is missing (an interrupted publish, an "orphan") is skipped,
// whatever the number of such ids, because no index drops a real build to make
// room. build.json never changes; what changes later (channels, released)
// lives in state.json, which is absent until the first change. docs/registry.md
// walks through a crash after every step and each concurrent writer.
const (
	buildCounterKey = "meta/counters/build.json"
	// maxAssetsPerBuild bounds asset ids: asset id = build id × maxAssetsPerBuild + index + 1.
	maxAssetsPerBuild = 1_000_000
)

func buildPrefix(id int) string      { return "builds/" + idKey(id) + "/" }
func buildKey(id int) string         { return buildPrefix(id) + "build.json" }
func legacyAssetsKey(id int) string  { return buildPrefix(id) + "assets.json" }
func buildStateKey(id int) string    { return buildPrefix(id) + "state.json" }
func buildFilesPrefix(id int) string { return buildPrefix(id) + "files/" }

// assetsDocKey names a format 1 assets document by its content, so that two
// publishers of one build id (two jobs of one Azure DevOps build) never write
// the same key with different bytes: the record names the one that won. The
// document is a function of the build id and its tails (withIDs), so the
// tails' digest, computed beside the encoding, names it as well as the
// document's own would. A format 2 document is named by its own digest
// (assetsDoc2.key), in the same shape.
func assetsDocKey(id int, t assetTails) string {
	return buildPrefix(id) + "assets-" + hex.EncodeToString(t.sum[:8]) + ".json"
}

// idKey formats a build id so that byte order is numeric order.
func idKey(id int) string { return fmt.Sprintf("%012d", id) }

// Id lists (idlist.go) of builds.
func repoListPrefix(repo string) string { return "index/builds/by-repo/" + repourl.Key(repo) + "/" }
func channelListPrefix(channelID int) string {
	return fmt.Sprintf("index/builds/by-channel/%d/", channelID)
}
func channelRepoListPrefix(channelID int, repo string) string {
	return fmt.Sprintf("index/builds/by-channel-repo/%d/%s/", channelID, repourl.Key(repo))
}

// Id sets (idset.go): the few builds of one commit, or that depend on one build.
func commitBuildsPrefix(repo, commit string) string {
	return "index/builds/commit/" + repourl.Key(repo) + "/" + strings.ToLower(commit) + "/"
}
func dependentsPrefix(id int) string { return "index/builds/dependents/" + idKey(id) + "/" }

// Claims: which build id an Azure DevOps build (or, without Azure DevOps ids,
// a publish of the same repository, branch, commit and assets) holds.
const (
	azdoClaimPrefix    = "index/builds/azdo/"
	attemptClaimPrefix = "index/builds/attempt/"
	// promotedClaimPrefix holds the claim of the mainline build promoted
	// from a speculative build, by the speculative build's id.
	promotedClaimPrefix = "index/builds/promoted/"
)

// isClaimKey reports whether key is a claim.
func isClaimKey(key string) bool {
	return strings.HasPrefix(key, azdoClaimPrefix) || strings.HasPrefix(key, attemptClaimPrefix) || strings.HasPrefix(key, promotedClaimPrefix)
}

// claimIsTheBuild reports whether a recorded build under b's claim is b
// itself (an Azure DevOps build, or the promotion of one speculative
// build), rather than an earlier build of the same content.
func claimIsTheBuild(b maestro.Build) bool { return b.PromotedFrom != 0 || hasAzDO(b) }

func hasAzDO(b maestro.Build) bool {
	return b.AzureDevOpsBuildID != 0 && b.AzureDevOpsAccount != "" && b.AzureDevOpsProject != ""
}

func claimKey(b maestro.Build) string {
	if b.PromotedFrom != 0 {
		return promotedClaimPrefix + idKey(b.PromotedFrom) + ".json"
	}
	if hasAzDO(b) {
		sum := sha256.Sum256([]byte(strings.ToLower(b.AzureDevOpsAccount + "/" + b.AzureDevOpsProject)))
		return fmt.Sprintf("%s%s/%d.json", azdoClaimPrefix, hex.EncodeToString(sum[:8]), b.AzureDevOpsBuildID)
	}
	h := sha256.New()
	for _, s := range []string{repourl.Normalize(b.Repository), b.Branch, strings.ToLower(b.Commit)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, a := range sortedAssetKeys(b.Assets) {
		h.Write([]byte(a))
		h.Write([]byte{0})
	}
	if b.ProductBuild != "" {
		// Two product builds that build the same content make two builds,
		// each with its own run's upstream builds as dependencies.
		h.Write([]byte("product-build\x00" + b.ProductBuild))
	}
	return attemptClaimPrefix + hex.EncodeToString(h.Sum(nil)[:16]) + ".json"
}

// sortedAssetKeys returns "name\x00version" of every asset, names lower-cased, sorted.
func sortedAssetKeys(as []maestro.Asset) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = strings.ToLower(a.Name) + "\x00" + a.Version
	}
	slices.Sort(out)
	return out
}

type counterDoc struct {
	Next int `json:"next"`
}

// claimDoc is the content of a claim: the build id and when the publish that
// holds it started (repair leaves younger unfinished builds alone).
type claimDoc struct {
	ID      int       `json:"id"`
	Started time.Time `json:"started,omitzero"`
}

// buildRecord is build.json. Assets and Channels of the embedded build are
// not stored: the assets live in AssetsDocument, the channels the build was
// published to in InitialChannels (state.json overrides them once changed).
// Collected marks an id that `registry repair` took from an unfinished publish.
type buildRecord struct {
	maestro.Build
	InitialChannels []int  `json:"initialChannels,omitempty"`
	AssetsDocument  string `json:"assetsDocument,omitempty"`
	Collected       bool   `json:"collected,omitempty"`
}

func (rec buildRecord) assetsKey() string {
	if rec.AssetsDocument != "" {
		return rec.AssetsDocument
	}
	return legacyAssetsKey(rec.ID)
}

type buildState struct {
	Channels []int `json:"channels"`
	Released bool  `json:"released"`
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
	// NoDefaultChannels adds the build to Channels only.
	NoDefaultChannels bool
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

// errCollected: `registry repair` took the build id of this publish while it
// ran; the publish starts again with a new id.
var errCollected = errors.New("build id collected by registry repair")

// PublishBuild records a build with its assets and dependencies, assigns it to
// the channels of its matching enabled default channels and opts.Channels,
// and returns it with its BAR id.
//
// Publishing an Azure DevOps build (account, project, build id) that is
// recorded already adds any new channels and returns the record (Existing);
// if the record lacks some of b's assets, it fails with KindConflict naming
// them, because a record never changes (docs/registry.md: "One Azure DevOps
// build, many jobs"). A publish that was interrupted is finished by running
// it again: it takes the same build id and rewrites the same documents.
func (r *Registry) PublishBuild(ctx context.Context, b maestro.Build, opts PublishOptions) (PublishResult, error) {
	b.Branch = trimRefsHeads(b.Branch)
	// What the publish reads before its first write, and the index
	// documents it then changes, read side by side from the start: reads
	// change nothing, so they need not wait for the check (a publish still
	// writes nothing before its input is checked), and each index write
	// still carries the ETag of what it read, so one read early is no less
	// safe than one read late.
	keys := []string{channelsKey, defaultChannelsKey, claimKey(b), buildCounterKey}
	known := int(r.format.Load())
	if known == 0 {
		keys = append(keys, formatKey)
	}
	pub := *r
	pub.st = withReadAhead(ctx, r.st, keys, indexReadKeys(b))
	r = &pub
	// The assets document is encoded on another core while the build is
	// checked and its id claimed: pure computation, dropped if the check
	// fails. A registry whose version is not known yet gets the current
	// format's encoding, and the other once its marker says so. Uploads add
	// locations that name the id, so their document waits for it.
	var enc chan assetsEncoding
	if len(opts.Files) == 0 {
		guess := known
		if guess == 0 {
			guess = FormatVersion
		}
		enc = make(chan assetsEncoding, 1)
		go func() { enc <- encodeAssets(guess, b.Assets) }()
	}
	lowered, err := validateBuild(b, opts.Files)
	if err != nil {
		return PublishResult{}, err
	}
	// The asset-name index's digest is computed while the id is claimed,
	// from the names the check lower-cased.
	names := make(chan assetNameSet, 1)
	go func() { names <- newAssetNameSet(lowered) }()
	version, err := r.formatVersion(ctx, r.st)
	if err != nil {
		return PublishResult{}, err
	}
	chans, err := r.channelMap(ctx)
	if err != nil {
		return PublishResult{}, err
	}
	for _, id := range opts.Channels {
		if _, ok := chans[id]; !ok {
			return PublishResult{}, maestro.Errorf(maestro.KindNotFound, "channel %d does not exist; `maestro channel list` shows the channels", id)
		}
	}
	dcs, err := r.DefaultChannels(ctx)
	if err != nil {
		return PublishResult{}, err
	}
	channels := MatchDefaultChannels(dcs, b.Repository, b.Branch)
	if opts.NoDefaultChannels {
		channels = nil
	}
	for _, id := range opts.Channels {
		if !slices.Contains(channels, id) {
			channels = append(channels, id)
		}
	}
	slices.Sort(channels)
	for range 3 {
		res, err := r.publishOnce(ctx, b, opts, channels, chans, version, enc, names)
		if errors.Is(err, errCollected) {
			continue
		}
		return res, err
	}
	return PublishResult{}, maestro.Errorf(maestro.KindConflict, "publish: `registry repair` collected the build id three times while this publish ran; run it again")
}

// assetsEncoding is a build's assets document encoded for a registry of a
// format version, all but what needs the build id.
type assetsEncoding struct {
	version int
	tails   assetTails // version 1: the document but its ids
	doc     assetsDoc2 // version 2 on: the whole document
}

func encodeAssets(version int, as []maestro.Asset) assetsEncoding {
	if version >= 2 {
		return assetsEncoding{version: version, doc: encodeAssetsDoc2(as)}
	}
	return assetsEncoding{version: 1, tails: encodeAssetTails(as)}
}

// document returns the key and bytes of the assets document of build id.
func (e assetsEncoding) document(id int) (string, []byte) {
	if e.version >= 2 {
		return e.doc.key(id), e.doc.data
	}
	return assetsDocKey(id, e.tails), e.tails.withIDs(id*maxAssetsPerBuild + 1)
}

func (r *Registry) publishOnce(ctx context.Context, b maestro.Build, opts PublishOptions, channels []int, chans channelNames, version int, enc chan assetsEncoding, names chan assetNameSet) (PublishResult, error) {
	id, existing, err := r.claimID(ctx, b)
	if err != nil {
		return PublishResult{}, err
	}
	if existing != nil {
		return r.publishExisting(ctx, b, *existing, channels)
	}

	b.ID = id
	if b.DateProduced.IsZero() {
		b.DateProduced = r.now().UTC()
	}
	// The caller's assets are not changed: uploads add locations to a copy,
	// and the result's assets (with their ids, which nothing written needs)
	// are copied while the record is written, not before the writes that
	// the store waits on.
	cloned := len(opts.Files) > 0
	if cloned {
		b.Assets = slices.Clone(b.Assets)
	}
	if err := r.upload(ctx, &b, opts); err != nil {
		return PublishResult{}, err
	}
	// The indexes and the assets document are independent of each other and
	// all come before the commit point, so they are written side by side;
	// what of the document needs the id goes in while the index writes
	// wait on the store.
	var wg sync.WaitGroup
	var putErr error
	var assetsKey string
	wg.Add(1)
	go func() {
		defer wg.Done()
		var e assetsEncoding
		if enc != nil {
			e = <-enc
			enc <- e // for another attempt
		}
		if enc == nil || e.version != version {
			e = encodeAssets(version, b.Assets)
		}
		var data []byte
		assetsKey, data = e.document(id)
		if _, err := r.st.Put(ctx, assetsKey, data, store.Condition{}); err != nil {
			putErr = fmt.Errorf("write assets of build %d: %w", id, err)
		}
	}()
	idxErr := r.writeBuildIndexes(ctx, b, channels, names)
	wg.Wait()
	if err := errors.Join(putErr, idxErr); err != nil {
		return PublishResult{}, err
	}
	rec := buildRecord{Build: b, InitialChannels: channels, AssetsDocument: assetsKey}
	rec.Assets, rec.Channels = nil, nil
	// The result's assets with their ids (which nothing written needs) are
	// made while the store commits the record: copying 20,000 assets after
	// the commit would add to the command's time.
	withIDs := make(chan []maestro.Asset, 1)
	go func() {
		as := b.Assets
		if !cloned {
			as = slices.Clone(as)
		}
		for i := range as {
			as[i].ID = id*maxAssetsPerBuild + i + 1
		}
		withIDs <- as
	}()
	err = putJSON(ctx, r.st, buildKey(id), rec, store.Condition{CreateOnly: true})
	b.Assets = <-withIDs
	if errors.Is(err, store.ErrPrecondition) {
		// Someone committed this id first: another job of the same Azure
		// DevOps build, or repair collecting an unfinished publish.
		won, rerr := r.readRecord(ctx, id)
		if rerr != nil {
			return PublishResult{}, fmt.Errorf("read build %d: %w", id, rerr)
		}
		if won.Collected {
			return PublishResult{}, errCollected
		}
		if won.AssetsDocument != assetsKey {
			r.deleteKeys(ctx, []string{assetsKey})
		}
		return r.publishExisting(ctx, b, won, channels)
	}
	if err != nil {
		return PublishResult{}, fmt.Errorf("write build %d: %w", id, err)
	}
	// The result needs no read back: the build became visible with this write.
	b.Channels = []maestro.Channel{}
	for _, c := range channels {
		b.Channels = append(b.Channels, chans[c])
	}
	return PublishResult{Build: b, NewChannels: channels}, nil
}

// claimID returns the build id b's publish writes under: the id of an earlier
// unfinished attempt of the same build (so a rerun finishes it), else a new
// one. For an Azure DevOps build that is recorded already it returns the
// record instead.
func (r *Registry) claimID(ctx context.Context, b maestro.Build) (int, *buildRecord, error) {
	key := claimKey(b)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		var c claimDoc
		etag, err := getJSON(ctx, r.st, key, &c)
		cond := store.Condition{CreateOnly: true}
		switch {
		case err == nil:
			rec, err := r.readRecord(ctx, c.ID)
			switch {
			case errors.Is(err, store.ErrNotExist):
				return c.ID, nil, nil // finish the earlier attempt
			case err != nil:
				return 0, nil, fmt.Errorf("read build %d: %w", c.ID, err)
			case !rec.Collected && claimIsTheBuild(b):
				return c.ID, &rec, nil
			}
			// The earlier attempt was collected, or (without Azure DevOps
			// ids) an identical build was recorded: a new build id.
			cond = store.Condition{IfMatch: etag}
		case !errors.Is(err, store.ErrNotExist):
			return 0, nil, fmt.Errorf("read %s: %w", key, err)
		}
		id, err := r.allocateID(ctx)
		if err != nil {
			return 0, nil, err
		}
		err = putJSON(ctx, r.st, key, claimDoc{ID: id, Started: r.now().UTC()}, cond)
		if err == nil {
			return id, nil, nil
		}
		if !errors.Is(err, store.ErrPrecondition) {
			return 0, nil, fmt.Errorf("record the build id of Azure DevOps build %d: %w", b.AzureDevOpsBuildID, err)
		}
		// Another publisher of the same build claimed first; take its id.
		// The id allocated here stays unused, which is harmless.
		if err := backoff(ctx, attempt); err != nil {
			return 0, nil, err
		}
	}
	return 0, nil, maestro.Errorf(maestro.KindConflict, "claim %s: gave up after %d concurrent changes; try again", key, maxAttempts)
}

func (r *Registry) allocateID(ctx context.Context) (int, error) {
	c, err := update(ctx, r.st, buildCounterKey, func(c *counterDoc, _ bool) error {
		c.Next = max(c.Next, r.firstID, 1) + 1
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("allocate build id: %w", err)
	}
	return c.Next - 1, nil
}

// publishExisting handles a publish of a build that is recorded already: it
// adds the channels the record is not in yet, and refuses assets the record
// lacks (a record never changes).
func (r *Registry) publishExisting(ctx context.Context, b maestro.Build, rec buildRecord, channels []int) (PublishResult, error) {
	recorded, err := r.readAssets(ctx, rec)
	if err != nil {
		return PublishResult{}, err
	}
	if missing := missingAssets(recorded, b.Assets); len(missing) > 0 {
		more := ""
		if len(missing) > 5 {
			more = fmt.Sprintf(" and %d more", len(missing)-5)
			missing = missing[:5]
		}
		return PublishResult{}, maestro.Errorf(maestro.KindConflict,
			"Azure DevOps build %d is recorded already as BAR build %d, without %s%s: a build is recorded once, from all of its manifests; "+
				"publish every job's manifest in one step from a job that runs after the others (`maestro publish --manifest 'DIR/**/*.xml'`)",
			b.AzureDevOpsBuildID, rec.ID, strings.Join(missing, ", "), more)
	}
	var added []int
	for _, c := range channels {
		ok, err := r.addBuildToChannel(ctx, rec, c)
		if err != nil {
			return PublishResult{}, err
		}
		if ok {
			added = append(added, c)
		}
	}
	got, err := r.Build(ctx, rec.ID)
	return PublishResult{Build: got, Existing: true, NewChannels: added}, err
}

// missingAssets lists "name version" of the assets of want that recorded
// lacks (by name, case-insensitive, and version).
func missingAssets(recorded, want []maestro.Asset) []string {
	have := make(map[string]string, len(recorded))
	for _, a := range recorded {
		have[strings.ToLower(a.Name)] = a.Version
	}
	var out []string
	for _, a := range want {
		if v, ok := have[strings.ToLower(a.Name)]; !ok || v != a.Version {
			out = append(out, a.Name+" "+a.Version)
		}
	}
	return out
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

// buildIndexWrites returns every index write that records b (in channels):
// the repository list, the commit, dependency and asset-version sets, the
// asset names, and the channel lists. Each is idempotent.
//
// names, if not nil, delivers the build's asset name set (and is given it
// back, for another attempt); without it the set is made here.
func (r *Registry) buildIndexWrites(b maestro.Build, channels []int, names chan assetNameSet) []func(context.Context) error {
	set := func(k string) func(context.Context) error {
		return func(ctx context.Context) error { return r.setAdd(ctx, k, b.ID) }
	}
	list := func(prefix string) func(context.Context) error {
		return func(ctx context.Context) error { return r.listAdd(ctx, prefix, b.ID) }
	}
	ws := []func(context.Context) error{
		list(repoListPrefix(b.Repository)),
		set(commitSetKey(b.Repository, b.Commit)),
		func(ctx context.Context) error {
			var set assetNameSet
			if names != nil {
				set = <-names
				names <- set
			} else {
				set = newAssetNameSet(lowerAssetNames(b.Assets))
			}
			return r.indexAssetNames(ctx, b.Repository, set)
		},
	}
	for _, d := range b.Dependencies {
		ws = append(ws, set(dependentsSetKey(d.BuildID)))
	}
	for _, v := range assetVersions(b.Assets) {
		ws = append(ws, set(versionSetKey(b.Repository, v)))
	}
	for _, c := range channels {
		ws = append(ws, list(channelListPrefix(c)), list(channelRepoListPrefix(c, b.Repository)))
	}
	return ws
}

// indexReadKeys lists the documents buildIndexWrites reads first, but the
// channel lists (which channels the build joins is not known before the
// default channels are read).
func indexReadKeys(b maestro.Build) []string {
	keys := []string{listHeadKey(repoListPrefix(b.Repository)), commitSetKey(b.Repository, b.Commit), repoAssetsKey(b.Repository)}
	for _, d := range b.Dependencies {
		keys = append(keys, dependentsSetKey(d.BuildID))
	}
	for _, v := range assetVersions(b.Assets) {
		keys = append(keys, versionSetKey(b.Repository, v))
	}
	return keys
}

// writeBuildIndexes performs buildIndexWrites side by side.
func (r *Registry) writeBuildIndexes(ctx context.Context, b maestro.Build, channels []int, names chan assetNameSet) error {
	err := parallelDo(ctx, r.buildIndexWrites(b, channels, names), func(ctx context.Context, w func(context.Context) error) error {
		return w(ctx)
	})
	if err != nil {
		return fmt.Errorf("index build %d: %w", b.ID, err)
	}
	return nil
}

// readRecord reads build.json of id (store.ErrNotExist when absent).
func (r *Registry) readRecord(ctx context.Context, id int) (buildRecord, error) {
	var rec buildRecord
	data, _, err := r.st.Get(ctx, buildKey(id))
	if err != nil {
		return rec, err
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&rec); err != nil {
		return rec, fmt.Errorf("decode %s: %w", buildKey(id), err)
	}
	return rec, nil
}

// visibleRecord reads the record of a build a reader may see: NotFound
// unless build.json exists and was not collected.
func (r *Registry) visibleRecord(ctx context.Context, id int) (buildRecord, error) {
	if id <= 0 {
		return buildRecord{}, maestro.Errorf(maestro.KindInvalid, "build id %d: must be a positive number", id)
	}
	rec, err := r.readRecord(ctx, id)
	if errors.Is(err, store.ErrNotExist) || (err == nil && rec.Collected) {
		return rec, maestro.Errorf(maestro.KindNotFound, "build %d does not exist; `maestro build list` shows the builds", id)
	}
	if err != nil {
		return rec, fmt.Errorf("read build %d: %w", id, err)
	}
	return rec, nil
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

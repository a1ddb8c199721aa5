package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Check reads the whole registry (it is the one operation whose cost grows
// with it) and reports what disagrees with the build records; Repair fixes
// what Check found. docs/registry.md, "Check and repair", says why Repair is
// safe while publishes and channel changes run.

// Problem kinds.
const (
	ProblemUnfinished = "unfinished-build"   // index entries or documents of an id without build.json
	ProblemStale      = "stale-entry"        // an index entry the build's record or state disagrees with
	ProblemMissing    = "missing-entry"      // an index entry the build's record or state calls for is absent
	ProblemCounter    = "counter-behind"     // the build counter is not above every id in use
	ProblemDangling   = "dangling-reference" // a subscription or default channel names a deleted channel
	ProblemGarbage    = "garbage"            // a document nothing references
	// ProblemUnfinishedClaim: a tracked pull request record without a pull
	// request (an update died after claiming its branch); repair leaves it
	// to the next update, which can see the branch.
	ProblemUnfinishedClaim = "unfinished-claim"
)

// Problem is one thing Check found.
type Problem struct {
	Kind    string   `json:"kind"`
	BuildID int      `json:"buildId,omitempty"`
	Keys    []string `json:"keys,omitempty"`
	Detail  string   `json:"detail"`
	// Skipped says why Repair left the problem alone (a publish that may still run).
	Skipped string `json:"skipped,omitempty"`
	fix     func(context.Context) error
}

// CheckReport is what Check found.
type CheckReport struct {
	Builds   int       `json:"builds"`
	Problems []Problem `json:"problems"`
}

// Clean reports whether Check found nothing.
func (c CheckReport) Clean() bool { return len(c.Problems) == 0 }

// RepairOptions are the choices of one repair.
type RepairOptions struct {
	// DryRun reports what would be done and writes nothing.
	DryRun bool
	// MinAge: an unfinished build whose publish started less than MinAge ago
	// is left alone (it may still be running).
	MinAge time.Duration
}

// pageGrace is how old an unreferenced id-list page must be before Check
// calls it garbage: a writer references its new page within one
// read-modify-write, far less than this.
const pageGrace = 10 * time.Minute

// Obsolete index prefixes of the earlier layout; Repair deletes them once the
// lists above replace them.
var obsoletePrefixes = []string{"index/builds/repo/", "index/builds/channel/", "index/builds/latest/"}

// scan is what Check read.
type scan struct {
	counter  int
	records  map[int]buildRecord // ids with build.json (collected included)
	states   map[int]buildState  // the membership of every visible record
	versions map[int][]string    // asset versions of every visible record
	names    map[int][]string    // lower-cased asset names of every visible record
	docs     map[int][]string    // keys under builds/{id}/ besides build.json
	claims   map[int]claimDoc    // current claims by id
	refs     map[int][]string    // index keys that reference an id
	obsolete []string            // the earlier layout's markers
	maxID    int
}

func (s *scan) ref(id int, key string) {
	s.refs[id] = append(s.refs[id], key)
	s.maxID = max(s.maxID, id)
}

// visible reports whether id has a real (not collected) record.
func (s *scan) visible(id int) bool {
	rec, ok := s.records[id]
	return ok && !rec.Collected
}

// Check reads the registry and lists its problems; it writes nothing.
func (r *Registry) Check(ctx context.Context) (CheckReport, error) {
	s, err := r.scan(ctx)
	if err != nil {
		return CheckReport{}, err
	}
	rep, err := r.check(ctx, s)
	if err != nil {
		return rep, err
	}
	return r.withSpeculative(ctx, rep, func(spec *Registry) (CheckReport, error) { return spec.Check(ctx) })
}

// withSpeculative adds to rep, of the registry, what fn reports of its
// speculative registry (speculative.go), which keeps builds by the same
// protocol under the prefix speculative/: the same problems, with the same
// fixes, their keys named with the prefix.
func (r *Registry) withSpeculative(ctx context.Context, rep CheckReport, fn func(*Registry) (CheckReport, error)) (CheckReport, error) {
	if r.firstID >= SpeculativeIDBase {
		return rep, nil
	}
	spec, err := r.Speculative(ctx)
	if err != nil {
		return rep, err
	}
	sr, err := fn(spec)
	if err != nil {
		return rep, fmt.Errorf("speculative builds: %w", err)
	}
	rep.Builds += sr.Builds
	for _, p := range sr.Problems {
		for i, k := range p.Keys {
			p.Keys[i] = speculativePrefix + k
		}
		p.Detail = "speculative builds: " + p.Detail
		rep.Problems = append(rep.Problems, p)
	}
	return rep, nil
}

func (r *Registry) check(ctx context.Context, s *scan) (CheckReport, error) {
	var probs []Problem
	add := func(p Problem) { probs = append(probs, p) }
	now := r.now()

	// Build documents.
	for id, keys := range s.docs {
		rec, ok := s.records[id]
		switch {
		case !ok:
			continue // reported with the unfinished build below
		case rec.Collected:
			add(Problem{Kind: ProblemGarbage, BuildID: id, Keys: keys, Detail: fmt.Sprintf("documents of build %d, whose unfinished publish was collected", id),
				fix: r.deleteFix(keys)})
		default:
			var extra []string
			for _, k := range keys {
				if strings.HasPrefix(k, buildPrefix(id)+"assets-") && k != rec.assetsKey() {
					extra = append(extra, k)
				}
			}
			if len(extra) > 0 {
				add(Problem{Kind: ProblemGarbage, BuildID: id, Keys: extra, Detail: fmt.Sprintf("assets documents of build %d that its record does not name (a job that lost the race to record the build)", id),
					fix: r.deleteFix(extra)})
			}
		}
	}

	// Unfinished builds: ids referenced or with documents but no build.json.
	unfinished := map[int]bool{}
	for id := range s.refs {
		if _, ok := s.records[id]; !ok {
			unfinished[id] = true
		}
	}
	for id := range s.docs {
		if _, ok := s.records[id]; !ok {
			unfinished[id] = true
		}
	}
	for _, id := range sortedKeys(unfinished) {
		keys := slices.Concat(s.refs[id], s.docs[id])
		slices.Sort(keys)
		p := Problem{Kind: ProblemUnfinished, BuildID: id, Keys: keys,
			Detail: fmt.Sprintf("build %d has %d index entries or documents but no build.json: a publish that was interrupted (or is still running)", id, len(keys))}
		if c, ok := s.claims[id]; ok {
			age := now.Sub(c.Started)
			p.Detail += fmt.Sprintf("; its publish started %s ago", age.Round(time.Second))
		}
		p.fix = r.collectFix(id, keys)
		add(p)
	}

	// Index entries of visible builds: stale and missing ones.
	probs = append(probs, r.checkEntries(ctx, s)...)

	// Counter.
	if s.maxID >= s.counter && s.maxID > 0 {
		add(Problem{Kind: ProblemCounter, Keys: []string{buildCounterKey},
			Detail: fmt.Sprintf("the build counter's next id is %d but id %d is in use", s.counter, s.maxID),
			fix: func(ctx context.Context) error {
				_, err := update(ctx, r.st, buildCounterKey, func(c *counterDoc, _ bool) error {
					if c.Next > s.maxID {
						return errUnchanged
					}
					c.Next = s.maxID + 1
					return nil
				})
				return err
			}})
	}

	// Garbage pages and obsolete indexes.
	more, err := r.checkPagesAndObsolete(ctx, now)
	if err != nil {
		return CheckReport{}, err
	}
	probs = append(probs, more...)
	if len(s.obsolete) > 0 {
		add(Problem{Kind: ProblemGarbage, Keys: s.obsolete[:min(len(s.obsolete), 5)],
			Detail: fmt.Sprintf("%d markers of the earlier index layout (the id sets replace them)", len(s.obsolete)), fix: r.deleteFix(s.obsolete)})
	}

	// Dangling references to deleted channels.
	more, err = r.checkDangling(ctx)
	if err != nil {
		return CheckReport{}, err
	}
	probs = append(probs, more...)

	// Flow history and pull request claims.
	more, err = r.checkOutcomes(ctx)
	if err != nil {
		return CheckReport{}, err
	}
	probs = append(probs, more...)
	more, err = r.checkClaims(ctx)
	if err != nil {
		return CheckReport{}, err
	}
	probs = append(probs, more...)

	slices.SortStableFunc(probs, func(a, b Problem) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return a.BuildID - b.BuildID
	})
	n := 0
	for id := range s.records {
		if s.visible(id) {
			n++
		}
	}
	return CheckReport{Builds: n, Problems: probs}, nil
}

// Repair fixes what Check finds. Every fix is idempotent and safe beside
// running publishes and channel changes; an unfinished build younger than
// opts.MinAge is skipped. It returns the problems it fixed (or, with DryRun,
// would fix) and those it skipped.
func (r *Registry) Repair(ctx context.Context, opts RepairOptions) (CheckReport, error) {
	s, err := r.scan(ctx)
	if err != nil {
		return CheckReport{}, err
	}
	rep, err := r.check(ctx, s)
	if err != nil {
		return CheckReport{}, err
	}
	now := r.now()
	// Unfinished builds first: their collection fences the id before its
	// entries go, so the fixes that follow never race the build's publish.
	slices.SortStableFunc(rep.Problems, func(a, b Problem) int {
		return boolInt(b.Kind == ProblemUnfinished) - boolInt(a.Kind == ProblemUnfinished)
	})
	for i := range rep.Problems {
		p := &rep.Problems[i]
		if p.Kind == ProblemUnfinished {
			if c, ok := s.claims[p.BuildID]; ok && now.Sub(c.Started) < opts.MinAge {
				p.Skipped = fmt.Sprintf("its publish started %s ago, less than --min-age %s: it may still be running", now.Sub(c.Started).Round(time.Second), opts.MinAge)
				continue
			}
		}
		if p.Kind == ProblemUnfinishedClaim {
			p.Skipped = "the next update of that pull request repairs it (the registry cannot see the branch)"
			continue
		}
		if opts.DryRun || p.fix == nil {
			continue
		}
		if err := p.fix(ctx); err != nil {
			return rep, fmt.Errorf("repair %s of build %d: %w", p.Kind, p.BuildID, err)
		}
	}
	return r.withSpeculative(ctx, rep, func(spec *Registry) (CheckReport, error) { return spec.Repair(ctx, opts) })
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sortedKeys[V any](m map[int]V) []int {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// deleteFix deletes keys (those already gone are fine).
func (r *Registry) deleteFix(keys []string) func(context.Context) error {
	return func(ctx context.Context) error {
		return parallelDo(ctx, keys, func(ctx context.Context, k string) error {
			if err := r.st.Delete(ctx, k, ""); err != nil && !errors.Is(err, store.ErrNotExist) {
				return err
			}
			return nil
		})
	}
}

// collectFix fences an unfinished build id with a collected build.json,
// written create-only exactly as a publish commits, and then removes what
// references the id. If the publish commits first, the id is a real build
// and nothing is removed; if the fence wins, the publish's own commit fails
// and it starts again under a new id (PublishBuild).
func (r *Registry) collectFix(id int, keys []string) func(context.Context) error {
	return func(ctx context.Context) error {
		rec := buildRecord{Build: maestro.Build{ID: id}, Collected: true}
		err := putJSON(ctx, r.st, buildKey(id), rec, store.Condition{CreateOnly: true})
		if errors.Is(err, store.ErrPrecondition) {
			got, err := r.readRecord(ctx, id)
			if err != nil {
				return err
			}
			if !got.Collected {
				return nil // the publish finished meanwhile
			}
		} else if err != nil {
			return err
		}
		return parallelDo(ctx, keys, func(ctx context.Context, k string) error {
			return r.removeRef(ctx, k, id)
		})
	}
}

// removeRef removes id from the index entry at key: an id list's head.json
// or page, or a marker / document to delete.
func (r *Registry) removeRef(ctx context.Context, key string, id int) error {
	if prefix, ok := listPrefixOf(key); ok {
		return r.listRemove(ctx, prefix, id)
	}
	if isIDSet(key) {
		return r.setRemove(ctx, key, id)
	}
	if isClaimKey(key) {
		// A claim of a collected id is left: the next publish of that build
		// replaces it under its ETag.
		return nil
	}
	if err := r.st.Delete(ctx, key, ""); err != nil && !errors.Is(err, store.ErrNotExist) {
		return err
	}
	return nil
}

// listPrefixOf returns the id list a head.json or page key belongs to.
func listPrefixOf(key string) (string, bool) {
	if p, ok := strings.CutSuffix(key, "head.json"); ok && isListPrefix(p) {
		return p, true
	}
	if i := strings.LastIndex(key, "/pages/"); i >= 0 && isListPrefix(key[:i+1]) {
		return key[:i+1], true
	}
	return "", false
}

func isListPrefix(p string) bool {
	for _, root := range []string{"index/builds/by-repo/", "index/builds/by-channel/", "index/builds/by-channel-repo/"} {
		if strings.HasPrefix(p, root) {
			return true
		}
	}
	return false
}

// scan reads every build document, claim and index entry.
func (r *Registry) scan(ctx context.Context) (*scan, error) {
	s := &scan{records: map[int]buildRecord{}, states: map[int]buildState{}, versions: map[int][]string{},
		names: map[int][]string{}, docs: map[int][]string{}, claims: map[int]claimDoc{}, refs: map[int][]string{}}
	var c counterDoc
	if _, err := getJSON(ctx, r.st, buildCounterKey, &c); err != nil && !errors.Is(err, store.ErrNotExist) {
		return nil, err
	}
	s.counter = c.Next
	keys, err := r.st.List(ctx, "builds/")
	if err != nil {
		return nil, fmt.Errorf("list builds: %w", err)
	}
	var ids []int
	for _, k := range keys {
		rest := strings.TrimPrefix(k, "builds/")
		idPart, name, _ := strings.Cut(rest, "/")
		id, err := strconv.Atoi(idPart)
		if err != nil {
			continue
		}
		s.maxID = max(s.maxID, id)
		if name == "build.json" {
			ids = append(ids, id)
			continue
		}
		s.docs[id] = append(s.docs[id], k)
	}
	type built struct {
		rec      buildRecord
		state    buildState
		versions []string
		names    []string
	}
	got, err := parallelMap(ctx, ids, func(ctx context.Context, id int) (built, error) {
		rec, err := r.readRecord(ctx, id)
		if err != nil {
			return built{}, fmt.Errorf("read build %d: %w", id, err)
		}
		if rec.Collected {
			return built{rec: rec}, nil
		}
		st, err := r.state(ctx, rec)
		if err != nil {
			return built{}, err
		}
		as, err := r.readAssets(ctx, rec)
		if err != nil {
			return built{}, err
		}
		var names []string
		for _, a := range as {
			names = append(names, strings.ToLower(a.Name))
		}
		return built{rec: rec, state: st, versions: assetVersions(as), names: names}, nil
	})
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		s.records[id] = got[i].rec
		if !got[i].rec.Collected {
			s.states[id] = got[i].state
			s.versions[id] = got[i].versions
			s.names[id] = got[i].names
		}
	}
	// Claims.
	for _, prefix := range []string{azdoClaimPrefix, attemptClaimPrefix, promotedClaimPrefix} {
		keys, err := r.st.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		claims, err := parallelMap(ctx, keys, func(ctx context.Context, k string) (claimDoc, error) {
			var c claimDoc
			_, err := getJSON(ctx, r.st, k, &c)
			return c, err
		})
		if err != nil {
			return nil, err
		}
		for i, c := range claims {
			s.claims[c.ID] = c
			s.ref(c.ID, keys[i])
		}
	}
	// Id sets; anything else under their roots is the earlier layout's markers.
	for _, prefix := range idSetRoots {
		keys, err := r.st.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		var sets []string
		for _, k := range keys {
			if isIDSet(k) {
				sets = append(sets, k)
			} else {
				s.obsolete = append(s.obsolete, k)
			}
		}
		members, err := parallelMap(ctx, sets, r.setIDs)
		if err != nil {
			return nil, err
		}
		for i, ids := range members {
			for _, id := range ids {
				s.ref(id, sets[i])
			}
		}
	}
	// Id lists.
	heads, err := r.listHeads(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range heads {
		ids, _, err := r.listAll(ctx, h)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			s.ref(id, listHeadKey(h))
		}
	}
	// A claim's id is "referenced" only while unfinished; a finished or
	// collected build's claim is where it should be.
	for id, keys := range s.refs {
		if _, ok := s.records[id]; ok {
			s.refs[id] = slices.DeleteFunc(keys, func(k string) bool {
				return isClaimKey(k)
			})
		}
	}
	return s, nil
}

// listHeads returns the prefixes of every id list.
func (r *Registry) listHeads(ctx context.Context) ([]string, error) {
	var out []string
	for _, root := range []string{"index/builds/by-repo/", "index/builds/by-channel/", "index/builds/by-channel-repo/"} {
		keys, err := r.st.List(ctx, root)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if p, ok := strings.CutSuffix(k, "/head.json"); ok {
				out = append(out, p+"/")
			}
		}
	}
	return out, nil
}

// checkEntries compares every index entry of a visible build with its record
// and state, both ways.
func (r *Registry) checkEntries(ctx context.Context, s *scan) []Problem {
	var probs []Problem
	want := map[int]map[string]bool{} // id → expected entry keys (markers and list heads)
	for id, rec := range s.records {
		if rec.Collected {
			continue
		}
		w := map[string]bool{
			listHeadKey(repoListPrefix(rec.Repository)): true,
			commitSetKey(rec.Repository, rec.Commit):    true,
		}
		for _, d := range rec.Dependencies {
			w[dependentsSetKey(d.BuildID)] = true
		}
		for _, v := range s.versions[id] {
			w[versionSetKey(rec.Repository, v)] = true
		}
		for _, c := range s.states[id].Channels {
			w[listHeadKey(channelListPrefix(c))] = true
			w[listHeadKey(channelRepoListPrefix(c, rec.Repository))] = true
		}
		want[id] = w
	}
	for _, id := range sortedKeys(want) {
		rec := s.records[id]
		have := map[string]bool{}
		for _, k := range s.refs[id] {
			have[k] = true
		}
		var stale, missing []string
		for k := range have {
			if !want[id][k] {
				stale = append(stale, k)
			}
		}
		for k := range want[id] {
			if !have[k] {
				missing = append(missing, k)
			}
		}
		slices.Sort(stale)
		slices.Sort(missing)
		if len(stale) > 0 {
			probs = append(probs, Problem{Kind: ProblemStale, BuildID: id, Keys: stale,
				Detail: fmt.Sprintf("%d index entries name build %d, but its record or channels say otherwise", len(stale), id),
				fix:    r.entryFix(rec, stale, false)})
		}
		if len(missing) > 0 {
			probs = append(probs, Problem{Kind: ProblemMissing, BuildID: id, Keys: missing,
				Detail: fmt.Sprintf("build %d lacks %d index entries its record or channels call for", id, len(missing)),
				fix:    r.entryFix(rec, missing, true)})
		}
	}
	// Collected builds' leftover entries.
	for _, id := range sortedKeys(s.refs) {
		rec, ok := s.records[id]
		if !ok || !rec.Collected || len(s.refs[id]) == 0 {
			continue
		}
		keys := slices.Clone(s.refs[id])
		probs = append(probs, Problem{Kind: ProblemStale, BuildID: id, Keys: keys,
			Detail: fmt.Sprintf("%d index entries name build %d, whose unfinished publish was collected", len(keys), id),
			fix: func(ctx context.Context) error {
				return parallelDo(ctx, keys, func(ctx context.Context, k string) error { return r.removeRef(ctx, k, id) })
			}})
	}
	// Asset names the name shards lack.
	shardNeeds := map[int]map[string][]string{} // shard → name → repos
	for id, names := range s.names {
		repo := repourl.Normalize(s.records[id].Repository)
		for _, n := range names {
			sh := assetShard(n)
			if shardNeeds[sh] == nil {
				shardNeeds[sh] = map[string][]string{}
			}
			if !slices.Contains(shardNeeds[sh][n], repo) {
				shardNeeds[sh][n] = append(shardNeeds[sh][n], repo)
			}
		}
	}
	for _, sh := range sortedKeys(shardNeeds) {
		var d assetShardDoc
		if _, err := getJSON(ctx, r.st, assetShardKey(sh), &d); err != nil && !errors.Is(err, store.ErrNotExist) {
			probs = append(probs, Problem{Kind: ProblemMissing, Keys: []string{assetShardKey(sh)}, Detail: fmt.Sprintf("asset name shard unreadable: %v", err)})
			continue
		}
		var lacking []string
		for n, repos := range shardNeeds[sh] {
			for _, repo := range repos {
				if !slices.Contains(d.Names[n], repo) {
					lacking = append(lacking, n+" from "+repo)
				}
			}
		}
		if len(lacking) > 0 {
			slices.Sort(lacking)
			needs := shardNeeds[sh]
			probs = append(probs, Problem{Kind: ProblemMissing, Keys: []string{assetShardKey(sh)},
				Detail: fmt.Sprintf("asset name shard lacks %d names: %s", len(lacking), strings.Join(lacking[:min(3, len(lacking))], ", ")),
				fix: func(ctx context.Context) error {
					_, err := update(ctx, r.st, assetShardKey(sh), func(d *assetShardDoc, _ bool) error {
						if d.Names == nil {
							d.Names = map[string][]string{}
						}
						for n, repos := range needs {
							for _, repo := range repos {
								if !slices.Contains(d.Names[n], repo) {
									d.Names[n] = append(d.Names[n], repo)
								}
							}
						}
						return nil
					})
					return err
				}})
		}
	}
	return probs
}

// entryFix adds (missing) or removes (stale) the entries of a visible build.
// Channel lists are reconciled with the state, as a channel change does;
// every other entry follows from build.json, which never changes.
func (r *Registry) entryFix(rec buildRecord, keys []string, add bool) func(context.Context) error {
	return func(ctx context.Context) error {
		return parallelDo(ctx, keys, func(ctx context.Context, k string) error {
			prefix, isList := listPrefixOf(k)
			switch {
			case isList && strings.HasPrefix(prefix, "index/builds/by-channel"):
				c, err := strconv.Atoi(strings.Split(prefix, "/")[3])
				if err != nil {
					return fmt.Errorf("channel list %s: %w", prefix, err)
				}
				return r.reconcileMembership(ctx, rec, c)
			case isList && add:
				return r.listAdd(ctx, prefix, rec.ID)
			case isList:
				return r.listRemove(ctx, prefix, rec.ID)
			case add && isIDSet(k):
				return r.setAdd(ctx, k, rec.ID)
			case add:
				return fmt.Errorf("no way to add %s", k)
			default:
				return r.removeRef(ctx, k, rec.ID)
			}
		})
	}
}

// checkPagesAndObsolete finds unreferenced id-list pages older than
// pageGrace and the indexes of the earlier layout.
func (r *Registry) checkPagesAndObsolete(ctx context.Context, now time.Time) ([]Problem, error) {
	var probs []Problem
	heads, err := r.listHeads(ctx)
	if err != nil {
		return nil, err
	}
	for _, h := range heads {
		_, pages, err := r.listAll(ctx, h)
		if err != nil {
			return nil, err
		}
		keys, err := r.st.List(ctx, h+"pages/")
		if err != nil {
			return nil, err
		}
		var garbage []string
		for _, k := range keys {
			if slices.Contains(pages, k) {
				continue
			}
			name := strings.TrimPrefix(k, h+"pages/")
			stamp, _, _ := strings.Cut(name, "-")
			nanos, err := strconv.ParseInt(stamp, 16, 64)
			if err == nil && now.Sub(time.Unix(0, nanos)) < pageGrace {
				continue // a writer is about to reference it
			}
			garbage = append(garbage, k)
		}
		if len(garbage) > 0 {
			probs = append(probs, Problem{Kind: ProblemGarbage, Keys: garbage,
				Detail: fmt.Sprintf("%d pages of %s that its head.json does not name", len(garbage), h), fix: r.deleteFix(garbage)})
		}
	}
	for _, p := range obsoletePrefixes {
		keys, err := r.st.List(ctx, p)
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 {
			probs = append(probs, Problem{Kind: ProblemGarbage, Keys: keys[:min(len(keys), 5)],
				Detail: fmt.Sprintf("%d entries of the earlier index layout under %s (the id lists replace them)", len(keys), p), fix: r.deleteFix(keys)})
		}
	}
	return probs, nil
}

// checkDangling finds subscriptions and default channels naming a channel
// that does not exist.
func (r *Registry) checkDangling(ctx context.Context) ([]Problem, error) {
	chans, err := r.channelMap(ctx)
	if err != nil {
		return nil, err
	}
	var probs []Problem
	dcs, err := r.DefaultChannels(ctx)
	if err != nil {
		return nil, err
	}
	for _, dc := range dcs {
		if _, ok := chans[dc.ChannelID]; !ok {
			id := dc.ID
			probs = append(probs, Problem{Kind: ProblemDangling,
				Detail: fmt.Sprintf("default channel %d (%s@%s) names channel %d, which does not exist; repair deletes it", dc.ID, dc.Repository, dc.Branch, dc.ChannelID),
				fix: func(ctx context.Context) error {
					if err := r.DeleteDefaultChannel(ctx, id); err != nil && maestro.KindOf(err) != maestro.KindNotFound {
						return err
					}
					return nil
				}})
		}
	}
	subs, err := r.Subscriptions(ctx, SubscriptionFilter{})
	if err != nil {
		return nil, err
	}
	for _, sub := range subs {
		if _, ok := chans[sub.ChannelID]; !ok {
			id := sub.ID
			probs = append(probs, Problem{Kind: ProblemDangling,
				Detail: fmt.Sprintf("subscription %s (%s → %s@%s) names channel %d, which does not exist; repair deletes it", sub.ID, sub.SourceRepository, sub.TargetRepository, sub.TargetBranch, sub.ChannelID),
				fix: func(ctx context.Context) error {
					if err := r.DeleteSubscription(ctx, id); err != nil && maestro.KindOf(err) != maestro.KindNotFound {
						return err
					}
					return nil
				}})
		}
	}
	return probs, nil
}

// checkOutcomes finds flow outcomes without their index entry under the
// subscription (written by an earlier version, which wrote the document
// first and could die before the entry); the fix writes the empty entry,
// which is idempotent. Entries without a document (a writer that died after
// reserving the name) are skipped by every reader and left alone: one may be
// a reservation whose document is being written.
func (r *Registry) checkOutcomes(ctx context.Context) ([]Problem, error) {
	docs, err := r.st.List(ctx, "flow/outcomes/")
	if err != nil {
		return nil, fmt.Errorf("check flow history: %w", err)
	}
	if len(docs) == 0 {
		return nil, nil
	}
	entries, err := r.st.List(ctx, "index/outcomes/subscription/")
	if err != nil {
		return nil, fmt.Errorf("check flow history: %w", err)
	}
	indexed := make(map[string]bool, len(entries))
	for _, k := range entries {
		indexed[k] = true
	}
	var missing []string
	for _, k := range docs {
		// flow/outcomes/{build}/{subscription}/{name}.json
		parts := strings.Split(strings.TrimSuffix(k, ".json"), "/")
		if len(parts) != 5 {
			continue
		}
		entry := "index/outcomes/subscription/" + parts[3] + "/" + parts[2] + "/" + parts[4]
		if !indexed[entry] {
			missing = append(missing, entry)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	return []Problem{{Kind: ProblemMissing, Keys: missing[:min(len(missing), 5)],
		Detail: fmt.Sprintf("%d flow outcomes without their index entry: `flow history --subscription` does not show them; repair writes the entries", len(missing)),
		fix: func(ctx context.Context) error {
			for _, k := range missing {
				if _, err := r.st.Put(ctx, k, nil, store.Condition{}); err != nil {
					return fmt.Errorf("index flow outcome %s: %w", k, err)
				}
			}
			return nil
		}}}, nil
}

// checkClaims finds tracked pull request records without a pull request
// number: an update claimed a branch and died before it opened (or
// recorded) the pull request. The registry cannot see the branch, so there
// is no fix here: the next update of that pull request adopts the pull
// request opened from the branch or deletes the branch and starts afresh
// (`maestro subscription trigger` runs one now).
func (r *Registry) checkClaims(ctx context.Context) ([]Problem, error) {
	keys, err := r.st.List(ctx, "flow/tracked/")
	if err != nil {
		return nil, fmt.Errorf("check tracked pull requests: %w", err)
	}
	var probs []Problem
	for _, k := range keys {
		var t maestro.TrackedPullRequest
		if _, err := getJSON(ctx, r.st, k, &t); errors.Is(err, store.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("check tracked pull requests: %w", err)
		}
		if t.PullRequest.Number != 0 {
			continue
		}
		probs = append(probs, Problem{Kind: ProblemUnfinishedClaim, Keys: []string{k},
			Detail: fmt.Sprintf("an update claimed branch %s of %s for a pull request into %s and did not record one; the next update of it (or `maestro subscription trigger`) adopts the pull request from that branch or deletes the branch", t.PullRequest.HeadBranch, t.PullRequest.Repository, t.PullRequest.BaseBranch)})
	}
	return probs, nil
}

package speculative

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/maestroplusplus/maestro/internal/git"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/manifest"
	"github.com/maestroplusplus/maestro/internal/procgroup"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/updater"
)

// Local runs product builds on the local platform: each repository is
// cloned at its commit into a scratch folder, the speculative builds of its
// upstream repositories are applied to its dependency files (updater.UpdateDir,
// the update every subscription applies), its repository policy's build
// command runs there by `sh -c` with MAESTRO_MANIFEST_DIR naming an empty
// folder for its asset manifests, then its test command if any, and the
// manifests are published as a speculative build (no channel).
type Local struct {
	Registry *registry.Registry
	Git      git.Runner
	// Parallel bounds the repositories built at once (0: 4).
	Parallel int
	Now      func() time.Time
	// Env is the environment of the build commands, besides MAESTRO_MANIFEST_DIR.
	Env []string
}

type state struct {
	entry maestro.ProductBuildEntry
	build maestro.Build // its speculative build, when it has one
	done  chan struct{}
}

// Run builds plan p and returns its report, recorded in the registry. A
// repository whose build fails is failed and its downstream skipped, with
// the reason; a failing test command makes it partially succeeded and the
// run continues. The error is about the run itself (the registry, the
// scratch folder), never about one repository's build.
func (l *Local) Run(ctx context.Context, p *Plan) (maestro.ProductBuild, error) {
	work, err := os.MkdirTemp("", "maestro-speculative-")
	if err != nil {
		return maestro.ProductBuild{}, fmt.Errorf("make a scratch folder for the product build: %w", err)
	}
	defer os.RemoveAll(work)
	now := clock(l.Now)
	return run(ctx, l.Registry, p, PlatformLocal, l.Parallel, now, func(ctx context.Context, runID string, i int, n Node, st *state, ups []*state) {
		l.build(ctx, runID, filepath.Join(work, fmt.Sprint(i)), n, st, ups, now)
	})
}

func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// buildFunc builds node i of a plan, n, whose upstream states are ups,
// into st.entry (its result and reason) and st.build (its speculative
// build, when it has one).
type buildFunc func(ctx context.Context, runID string, i int, n Node, st *state, ups []*state)

// run builds plan p with build, par repositories at once (0: 4), each as
// soon as its upstream repositories are done, skipping the downstream of a
// repository that failed; it times each build, finds the critical path,
// adds the mainline times the registry knows (Mainline) and records the
// report.
func run(ctx context.Context, reg *registry.Registry, p *Plan, on Platform, par int, now func() time.Time, build buildFunc) (maestro.ProductBuild, error) {
	if par <= 0 {
		par = 4
	}
	start := now().UTC()
	pb := maestro.ProductBuild{ID: newID(start), Channel: p.Channel, Started: start, Platform: string(on)}
	for _, in := range p.Inject {
		pb.Inject = append(pb.Inject, in.Repository+"@"+in.Commit)
	}
	states := map[string]*state{}
	for _, n := range p.Nodes {
		states[key(n.Repository)] = &state{done: make(chan struct{}), entry: maestro.ProductBuildEntry{
			Repository: n.Repository, Branch: n.Branch, Commit: n.Commit, Injected: n.Injected,
			Upstream: append([]string{}, n.Upstream...), Level: n.Level,
		}}
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, n := range p.Nodes {
		st := states[key(n.Repository)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(st.done)
			var ups []*state
			for _, u := range n.Upstream {
				us := states[key(u)]
				<-us.done
				ups = append(ups, us)
			}
			for _, us := range ups {
				if r := us.entry.Result; r == maestro.SpeculativeFailed || r == maestro.SpeculativeSkipped {
					st.entry.Result = maestro.SpeculativeSkipped
					why := "failed"
					if r == maestro.SpeculativeSkipped {
						why = "was skipped"
					}
					st.entry.Reason = fmt.Sprintf("upstream %s %s", us.entry.Repository, why)
					return
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				st.entry.Result, st.entry.Reason = maestro.SpeculativeSkipped, "the run was cancelled"
				return
			}
			defer func() { <-sem }()
			st.entry.Started = now().UTC()
			build(ctx, pb.ID, i, n, st, ups)
			st.entry.Finished = now().UTC()
			st.entry.Seconds = st.entry.Finished.Sub(st.entry.Started).Seconds()
		}()
	}
	wg.Wait()
	pb.Finished = now().UTC()
	pb.WallSeconds = pb.Finished.Sub(pb.Started).Seconds()
	pb.Result = maestro.SpeculativeSucceeded
	longest := map[string]float64{}
	prev := map[string]string{}
	for _, n := range p.Nodes {
		st := states[key(n.Repository)]
		pb.Repositories = append(pb.Repositories, st.entry)
		switch st.entry.Result {
		case maestro.SpeculativeFailed, maestro.SpeculativeSkipped:
			pb.Result = maestro.SpeculativeFailed
		case maestro.SpeculativePartiallySucceeded:
			if pb.Result == maestro.SpeculativeSucceeded {
				pb.Result = maestro.SpeculativePartiallySucceeded
			}
		}
		// The critical path: the longest chain of build times, upstream first.
		k := key(n.Repository)
		best := 0.0
		for _, u := range n.Upstream {
			if d := longest[key(u)]; d > best {
				best, prev[k] = d, key(u)
			}
		}
		longest[k] = best + st.entry.Seconds
	}
	var end string
	for _, n := range p.Nodes {
		if k := key(n.Repository); end == "" || longest[k] > longest[end] {
			end = k
		}
	}
	if end != "" {
		pb.CriticalPathSeconds = longest[end]
		for k := end; k != ""; k = prev[k] {
			pb.CriticalPath = append([]string{states[k].entry.Repository}, pb.CriticalPath...)
		}
	}
	// The mainline comparison is worth having, not worth losing the report
	// over: a registry that does not answer leaves it unknown.
	if err := Mainline(ctx, reg, &pb); err != nil {
		slog.Warn("speculative product build: the mainline times are unknown", "productBuild", pb.ID, "err", err)
	}
	if err := reg.SaveProductBuild(ctx, pb); err != nil {
		return pb, err
	}
	return pb, nil
}

// build builds one repository into st.entry (and st.build).
func (l *Local) build(ctx context.Context, runID, dir string, n Node, st *state, ups []*state, now func() time.Time) {
	fail := func(format string, args ...any) {
		st.entry.Result, st.entry.Reason = maestro.SpeculativeFailed, fmt.Sprintf(format, args...)
	}
	src := filepath.Join(dir, "src")
	manifests := filepath.Join(dir, "manifests")
	if err := os.MkdirAll(manifests, 0o755); err != nil {
		fail("make the manifest folder: %v", err)
		return
	}
	if err := l.Git.Clone(ctx, n.Repository, src, n.Branch); err != nil {
		fail("clone %s: %v", n.Branch, err)
		return
	}
	if err := l.Git.ResetHard(ctx, src, n.Commit); err != nil {
		fail("check out %s: %v", n.Commit, err)
		return
	}
	var depsOn []maestro.BuildDependency
	for _, us := range ups {
		s := maestro.Subscription{SourceRepository: us.entry.Repository, TargetRepository: n.Repository, TargetBranch: n.Branch}
		if _, _, err := updater.UpdateDir(ctx, l.Registry, src, s, us.build, false); err != nil {
			fail("apply the update from %s (speculative build %d): %v", us.entry.Repository, us.build.ID, err)
			return
		}
		depsOn = append(depsOn, maestro.BuildDependency{BuildID: us.build.ID, IsProduct: true})
	}
	env := append(append(os.Environ(), l.Env...), "MAESTRO_MANIFEST_DIR="+manifests, "MAESTRO_SPECULATIVE=true")
	if out, err := runShell(ctx, src, n.Policy.BuildCommand, env); err != nil {
		fail("build command: %v%s", err, out)
		return
	}
	ms, err := manifest.Load([]string{filepath.Join(manifests, "*.xml")})
	if err != nil {
		fail("the build command's manifests in $MAESTRO_MANIFEST_DIR: %v", err)
		return
	}
	b, err := service.PipelineBuild(ms, func(string) string { return "" }, maestro.Build{Repository: n.Repository, Branch: n.Branch, Commit: n.Commit}, now())
	if err != nil {
		fail("the build command's manifests: %v", err)
		return
	}
	b.Dependencies = depsOn
	b.ProductBuild = runID
	st.entry.Result = maestro.SpeculativeSucceeded
	if n.Policy.TestCommand != "" {
		if out, err := runShell(ctx, src, n.Policy.TestCommand, env); err != nil {
			st.entry.Result, st.entry.Reason = maestro.SpeculativePartiallySucceeded, fmt.Sprintf("test command: %v%s", err, out)
		}
	}
	res, err := l.Registry.PublishSpeculative(ctx, b, registry.SpeculativeOptions{NoDefaultChannels: true})
	if err != nil {
		fail("publish its speculative build: %v", err)
		return
	}
	st.build, st.entry.BuildID = res.Build, res.Build.ID
}

// runShell runs command by sh -c in dir; on failure it returns the end of
// its output (at most 2,000 bytes) to show with the error.
func runShell(ctx context.Context, dir, command string, env []string) (string, error) {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir, cmd.Env = dir, env
	// A build command's children (a test runner, a compiler server) stop
	// with it when the run is cut short.
	procgroup.Own(cmd)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tail := strings.TrimSpace(out.String())
		if len(tail) > 2000 {
			tail = "…" + tail[len(tail)-2000:]
		}
		if tail != "" {
			tail = ": " + tail
		}
		return tail, err
	}
	return "", nil
}

// newID is a product build's id: its start time, sortable, and 4 random bytes.
func newID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return t.Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

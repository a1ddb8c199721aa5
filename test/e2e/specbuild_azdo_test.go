package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/deps"
	"github.com/maestroplusplus/maestro/internal/maestro"
	azdodouble "github.com/maestroplusplus/maestro/test/azdo"
)

// specPipelineYAML is each repository's pipeline: the speculative update
// step, the build, its tests; the asset manifests uploaded as AssetManifests.
const specPipelineYAML = `trigger: [ main ]
resources:
  repositories:
  - repository: maestro
    type: github
    name: maestroplusplus/maestro
steps:
- template: pipelines/templates/speculative-update-step.yml@maestro
- script: sh build.sh
- script: sh test.sh
- task: PublishBuildArtifacts@1
  inputs: { PathtoPublish: $(Build.ArtifactStagingDirectory)/AssetManifests, ArtifactName: AssetManifests }
`

// specAzdoRepo is one product repository on the Azure DevOps double.
type specAzdoRepo struct {
	name string
	repo *azdodouble.Repository
	pl   *azdodouble.Pipeline
}

// specAzdoFiles are a product repository's files: its build script, name,
// version, dependency files on the upstream packages (name → commit),
// pipeline and test script.
func specAzdoFiles(name string, deps map[string]string, uris map[string]string, test string) map[string][]byte {
	var vd, props strings.Builder
	vd.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ProductDependencies>\n")
	props.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Project>\n  <PropertyGroup>\n")
	for _, up := range []string{"A", "B", "C"} {
		sha, ok := deps[up]
		if !ok {
			continue
		}
		fmt.Fprintf(&vd, "    <Dependency Name=\"%s.Pkg\" Version=\"1.0.0\">\n      <Uri>%s</Uri>\n      <Sha>%s</Sha>\n    </Dependency>\n", up, uris[up], sha)
		fmt.Fprintf(&props, "    <%sPkgPackageVersion>1.0.0</%sPkgPackageVersion>\n", up, up)
	}
	vd.WriteString("  </ProductDependencies>\n  <ToolsetDependencies>\n  </ToolsetDependencies>\n</Dependencies>\n")
	props.WriteString("  </PropertyGroup>\n</Project>\n")
	return map[string][]byte{
		"eng/Version.Details.xml": []byte(vd.String()), "eng/Versions.props": []byte(props.String()),
		"build.sh": []byte(specBuildScript), "test.sh": []byte(test), "name.txt": []byte(name),
		"version.txt": []byte("1.0.0"), "sleep.txt": []byte("0.1"), "azure-pipelines.yml": []byte(specPipelineYAML),
	}
}

// takes is files' Version.Details.xml with dependency name's version set.
func takes(files map[string][]byte, name, version string) []byte {
	return []byte(strings.Replace(string(files["eng/Version.Details.xml"]), `Name="`+name+`.Pkg" Version="1.0.0"`, `Name="`+name+`.Pkg" Version="`+version+`"`, 1))
}

// specAgent is the Azure DevOps agent of the test: it runs every build
// queued on the double as the pipeline above would — the sources checked
// out at the queued commit, the update of MaestroSpeculativeUpdate applied
// with `maestro deps update --from-file` (the template's step), build.sh,
// then test.sh (a failing test leaves the build partially succeeded), the
// manifests uploaded as AssetManifests — and completes it.
type specAgent struct {
	t     *testing.T
	e     *env
	s     *azdodouble.Server
	repos map[int]specAzdoRepo // by definition id
	mu    sync.Mutex
	seen  map[int]bool
	errs  []error
	ran   map[string]map[string]string // repository name → its build's queue-time variables
}

func (a *specAgent) loop(stop <-chan struct{}) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-stop:
			return
		case <-time.After(20 * time.Millisecond):
		}
		for _, q := range a.s.QueueBuildRequests() {
			a.mu.Lock()
			fresh := q.BuildID != 0 && !a.seen[q.BuildID]
			a.seen[q.BuildID] = true
			a.mu.Unlock()
			if fresh {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := a.run(q.BuildID); err != nil {
						a.mu.Lock()
						a.errs = append(a.errs, err)
						a.mu.Unlock()
					}
				}()
			}
		}
	}
}

func (a *specAgent) run(id int) error {
	var b build.Build
	for _, x := range a.s.Builds() {
		if *x.Id == id {
			b = x
		}
	}
	r := a.repos[*b.Definition.Id]
	a.s.SetBuildStatus(id, build.BuildStatusValues.InProgress, "")
	vars := map[string]string{}
	if b.Parameters != nil {
		if err := json.Unmarshal([]byte(*b.Parameters), &vars); err != nil {
			return err
		}
	}
	a.mu.Lock()
	a.ran[r.name] = vars
	a.mu.Unlock()
	work, err := os.MkdirTemp(a.t.TempDir(), "agent-")
	if err != nil {
		return err
	}
	src, out := filepath.Join(work, "s"), filepath.Join(work, "a", "AssetManifests")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, args := range [][]string{{"clone", "-q", r.repo.Dir(), src}, {"-C", src, "checkout", "-q", *b.SourceVersion}} {
		if o, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v: %s", args, err, o)
		}
	}
	if u := vars["MaestroSpeculativeUpdate"]; u != "" {
		f := filepath.Join(work, "update.json")
		if err := os.WriteFile(f, []byte(u), 0o644); err != nil {
			return err
		}
		if res := a.e.run("deps", "update", "--dir", src, "--from-file", f); res.code != 0 {
			return fmt.Errorf("%s: deps update: %s", r.name, res.stderr)
		}
	}
	sh := func(script string) error {
		cmd := exec.Command("sh", script)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "MAESTRO_MANIFEST_DIR="+out, "BUILD_REPOSITORY_URI="+r.repo.WebURL())
		return cmd.Run()
	}
	if err := sh("build.sh"); err != nil {
		a.s.SetBuildStatus(id, build.BuildStatusValues.Completed, build.BuildResultValues.Failed)
		return nil
	}
	result := build.BuildResultValues.Succeeded
	if err := sh("test.sh"); err != nil {
		result = build.BuildResultValues.PartiallySucceeded
	}
	data, err := os.ReadFile(filepath.Join(out, "manifest.xml"))
	if err != nil {
		return err
	}
	a.s.AddArtifact(id, "AssetManifests", map[string][]byte{"manifest.xml": data})
	a.s.SetBuildStatus(id, build.BuildStatusValues.Completed, result)
	return nil
}

// TestSpeculativeProductBuildAzureDevOps: the diamond A ← B, C ← D, each
// repository built by its official pipeline on the Azure DevOps double. A
// change injected into A is queued with an empty update, B and C with A's
// speculative build as their update file (a queue-time variable); B's
// build fails (D, downstream, is skipped and never queued), C's tests fail
// (partially succeeded, published, the run goes on). The report is
// asserted; then the change flows through mainline and `speculative builds
// show` sets the run against it.
func TestSpeculativeProductBuildAzureDevOps(t *testing.T) {
	e := newLocal(t)
	s := azdodouble.NewServer(t, azdodouble.WithPAT("maestro-pat"))
	e.environ = append(e.environ, "MAESTRO_AZDO_TOKEN=maestro-pat", "MAESTRO_AZDO_SERVER_URLS="+s.OrganizationURL(), "MAESTRO_ALLOW_HTTP_LOOPBACK=true")
	p := s.AddProject("prod")
	repos := map[string]*specAzdoRepo{}
	uris := map[string]string{}
	for _, name := range []string{"A", "B", "C", "D"} {
		r := s.AddRepository(p, name)
		repos[name] = &specAzdoRepo{name: name, repo: r}
		uris[name] = r.WebURL()
	}
	tests := map[string]string{"C": "echo 'Failed: 1, Passed: 41' >&2; exit 1\n"}
	heads := map[string]string{}
	for _, name := range []string{"A", "B", "C", "D"} {
		up := map[string]string{}
		switch name {
		case "B", "C":
			up["A"] = heads["A"]
		case "D":
			up["B"], up["C"] = heads["B"], heads["C"]
		}
		test := tests[name]
		if test == "" {
			test = "echo 'Passed: 12'\n"
		}
		heads[name] = repos[name].repo.Commit("main", specAzdoFiles(name, up, uris, test), "initial")
		repos[name].pl = s.AddYAMLPipeline(p, azdodouble.YAMLPipeline{Name: name + "-official", Repository: repos[name].repo, Path: "/azure-pipelines.yml",
			QueueTimeVariables: []string{"MaestroSpeculativeUpdate", "MaestroProductBuild"}})
	}
	e.ok("channel", "add", "--name", "prod")
	mdir := t.TempDir()
	// publish records an official build of name at its head, as its pipeline's publish step would.
	publish := func(name, version string) maestro.Build {
		r := repos[name]
		head := r.repo.Head("main")
		id := s.AddBuild(r.pl, "main", head)
		s.SetBuildStatus(id, build.BuildStatusValues.Completed, build.BuildResultValues.Succeeded)
		m := writeFile(t, mdir, fmt.Sprintf("%s-%d.xml", name, id), fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="%[1]s" BuildId="b%[2]d" Branch="refs/heads/main" Commit="%[3]s" AzureDevOpsBuildId="%[2]d" AzureDevOpsBuildDefinitionId="%[4]d" AzureDevOpsAccount="%[5]s" AzureDevOpsProject="prod" AzureDevOpsRepository="%[1]s" IsStable="false">
  <Package Id="%[6]s.Pkg" Version="%[7]s" NonShipping="false" />
</Build>
`, r.repo.WebURL(), id, head, r.pl.ID, s.Organization(), name, version))
		vd, err := r.repo.ReadFile(head, "eng/Version.Details.xml")
		require.NoError(t, err)
		var b maestro.Build
		e.okJSON(&b, "publish", "--manifest", m, "--version-details", writeFile(t, mdir, fmt.Sprintf("%s-%d-vd.xml", name, id), string(vd)), "--no-trigger")
		return b
	}
	for _, name := range []string{"A", "B", "C", "D"} {
		e.ok("default-channel", "add", "--repository", uris[name], "--branch", "main", "--channel", "prod")
		publish(name, "1.0.0")
	}
	// On Azure DevOps the plan needs no build command, but a recorded definition.
	r := e.run("speculative", "build", "--platform", "azure-devops", "--channel", "prod", "--inject", "/src/nowhere@"+sha(1))
	assert.Equal(t, 3, r.code, r.stderr)
	// The change: A's next version; B broken on main (its latest build from there).
	change := repos["A"].repo.Commit("main", map[string][]byte{"version.txt": []byte("1.1.0-spec")}, "the change")
	repos["B"].repo.Commit("main", map[string][]byte{"broken": {}}, "break it")
	publish("B", "1.0.1")

	agent := &specAgent{t: t, e: e, s: s, repos: map[int]specAzdoRepo{}, seen: map[int]bool{}, ran: map[string]map[string]string{}}
	for _, r := range repos {
		agent.repos[r.pl.ID] = *r
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); agent.loop(stop) }()
	r = e.run("speculative", "build", "--platform", "azure-devops", "--channel", "prod", "--inject", uris["A"]+"@"+change, "--output", "json")
	close(stop)
	<-done
	require.Empty(t, agent.errs)
	require.Equal(t, 1, r.code, "B failed: %s", r.stderr)
	var pb maestro.ProductBuild
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &pb), r.stdout)
	assert.Equal(t, "azure-devops", pb.Platform)
	require.Len(t, pb.Repositories, 4)
	got := map[string]maestro.ProductBuildEntry{}
	for _, en := range pb.Repositories {
		got[en.Repository[strings.LastIndex(en.Repository, "/")+1:]] = en
	}
	assert.Equal(t, maestro.SpeculativeSucceeded, got["A"].Result, got["A"].Reason)
	assert.Equal(t, change, got["A"].Commit)
	assert.Equal(t, maestro.SpeculativeFailed, got["B"].Result)
	assert.Contains(t, got["B"].Reason, "failed")
	assert.Contains(t, got["B"].Reason, fmt.Sprintf("(id %d)", got["B"].AzureDevOpsBuildID))
	assert.Equal(t, maestro.SpeculativePartiallySucceeded, got["C"].Result)
	assert.Contains(t, got["C"].Reason, "partially succeeded")
	assert.NotZero(t, got["C"].BuildID, "a partially succeeded build is published")
	assert.Equal(t, maestro.SpeculativeSkipped, got["D"].Result)
	assert.Equal(t, "upstream "+uris["B"]+" failed", got["D"].Reason)
	assert.Zero(t, got["D"].AzureDevOpsBuildID, "never queued")
	assert.Equal(t, maestro.SpeculativeFailed, pb.Result)
	// Both B and C complete within the same polls: either may be the longer.
	longer := "B"
	if got["C"].Seconds > got["B"].Seconds {
		longer = "C"
	}
	assert.Equal(t, []string{uris["A"], uris[longer]}, pb.CriticalPath)
	assert.InDelta(t, got["A"].Seconds+got[longer].Seconds, pb.CriticalPathSeconds, 0.001)
	assert.Nil(t, pb.MainlineSeconds, "the change has not flowed through mainline")

	// What was queued: three builds of the official pipelines at the right
	// commits, each with its update file; what completed was published.
	qs := s.QueueBuildRequests()
	require.Len(t, qs, 3)
	for _, q := range qs {
		assert.Equal(t, 200, q.Status)
		assert.Equal(t, pb.ID, (*q.Build.TriggerInfo)["maestro.productBuild"])
	}
	assert.Equal(t, pb.ID, agent.ran["B"]["MaestroProductBuild"])
	var ua, uc deps.UpdateFile
	require.NoError(t, json.Unmarshal([]byte(agent.ran["A"]["MaestroSpeculativeUpdate"]), &ua))
	assert.Empty(t, ua.Updates, "A is injected: nothing upstream")
	require.NoError(t, json.Unmarshal([]byte(agent.ran["C"]["MaestroSpeculativeUpdate"]), &uc))
	require.Len(t, uc.Updates, 1)
	assert.Equal(t, deps.Update{Name: "A.Pkg", Version: "1.1.0-spec", Sha: change, URI: uris["A"]}, deps.Update{Name: uc.Updates[0].Name, Version: uc.Updates[0].Version, Sha: uc.Updates[0].Sha, URI: uc.Updates[0].URI})
	for _, x := range s.Builds() {
		if *x.Id == got["C"].AzureDevOpsBuildID {
			assert.Equal(t, build.BuildResultValues.PartiallySucceeded, *x.Result)
			assert.Equal(t, got["C"].Commit, *x.SourceVersion)
		}
	}
	var sa, sc maestro.Build
	e.okJSON(&sa, "build", "show", "--id", fmt.Sprint(got["A"].BuildID))
	e.okJSON(&sc, "build", "show", "--id", fmt.Sprint(got["C"].BuildID))
	assert.True(t, sa.Speculative)
	assert.Equal(t, got["A"].AzureDevOpsBuildID, sa.AzureDevOpsBuildID)
	assert.Equal(t, "1.1.0-spec", sa.Assets[0].Version)
	assert.Empty(t, sa.Channels)
	var names []string
	for _, as := range sc.Assets {
		names = append(names, as.Name)
	}
	assert.Contains(t, names, "saw/A.Pkg/1.1.0-spec", "C was built with A's speculative version applied by the pipeline")
	assert.Equal(t, []maestro.BuildDependency{{BuildID: sa.ID, IsProduct: true}}, sc.Dependencies)
	var latest maestro.Build
	e.okJSON(&latest, "build", "latest", "--repository", uris["A"], "--channel", "prod")
	assert.Equal(t, "1.0.0", latest.Assets[0].Version, "nothing official moved")

	// The change flows through mainline: A's official build of it, then
	// C's build that takes it. A and C's mainline times are known, B and D's
	// (and so the run's) not yet; once B and D have it, all are.
	a2 := publish("A", "1.1.0")
	cFiles := specAzdoFiles("C", map[string]string{"A": change}, uris, tests["C"])
	repos["C"].repo.Commit("main", map[string][]byte{"eng/Version.Details.xml": takes(cFiles, "A", "1.1.0")}, "take A")
	c2 := publish("C", "1.0.2")
	require.Len(t, c2.Dependencies, 1)
	require.Equal(t, a2.ID, c2.Dependencies[0].BuildID)
	var shown maestro.ProductBuild
	e.okJSON(&shown, "speculative", "builds", "show", "--id", pb.ID)
	byName := func(pb maestro.ProductBuild, name string) maestro.ProductBuildEntry {
		for _, en := range pb.Repositories {
			if en.Repository == uris[name] {
				return en
			}
		}
		return maestro.ProductBuildEntry{}
	}
	require.NotNil(t, byName(shown, "A").MainlineSeconds)
	assert.Equal(t, a2.ID, byName(shown, "A").MainlineBuildID)
	assert.Zero(t, *byName(shown, "A").MainlineSeconds)
	require.NotNil(t, byName(shown, "C").MainlineSeconds)
	assert.Equal(t, c2.ID, byName(shown, "C").MainlineBuildID)
	assert.InDelta(t, c2.DateProduced.Sub(a2.DateProduced).Seconds(), *byName(shown, "C").MainlineSeconds, 0.001)
	assert.Nil(t, byName(shown, "B").MainlineSeconds)
	assert.Nil(t, shown.MainlineSeconds)
	table := e.ok("speculative", "builds", "show", "--id", pb.ID)
	assert.Contains(t, table, "through mainline:  unknown")
	assert.Contains(t, table, fmt.Sprintf("(build %d)", c2.ID))

	bFiles := specAzdoFiles("B", map[string]string{"A": change}, uris, "")
	repos["B"].repo.Commit("main", map[string][]byte{"eng/Version.Details.xml": takes(bFiles, "A", "1.1.0"), "broken": nil}, "take A, fix")
	publish("B", "1.0.3")
	dFiles := specAzdoFiles("D", map[string]string{"B": repos["B"].repo.Head("main"), "C": repos["C"].repo.Head("main")}, uris, "")
	dFiles["eng/Version.Details.xml"] = takes(dFiles, "B", "1.0.3")
	repos["D"].repo.Commit("main", map[string][]byte{"eng/Version.Details.xml": takes(dFiles, "C", "1.0.2")}, "take B and C")
	d2 := publish("D", "1.0.4")
	e.okJSON(&shown, "speculative", "builds", "show", "--id", pb.ID)
	require.NotNil(t, shown.MainlineSeconds)
	assert.Equal(t, d2.ID, byName(shown, "D").MainlineBuildID)
	assert.InDelta(t, d2.DateProduced.Sub(a2.DateProduced).Seconds(), *shown.MainlineSeconds, 0.001)
	table = e.ok("speculative", "builds", "show", "--id", pb.ID)
	assert.NotContains(t, table, "unknown")

	check := e.run("registry", "check")
	assert.Equal(t, 0, check.code, check.stdout)
}

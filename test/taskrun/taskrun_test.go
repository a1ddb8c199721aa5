// Package taskrun_test runs the Azure Pipelines task the way an agent does: node on index.js
// with the agent's environment (INPUT_*, ENDPOINT_*, SECRET_*, SYSTEM_*, BUILD_*, AGENT_*), the
// real maestro binary in the task's bin folder and a real Azurite as the store. It checks what
// the agent would read from the output and what the registry holds afterwards.
package taskrun_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/test/azurite"

	"github.com/maestroplusplus/maestro/test/testenv"
)

// unavailable fails the test under CI=true and skips it elsewhere.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// agentTask is a copy of the task folder with maestro built into its bin folder, as the
// extension installs it on an agent.
type agentTask struct {
	dir    string // the task folder: index.js, task.json, lib/, bin/
	binary string // the maestro binary for this platform inside bin/
	tool   string // a copy of maestro outside the task, for the test's own registry calls
}

func installTask(t *testing.T) agentTask {
	t.Helper()
	root := testenv.RepoRoot(t)
	src := filepath.Join(root, "task", "MaestroV1")
	if _, err := exec.LookPath("node"); err != nil {
		unavailable(t, "node is not installed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(src, "node_modules", "azure-pipelines-task-lib")); err != nil {
		unavailable(t, "the task's packages are not installed; run: npm ci --prefix task/MaestroV1 (%v)", err)
	}
	dir := filepath.Join(t.TempDir(), "Maestro_d8143c80", "1.0.0")
	if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	libs, err := filepath.Glob(filepath.Join(src, "lib", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range append(libs, filepath.Join(src, "task.json"), filepath.Join(src, "index.js")) {
		rel, _ := filepath.Rel(src, from)
		copyFile(t, from, filepath.Join(dir, rel))
	}
	if err := os.Symlink(filepath.Join(src, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}

	tool := filepath.Join(t.TempDir(), "maestro")
	build := exec.Command("go", "build", "-o", tool, "./cmd/maestro")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/maestro: %v\n%s", err, out)
	}
	if out, err := exec.Command(tool, "publish", "--help").CombinedOutput(); err != nil {
		t.Skipf("maestro publish is not available yet (`maestro publish --help`: %v)\n%s", err, out)
	}
	folder, executable := platformFolder(t, filepath.Join(src, "lib", "platforms.json"))
	binary := filepath.Join(dir, "bin", folder, executable)
	if err := os.MkdirAll(filepath.Dir(binary), 0o755); err != nil {
		t.Fatal(err)
	}
	// The .vsix (a zip) drops the executable bit; the wrapper must restore it.
	copyFile(t, tool, binary)
	return agentTask{dir: dir, binary: binary, tool: tool}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// platformFolder finds this machine's entry in the task's platforms.json.
func platformFolder(t *testing.T, path string) (folder, executable string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var platforms []struct{ Folder, Goos, Goarch, Executable string }
	if err := json.Unmarshal(data, &platforms); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, p := range platforms {
		if p.Goos == runtime.GOOS && p.Goarch == runtime.GOARCH {
			return p.Folder, p.Executable
		}
	}
	t.Skipf("the task bundles no binary for %s/%s", runtime.GOOS, runtime.GOARCH)
	return "", ""
}

// agent is the environment of one job on a build agent.
type agent struct {
	work, temp, sources, staging string
	env                          map[string]string
}

const accessToken = "job-access-token-for-the-real-run"

func newAgent(t *testing.T) agent {
	t.Helper()
	work := t.TempDir()
	a := agent{
		work:    work,
		temp:    filepath.Join(work, "_temp"),
		sources: filepath.Join(work, "1", "s"),
		staging: filepath.Join(work, "1", "a"),
	}
	for _, d := range []string{a.temp, a.sources, a.staging} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a.env = map[string]string{
		"PATH":                                     os.Getenv("PATH"),
		"HOME":                                     os.Getenv("HOME"),
		"TF_BUILD":                                 "True",
		"AGENT_TEMPDIRECTORY":                      a.temp,
		"AGENT_WORKFOLDER":                         work,
		"AGENT_OS":                                 "Linux",
		"AGENT_JOBNAME":                            "Build",
		"SYSTEM_HOSTTYPE":                          "build",
		"SYSTEM_DEFAULTWORKINGDIRECTORY":           a.sources,
		"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI":       "https://dev.azure.com/contoso/",
		"SYSTEM_TEAMPROJECT":                       "internal",
		"SYSTEM_DEFINITIONID":                      "412",
		"BUILD_SOURCESDIRECTORY":                   a.sources,
		"BUILD_ARTIFACTSTAGINGDIRECTORY":           a.staging,
		"BUILD_BUILDID":                            "91823",
		"BUILD_BUILDNUMBER":                        "20261125.4",
		"BUILD_SOURCEVERSION":                      "3f1e9a7c2b5d4e6f8091a2b3c4d5e6f708192a3b",
		"BUILD_SOURCEBRANCH":                       "refs/heads/main",
		"BUILD_REPOSITORY_URI":                     "https://github.com/contoso/widgets",
		"ENDPOINT_URL_SYSTEMVSSCONNECTION":         "https://dev.azure.com/contoso/",
		"ENDPOINT_AUTH_SYSTEMVSSCONNECTION":        `{"parameters":{"AccessToken":"` + accessToken + `"},"scheme":"OAuth"}`,
		"ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION": "OAuth",
		"ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN": accessToken,
		"VSTS_PUBLIC_VARIABLES":                                   `["Build.BuildId","Build.SourcesDirectory","Agent.TempDirectory"]`,
		"VSTS_SECRET_VARIABLES":                                   `["MaestroStoreConnectionString"]`,
	}
	return a
}

// write creates a file under the agent's work folder.
func (a agent) write(t *testing.T, rel, content string) string {
	t.Helper()
	path := filepath.Join(a.work, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runTask starts node on the task's index.js with the agent's environment plus the inputs, as
// the agent's Node handler does, and returns its standard output lines.
func (a agent) runTask(t *testing.T, task agentTask, inputs map[string]string) []string {
	t.Helper()
	var env []string
	for k, v := range a.env {
		env = append(env, k+"="+v)
	}
	for k, v := range inputs {
		env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
	}
	cmd := exec.Command("node", filepath.Join(task.dir, "index.js"))
	cmd.Dir = a.sources
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node index.js: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("task output:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	var lines []string
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// maestro runs the binary against the test's store, for setting up and reading the registry.
func maestro(t *testing.T, task agentTask, srv *azurite.Server, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(task.tool, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"MAESTRO_STORE=azblob://maestro", "AZURE_STORAGE_CONNECTION_STRING=" + srv.ConnectionString()}
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("maestro %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

func manifest(packages ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<Build PublishingVersion="3" Name="contoso/widgets" IsStable="false">` + "\n")
	for _, p := range packages {
		fmt.Fprintf(&b, "  <Package Id=%q Version=\"2.1.0-preview.1.26575.4\" NonShipping=\"false\" />\n", p)
	}
	b.WriteString("</Build>\n")
	return b.String()
}

func TestPublishFromTheAgentEnvironment(t *testing.T) {
	task := installTask(t)
	srv := azurite.Start(t)
	maestro(t, task, srv, "registry", "init")
	maestro(t, task, srv, "channel", "add", "--name", ".NET 10")
	// An earlier build of another repository, so that ours does not get the first id.
	earlier := filepath.Join(t.TempDir(), "earlier.xml")
	if err := os.WriteFile(earlier, []byte(manifest("Other.Package")), 0o644); err != nil {
		t.Fatal(err)
	}
	maestro(t, task, srv, "publish", "--manifest", earlier, "--repository", "https://github.com/contoso/other", "--commit", "0123456789abcdef0123456789abcdef01234567", "--branch", "main")

	a := newAgent(t)
	// Two jobs wrote one manifest each; the build metadata comes from the agent's BUILD_* variables.
	a.write(t, "1/a/AssetManifests/Windows_NT.xml", manifest("Contoso.Widgets", "Contoso.Widgets.Sdk"))
	a.write(t, "1/a/AssetManifests/Linux.xml", manifest("Contoso.Widgets.Native.linux-x64"))
	a.env["SECRET_MAESTROSTORECONNECTIONSTRING"] = srv.ConnectionString()
	resultFile := filepath.Join(a.temp, "maestro-publish-result.json")

	out := a.runTask(t, task, map[string]string{
		"command":               "publish",
		"storeType":             "connectionString",
		"storeConnectionString": srv.ConnectionString(),
		"storageContainer":      "maestro",
		"manifests":             a.staging + "/AssetManifests/*.xml",
		"channels":              ".NET 10",
		"versionDetails":        "eng/Version.Details.xml",
		"uploadAssets":          "false",
		"azureDevOpsToken":      "",
		"extraArguments":        "",
	})

	command := fmt.Sprintf("[command]%s publish --manifest %s/AssetManifests/*.xml --channel .NET 10 --result-file %s", task.binary, a.staging, resultFile)
	at := slices.Index(out, command)
	if at < 0 {
		t.Fatalf("no %q line", command)
	}
	for _, secret := range []string{srv.ConnectionString(), accessToken} {
		masked := slices.Index(out, "##vso[task.setsecret]"+secret)
		if masked < 0 || masked > at {
			t.Errorf("secret %.20s... not masked before the binary ran (setsecret at %d, command at %d)", secret, masked, at)
		}
	}
	if !slices.Contains(out, "##vso[task.complete result=Succeeded;]") {
		t.Fatal("the task did not report success")
	}

	var builds []struct {
		ID int `json:"id"`
	}
	if err := json.Unmarshal(maestro(t, task, srv, "build", "list", "--repository", a.env["BUILD_REPOSITORY_URI"], "--output", "json"), &builds); err != nil {
		t.Fatal(err)
	}
	if len(builds) != 1 || builds[0].ID < 2 {
		t.Fatalf("registry holds builds %+v of %s, want one after the earlier build", builds, a.env["BUILD_REPOSITORY_URI"])
	}
	id := builds[0].ID
	var shown struct {
		Commit             string `json:"commit"`
		AzureDevOpsBuildID int    `json:"azureDevOpsBuildId"`
		Assets             []struct {
			Name string `json:"name"`
		} `json:"assets"`
	}
	if err := json.Unmarshal(maestro(t, task, srv, "build", "show", "--id", strconv.Itoa(id), "--output", "json"), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Commit != a.env["BUILD_SOURCEVERSION"] || shown.AzureDevOpsBuildID != 91823 {
		t.Errorf("recorded commit %q, Azure DevOps build %d; want the agent's %s and 91823", shown.Commit, shown.AzureDevOpsBuildID, a.env["BUILD_SOURCEVERSION"])
	}
	if len(shown.Assets) != 3 {
		t.Errorf("recorded %d assets, want the 3 of both manifests", len(shown.Assets))
	}

	for _, want := range []string{
		fmt.Sprintf("##vso[task.setvariable variable=MaestroBuildId;isOutput=false;issecret=false;]%d", id),
		fmt.Sprintf("##vso[task.setvariable variable=MaestroBuildId;isOutput=true;issecret=false;]%d", id),
		"##vso[task.setvariable variable=MaestroChannels;isOutput=true;issecret=false;].NET 10",
	} {
		if !slices.Contains(out, want) {
			t.Errorf("no %q line", want)
		}
	}
	if info, err := os.Stat(task.binary); err != nil || info.Mode()&0o111 == 0 {
		t.Errorf("the wrapper left %s without its executable bit (%v)", task.binary, err)
	}
	if _, err := os.Stat(resultFile); !os.IsNotExist(err) {
		t.Errorf("the result file %s was left behind", resultFile)
	}
}

func TestFailedPublishFailsTheTaskOnce(t *testing.T) {
	task := installTask(t)
	srv := azurite.Start(t)
	maestro(t, task, srv, "registry", "init")
	a := newAgent(t)
	a.write(t, "1/a/AssetManifests/Linux.xml", manifest("Contoso.Widgets"))

	out := a.runTask(t, task, map[string]string{
		"command":               "publish",
		"storeType":             "connectionString",
		"storeConnectionString": srv.ConnectionString(),
		"storageContainer":      "maestro",
		"manifests":             a.staging + "/AssetManifests/*.xml",
		"channels":              "No Such Channel",
	})

	var complete string
	var issues []string
	for _, l := range out {
		if strings.HasPrefix(l, "##vso[task.complete ") {
			complete = l
		}
		if strings.HasPrefix(l, "##vso[task.logissue type=error") || strings.HasPrefix(l, "##vso[task.issue type=error") {
			issues = append(issues, l)
		}
	}
	if !strings.HasPrefix(complete, "##vso[task.complete result=Failed;]") || !strings.Contains(complete, "No Such Channel") {
		t.Errorf("task ended with %q; want Failed naming the channel", complete)
	}
	if len(issues) != 1 {
		t.Errorf("%d error issues, want exactly 1: %q", len(issues), issues)
	}
	if slices.ContainsFunc(out, func(l string) bool { return strings.Contains(l, "variable=MaestroBuildId") }) {
		t.Error("a failed publish set MaestroBuildId")
	}
	var builds []json.RawMessage
	if err := json.Unmarshal(maestro(t, task, srv, "build", "list", "--output", "json"), &builds); err != nil {
		t.Fatal(err)
	}
	if len(builds) != 0 {
		t.Errorf("a failed publish left %d builds in the registry", len(builds))
	}
}

// TestMirrorFromTheAgentEnvironment runs the task's mirror command as an agent does against
// local repositories and a local store: the branch is created in the target and the run
// recorded; a target with a commit of its own fails the task once with the refusal, and the
// job's token appears in no output but the line that masks it.
func TestMirrorFromTheAgentEnvironment(t *testing.T) {
	task := installTask(t)
	root := t.TempDir()
	store := "file://" + filepath.Join(root, "store")
	tool := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(task.tool, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "MAESTRO_STORE=" + store}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("maestro %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	tool("registry", "init", "--store", store)
	source, target, work := filepath.Join(root, "source.git"), filepath.Join(root, "target.git"), filepath.Join(root, "work")
	git(root, "init", "--quiet", "--bare", source)
	git(root, "init", "--quiet", "--bare", target)
	git(root, "init", "--quiet", "-b", "main", work)
	for _, msg := range []string{"one", "two"} {
		if err := os.WriteFile(filepath.Join(work, "a.txt"), []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
		git(work, "add", "a.txt")
		git(work, "commit", "--quiet", "-m", msg)
	}
	git(work, "push", "--quiet", source, "main")
	head := git(work, "rev-parse", "HEAD")

	a := newAgent(t)
	inputs := map[string]string{
		"command": "mirror", "storeType": "url", "storeUrl": store,
		"mirrorSource": source, "mirrorBranch": "main", "mirrorTarget": "file://" + target,
	}
	out := a.runTask(t, task, inputs)
	if got := git(root, "--git-dir", target, "rev-parse", "refs/heads/main"); got != head {
		t.Errorf("target main is %s, want the source head %s", got, head)
	}
	if !slices.ContainsFunc(out, func(l string) bool { return strings.HasPrefix(l, "created main of file://"+target) }) {
		t.Errorf("no line says what the run did:\n%s", strings.Join(out, "\n"))
	}

	// The target gets a commit of its own: the next run refuses.
	git(work, "commit", "--quiet", "--allow-empty", "-m", "internal hotfix")
	git(work, "push", "--quiet", target, "main")
	own := git(work, "rev-parse", "HEAD")
	out = append(out, a.runTask(t, task, inputs)...)
	var complete string
	var issues []string
	for _, l := range out {
		if strings.HasPrefix(l, "##vso[task.complete ") {
			complete = l
		}
		if strings.HasPrefix(l, "##vso[task.logissue type=error") || strings.HasPrefix(l, "##vso[task.issue type=error") {
			issues = append(issues, l)
		}
		if strings.Contains(l, accessToken) && l != "##vso[task.setsecret]"+accessToken {
			t.Errorf("the job's token in the output: %q", l)
		}
	}
	if !strings.HasPrefix(complete, "##vso[task.complete result=Failed;]fastForward refused: main of file://"+target) {
		t.Errorf("task ended with %q; want Failed with the refusal", complete)
	}
	if len(issues) != 1 || !strings.Contains(issues[0], own[:12]+" internal hotfix") {
		t.Errorf("error issues %q; want one listing the target's commit", issues)
	}
	if got := git(root, "--git-dir", target, "rev-parse", "refs/heads/main"); got != own {
		t.Errorf("the refused run moved target main to %s", got)
	}
	var history []struct{ Result string }
	if err := json.Unmarshal(tool("mirror", "history", "--output", "json"), &history); err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 || history[0].Result != "created" || history[1].Result != "refused" {
		t.Errorf("history %+v; want created, refused", history)
	}
}

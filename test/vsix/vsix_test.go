// Package vsix_test checks the marketplace extension: its manifest and versions always, and,
// when MAESTRO_VSIX_TEST=1 or CI=true, the .vsix that scripts/build-vsix.sh builds, opened as
// the zip it is.
package vsix_test

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/test/testenv"
)

const taskFolder = "task/MaestroV1"

type target struct {
	ID string `json:"id" xml:"Id,attr"`
}

type file struct {
	Path string `json:"path"`
}

type extensionManifest struct {
	ID         string            `json:"id"`
	Publisher  string            `json:"publisher"`
	Version    string            `json:"version"`
	Name       string            `json:"name"`
	Targets    []target          `json:"targets"`
	Categories []string          `json:"categories"`
	Icons      map[string]string `json:"icons"`
	Content    struct {
		Details struct {
			Path string `json:"path"`
		} `json:"details"`
	} `json:"content"`
	Files         []file `json:"files"`
	Contributions []struct {
		ID         string            `json:"id"`
		Type       string            `json:"type"`
		Targets    []string          `json:"targets"`
		Properties map[string]string `json:"properties"`
	} `json:"contributions"`
}

type taskManifest struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version struct {
		Major, Minor, Patch int
	} `json:"version"`
}

func (t taskManifest) version() string {
	return fmt.Sprintf("%d.%d.%d", t.Version.Major, t.Version.Minor, t.Version.Patch)
}

type platform struct {
	Folder, Goos, Goarch, Executable string
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestVersionsMoveTogether: the extension and its task carry one version; scripts/set-version.sh
// sets both.
func TestVersionsMoveTogether(t *testing.T) {
	root := testenv.RepoRoot(t)
	var ext extensionManifest
	var task taskManifest
	readJSONFile(t, filepath.Join(root, "vss-extension.json"), &ext)
	readJSONFile(t, filepath.Join(root, taskFolder, "task.json"), &task)
	if ext.Version != task.version() {
		t.Fatalf("vss-extension.json version %s, task.json version %s: set both with scripts/set-version.sh", ext.Version, task.version())
	}
}

func TestExtensionManifest(t *testing.T) {
	root := testenv.RepoRoot(t)
	var ext extensionManifest
	readJSONFile(t, filepath.Join(root, "vss-extension.json"), &ext)
	checkManifest(t, ext)
	for _, rel := range []string{ext.Icons["default"], ext.Content.Details.Path} {
		if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
			t.Errorf("vss-extension.json names %q: %v", rel, err)
		}
	}
}

func checkManifest(t *testing.T, ext extensionManifest) {
	t.Helper()
	if ext.ID == "" || ext.Publisher == "" || ext.Name == "" {
		t.Errorf("id %q, publisher %q, name %q: all are required", ext.ID, ext.Publisher, ext.Name)
	}
	if !slices.Contains(ext.Targets, target{"Microsoft.VisualStudio.Services"}) {
		t.Errorf("targets %v lack Microsoft.VisualStudio.Services", ext.Targets)
	}
	if !slices.Contains(ext.Categories, "Azure Pipelines") {
		t.Errorf("categories %v lack Azure Pipelines", ext.Categories)
	}
	if !slices.Contains(ext.Files, file{taskFolder}) {
		t.Errorf("files do not include %s", taskFolder)
	}
	var tasks int
	for _, c := range ext.Contributions {
		if c.Type == "ms.vss-distributed-task.task" {
			tasks++
			if c.Properties["name"] != taskFolder || !slices.Contains(c.Targets, "ms.vss-distributed-task.tasks") {
				t.Errorf("task contribution %s: name %q targets %v; want %s in ms.vss-distributed-task.tasks", c.ID, c.Properties["name"], c.Targets, taskFolder)
			}
		}
	}
	if tasks != 1 {
		t.Errorf("%d task contributions, want 1", tasks)
	}
}

// TestPublisherRefused: a PUBLISHER that is not a Marketplace publisher id is refused, exit 2
// and a message saying what an id is, before anything is staged or built — through the
// script and through make.
func TestPublisherRefused(t *testing.T) {
	root := testenv.RepoRoot(t)
	for _, bad := range []string{"Contoso Ltd", "-contoso", "contoso.tools", "contoso/tools", "contoso_tools", "a'b", "contoso\n"} {
		t.Run(bad, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "maestro.vsix")
			build := exec.Command("bash", filepath.Join(root, "scripts", "build-vsix.sh"), out)
			build.Dir = root
			build.Env = append(os.Environ(), "PUBLISHER="+bad)
			output, err := build.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("PUBLISHER=%q: %v, want exit 2\n%s", bad, err, output)
			}
			if !strings.Contains(string(output), "PUBLISHER must be a Marketplace publisher id") || strings.Contains(string(output), "== staging") {
				t.Errorf("PUBLISHER=%q: want the refusal before staging, got:\n%s", bad, output)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("PUBLISHER=%q: %s exists (%v)", bad, out, err)
			}
		})
	}
	t.Run("make", func(t *testing.T) {
		if _, err := exec.LookPath("make"); err != nil {
			t.Skip("no make on this machine")
		}
		build := exec.Command("make", "--no-print-directory", "vsix", "PUBLISHER=Contoso Ltd")
		build.Dir = root
		output, err := build.CombinedOutput()
		if err == nil || !strings.Contains(string(output), "got 'Contoso Ltd'") {
			t.Fatalf("make vsix PUBLISHER='Contoso Ltd': %v, want the script's refusal\n%s", err, output)
		}
	})
}

// vsixPublisher is the publisher TestVSIX builds under, not the one in vss-extension.json, so
// the test sees PUBLISHER reach the package.
const vsixPublisher = "contoso-tools2"

// TestVSIX builds the extension with scripts/build-vsix.sh (PUBLISHER=vsixPublisher) and
// inspects the package.
func TestVSIX(t *testing.T) {
	if os.Getenv("MAESTRO_VSIX_TEST") != "1" && os.Getenv("CI") != "true" {
		t.Skip("building the .vsix cross-compiles maestro five times; set MAESTRO_VSIX_TEST=1 (CI=true does too)")
	}
	root := testenv.RepoRoot(t)
	out := filepath.Join(t.TempDir(), "maestro.vsix")
	source, err := os.ReadFile(filepath.Join(root, "vss-extension.json"))
	if err != nil {
		t.Fatal(err)
	}
	build := exec.Command("bash", filepath.Join(root, "scripts", "build-vsix.sh"), out)
	build.Dir = root
	build.Env = append(os.Environ(), "PUBLISHER="+vsixPublisher)
	if output, err := build.CombinedOutput(); err != nil {
		t.Fatalf("PUBLISHER=%s scripts/build-vsix.sh: %v\n%s", vsixPublisher, err, output)
	}
	if after, err := os.ReadFile(filepath.Join(root, "vss-extension.json")); err != nil || !bytes.Equal(after, source) {
		t.Errorf("building changed vss-extension.json in the source tree (%v)", err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatalf("open %s as a zip: %v", out, err)
	}
	defer zr.Close()
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	read := func(name string) []byte {
		t.Helper()
		f, ok := files[name]
		if !ok {
			t.Fatalf("the .vsix has no %s", name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}

	var ext extensionManifest
	var task taskManifest
	readJSONFile(t, filepath.Join(root, "vss-extension.json"), &ext)
	readJSONFile(t, filepath.Join(root, taskFolder, "task.json"), &task)

	t.Run("manifest", func(t *testing.T) {
		var vsix struct {
			Metadata struct {
				Identity struct {
					ID        string `xml:"Id,attr"`
					Version   string `xml:"Version,attr"`
					Publisher string `xml:"Publisher,attr"`
				} `xml:"Identity"`
				DisplayName string `xml:"DisplayName"`
			} `xml:"Metadata"`
			Installation struct {
				Targets []target `xml:"InstallationTarget"`
			} `xml:"Installation"`
		}
		if err := xml.Unmarshal(read("extension.vsixmanifest"), &vsix); err != nil {
			t.Fatalf("extension.vsixmanifest: %v", err)
		}
		id := vsix.Metadata.Identity
		if id.ID != ext.ID || id.Publisher != vsixPublisher || id.Version != task.version() {
			t.Errorf("identity %+v; want id %s, publisher %s, version %s", id, ext.ID, vsixPublisher, task.version())
		}
		if !slices.Contains(vsix.Installation.Targets, target{"Microsoft.VisualStudio.Services"}) {
			t.Errorf("installation targets %v lack Microsoft.VisualStudio.Services", vsix.Installation.Targets)
		}
		var packed extensionManifest
		if err := json.Unmarshal(read("extension.vsomanifest"), &packed); err != nil {
			t.Fatalf("extension.vsomanifest: %v", err)
		}
		checkContributions(t, packed)
		read("[Content_Types].xml")
	})

	t.Run("task folder", func(t *testing.T) {
		libs, err := filepath.Glob(filepath.Join(root, taskFolder, "lib", "*"))
		if err != nil || len(libs) == 0 {
			t.Fatalf("no files in %s/lib: %v", taskFolder, err)
		}
		sources := []string{"task.json", "index.js", "icon.png", "package.json", "package-lock.json"}
		for _, l := range libs {
			sources = append(sources, "lib/"+filepath.Base(l))
		}
		for _, rel := range sources {
			want, err := os.ReadFile(filepath.Join(root, taskFolder, rel))
			if err != nil {
				t.Fatal(err)
			}
			if got := read(taskFolder + "/" + rel); !bytes.Equal(got, want) {
				t.Errorf("%s/%s in the .vsix differs from the source", taskFolder, rel)
			}
		}
		var lib struct{ Version string }
		if err := json.Unmarshal(read(taskFolder+"/node_modules/azure-pipelines-task-lib/package.json"), &lib); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(lib.Version, "5.") {
			t.Errorf("bundled azure-pipelines-task-lib %s, want 5.x", lib.Version)
		}
		for name := range files {
			if strings.HasPrefix(name, taskFolder+"/tests/") {
				t.Errorf("the .vsix carries the task's tests: %s", name)
			}
		}
	})

	var platforms []platform
	readJSONFile(t, filepath.Join(root, taskFolder, "lib", "platforms.json"), &platforms)
	if len(platforms) != 5 {
		t.Errorf("platforms.json lists %d platforms, want linux x64/arm64, windows x64, darwin x64/arm64", len(platforms))
	}
	for _, p := range platforms {
		t.Run("binary "+p.Folder, func(t *testing.T) {
			data := read(fmt.Sprintf("%s/bin/%s/%s", taskFolder, p.Folder, p.Executable))
			if err := checkExecutable(data, p.Goos, p.Goarch); err != nil {
				t.Fatal(err)
			}
			if p.Goos != runtime.GOOS || p.Goarch != runtime.GOARCH {
				return
			}
			bin := filepath.Join(t.TempDir(), p.Executable)
			if err := os.WriteFile(bin, data, 0o755); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, "--help").CombinedOutput(); err != nil {
				t.Fatalf("the packed binary does not run: %v\n%s", err, out)
			}
		})
	}
}

func checkContributions(t *testing.T, ext extensionManifest) {
	t.Helper()
	for _, c := range ext.Contributions {
		if c.Type == "ms.vss-distributed-task.task" && c.Properties["name"] == taskFolder {
			return
		}
	}
	t.Errorf("the packed manifest has no task contribution for %s: %+v", taskFolder, ext.Contributions)
}

// checkExecutable checks that data is an executable for goos/goarch.
func checkExecutable(data []byte, goos, goarch string) error {
	r := bytes.NewReader(data)
	switch goos {
	case "linux":
		f, err := elf.NewFile(r)
		if err != nil {
			return fmt.Errorf("not an ELF file: %w", err)
		}
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
		if f.Machine != want || f.Type != elf.ET_EXEC {
			return fmt.Errorf("ELF %v %v, want an executable for %v", f.Type, f.Machine, want)
		}
	case "windows":
		f, err := pe.NewFile(r)
		if err != nil {
			return fmt.Errorf("not a PE file: %w", err)
		}
		if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
			return fmt.Errorf("PE machine %#x characteristics %#x, want an amd64 executable", f.Machine, f.Characteristics)
		}
	case "darwin":
		f, err := macho.NewFile(r)
		if err != nil {
			return fmt.Errorf("not a Mach-O file: %w", err)
		}
		want := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
		if f.Cpu != want || f.Type != macho.TypeExec {
			return fmt.Errorf("Mach-O %v %v, want an executable for %v", f.Type, f.Cpu, want)
		}
	default:
		return fmt.Errorf("no check for %s", goos)
	}
	return nil
}

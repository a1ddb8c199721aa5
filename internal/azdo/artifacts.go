package azdo

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
)

// AssetManifestsArtifact is the build artifact Arcade uploads its asset
// manifests to (one XML file per job that publishes).
const AssetManifestsArtifact = "AssetManifests"

// Limits of an artifact download: the zip, its files and their total size
// once inflated. Asset manifests are a few megabytes at most.
const (
	maxArtifactZip   = 256 << 20
	maxArtifactFiles = 10000
	maxArtifactBytes = 512 << 20
)

// ArtifactFile is one file of a build artifact: its path inside the
// artifact (without the artifact's name) and contents.
type ArtifactFile struct {
	Path string
	Data []byte
}

// Build reads build id of a project (the Builds API's GetBuild).
func Build(ctx context.Context, conn *azuredevops.Connection, project string, id int) (_ *build.Build, err error) {
	defer func() { err = redact.Error(err, redact.AuthorizationSecrets(conn.AuthorizationString)...) }()
	client, err := build.NewClient(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", conn.BaseUrl, err)
	}
	b, err := client.GetBuild(ctx, build.GetBuildArgs{Project: &project, BuildId: &id})
	if isNotFound(err) {
		return nil, maestro.Errorf(maestro.KindNotFound, "build %d of %s/%s: the service does not have it (deleted, or another project)", id, conn.BaseUrl, project)
	}
	if err != nil {
		return nil, fmt.Errorf("read build %d of %s/%s: %w", id, conn.BaseUrl, project, err)
	}
	return b, nil
}

// ArtifactFiles lists the artifacts of build id (GetArtifacts) and
// downloads the one called name (GetArtifactContentZip: the artifact's
// container as a zip), returning its files in the zip's order. A build
// without that artifact is a KindNotFound error naming the artifacts it
// has. The download is bounded (256 MB zipped, 10,000 files, 512 MB
// inflated); a zip entry whose path leaves the artifact's folder is
// refused.
func ArtifactFiles(ctx context.Context, conn *azuredevops.Connection, project string, id int, name string) (_ []ArtifactFile, err error) {
	defer func() { err = redact.Error(err, redact.AuthorizationSecrets(conn.AuthorizationString)...) }()
	client, err := build.NewClient(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", conn.BaseUrl, err)
	}
	where := fmt.Sprintf("build %d of %s/%s", id, conn.BaseUrl, project)
	arts, err := client.GetArtifacts(ctx, build.GetArtifactsArgs{Project: &project, BuildId: &id})
	if isNotFound(err) {
		return nil, maestro.Errorf(maestro.KindNotFound, "%s: the service does not have it (deleted, or another project)", where)
	}
	if err != nil {
		return nil, fmt.Errorf("list the artifacts of %s: %w", where, err)
	}
	var names []string
	found := ""
	for _, a := range *arts {
		n := derefString(a.Name)
		names = append(names, n)
		if strings.EqualFold(n, name) {
			found = n
		}
	}
	if found == "" {
		have := "none"
		if len(names) > 0 {
			have = strings.Join(names, ", ")
		}
		return nil, maestro.Errorf(maestro.KindNotFound, "%s has no artifact %s (it has: %s); does the pipeline publish its asset manifests?", where, name, have)
	}
	rc, err := client.GetArtifactContentZip(ctx, build.GetArtifactContentZipArgs{Project: &project, BuildId: &id, ArtifactName: &found})
	if err != nil {
		return nil, fmt.Errorf("download artifact %s of %s: %w", found, where, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxArtifactZip+1))
	if err != nil {
		return nil, fmt.Errorf("download artifact %s of %s: %w", found, where, err)
	}
	if len(data) > maxArtifactZip {
		return nil, maestro.Errorf(maestro.KindInvalid, "artifact %s of %s is larger than %d MB", found, where, maxArtifactZip>>20)
	}
	files, err := unzipArtifact(data, found)
	if err != nil {
		return nil, maestro.Errorf(maestro.KindInvalid, "artifact %s of %s: %v", found, where, err)
	}
	return files, nil
}

// unzipArtifact reads the files of a container zip, whose entries are
// {name}/{path}.
func unzipArtifact(data []byte, name string) ([]ArtifactFile, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a zip: %v", err)
	}
	if len(zr.File) > maxArtifactFiles {
		return nil, fmt.Errorf("%d files; at most %d are read", len(zr.File), maxArtifactFiles)
	}
	var out []ArtifactFile
	total := int64(0)
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a folder
		}
		rel, ok := strings.CutPrefix(f.Name, name+"/")
		clean := path.Clean(rel)
		if !ok || clean != rel || strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
			return nil, fmt.Errorf("entry %q is not a file inside %s/", f.Name, name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("entry %s: %v", f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxArtifactBytes-total+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("entry %s: %v", f.Name, err)
		}
		total += int64(len(b))
		if total > maxArtifactBytes {
			return nil, fmt.Errorf("more than %d MB once unzipped", maxArtifactBytes>>20)
		}
		out = append(out, ArtifactFile{Path: rel, Data: b})
	}
	return out, nil
}

// JobVariables are the predefined variables a job of build b (of the
// organization at orgURL) sees that `maestro publish` reads (see
// service.PipelineBuild): what the pipeline task would have published with,
// read back from the Builds API.
func JobVariables(orgURL string, b *build.Build) map[string]string {
	vars := map[string]string{
		"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": strings.TrimRight(orgURL, "/") + "/",
		"BUILD_BUILDNUMBER":                  derefString(b.BuildNumber),
		"BUILD_SOURCEVERSION":                derefString(b.SourceVersion),
		"BUILD_SOURCEBRANCH":                 derefString(b.SourceBranch),
	}
	if b.Id != nil {
		vars["BUILD_BUILDID"] = strconv.Itoa(*b.Id)
	}
	if b.Definition != nil && b.Definition.Id != nil {
		vars["SYSTEM_DEFINITIONID"] = strconv.Itoa(*b.Definition.Id)
	}
	if b.Project != nil {
		vars["SYSTEM_TEAMPROJECT"] = derefString(b.Project.Name)
	}
	if b.Repository != nil {
		vars["BUILD_REPOSITORY_URI"] = derefString(b.Repository.Url)
	}
	return vars
}

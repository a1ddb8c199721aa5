package azdo_test

import (
	"archive/zip"
	"bytes"
	"context"
	"testing"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/azdo"
	"github.com/maestroplusplus/maestro/internal/maestro"
	double "github.com/maestroplusplus/maestro/test/azdo"
)

func TestArtifactFiles(t *testing.T) {
	ctx := context.Background()
	srv := double.NewServer(t, double.WithPAT("pat-secret-value"))
	project := srv.AddProject("internal")
	repo := srv.AddRepository(project, "runtime")
	head := repo.Commit("main", map[string][]byte{"README.md": []byte("x\n")}, "init")
	pl := srv.AddYAMLPipeline(project, double.YAMLPipeline{Name: "official", Repository: repo, Path: "/azure-pipelines.yml"})
	id := srv.AddBuild(pl, "main", head)
	srv.AddArtifact(id, "AssetManifests", map[string][]byte{"b.xml": []byte("<B/>"), "a.xml": []byte("<A/>")})
	srv.SetBuildStatus(id, build.BuildStatusValues.Completed, build.BuildResultValues.PartiallySucceeded)
	conn := azdo.Connection(srv.OrganizationURL(), "pat-secret-value", false)

	files, err := azdo.ArtifactFiles(ctx, conn, "internal", id, "assetmanifests")
	require.NoError(t, err)
	assert.Equal(t, []azdo.ArtifactFile{{Path: "a.xml", Data: []byte("<A/>")}, {Path: "b.xml", Data: []byte("<B/>")}}, files)

	b, err := azdo.Build(ctx, conn, "internal", id)
	require.NoError(t, err)
	assert.Equal(t, head, *b.SourceVersion)
	assert.Equal(t, build.BuildResultValues.PartiallySucceeded, *b.Result)

	_, err = azdo.ArtifactFiles(ctx, conn, "internal", id, "drop")
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))
	assert.ErrorContains(t, err, "has no artifact drop (it has: AssetManifests)")
	_, err = azdo.ArtifactFiles(ctx, conn, "internal", id+1, "AssetManifests")
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))
	_, err = azdo.Build(ctx, conn, "internal", id+1)
	assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err))

	bad := azdo.Connection(srv.OrganizationURL(), "wrong-token-value", false)
	_, err = azdo.ArtifactFiles(ctx, bad, "internal", id, "AssetManifests")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "wrong-token-value")
}

func TestUnzipArtifactRefusesEscapes(t *testing.T) {
	for _, name := range []string{"AssetManifests/../x.xml", "Other/x.xml", "AssetManifests//x.xml", "/AssetManifests/x.xml"} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, err := zw.Create(name)
			require.NoError(t, err)
			w.Write([]byte("<Build/>"))
			require.NoError(t, zw.Close())
			_, err = azdo.UnzipArtifact(buf.Bytes(), "AssetManifests")
			assert.ErrorContains(t, err, "is not a file inside AssetManifests/")
		})
	}
}

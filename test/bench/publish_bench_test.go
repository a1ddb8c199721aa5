// Package bench holds the benchmarks behind docs/performance.md that span
// several packages: whole commands, run in-process, on the local store and on
// a real Azurite.
package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"github.com/maestroplusplus/maestro/internal/cli"
	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
	"github.com/maestroplusplus/maestro/test/azurite"
)

const assetsPerBuild = 20000

// writeManifest writes a manifest of one build with assetsPerBuild packages.
func writeManifest(tb testing.TB, dir string, azdoBuildID int) string {
	tb.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<Build PublishingVersion="3" Name="dotnet/runtime" BuildId="20261125.%[1]d" Branch="refs/heads/main" Commit="%040[1]x" InitialAssetsLocation="https://dev.azure.com/dnceng/internal/_apis/build/builds/%[1]d/artifacts" AzureDevOpsBuildId="%[1]d" AzureDevOpsBuildDefinitionId="679" AzureDevOpsAccount="dnceng" AzureDevOpsProject="internal" AzureDevOpsBuildNumber="20261125.%[1]d" AzureDevOpsRepository="https://github.com/dotnet/runtime" AzureDevOpsBranch="refs/heads/main" IsStable="false">
`, azdoBuildID)
	for i := range assetsPerBuild {
		fmt.Fprintf(&b, `  <Package Id="Microsoft.NETCore.App.Runtime.Component%05d" Version="10.0.0-preview.1.26575.%d" NonShipping="false" />`+"\n", i, azdoBuildID)
	}
	b.WriteString("</Build>\n")
	path := filepath.Join(dir, fmt.Sprintf("m%d.xml", azdoBuildID))
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// publish runs `maestro publish` in-process, as a user would (printing the BAR
// id), and returns the id.
func publish(tb testing.TB, storeURL string, env map[string]string, manifest string) int {
	var out, errOut bytes.Buffer
	code := cli.Main(context.Background(), []string{"maestro", "publish", "--manifest", manifest, "--store", storeURL}, factory(&out, &errOut, env))
	if code != 0 {
		tb.Fatalf("publish: exit %d: %s", code, errOut.String())
	}
	id, err := strconv.Atoi(strings.TrimSpace(out.String()))
	if err != nil {
		tb.Fatalf("publish printed %q, not a BAR id", out.String())
	}
	return id
}

// showBuild reads a build back with `maestro build show --output json`.
func showBuild(tb testing.TB, storeURL string, env map[string]string, id int) maestro.Build {
	var out, errOut bytes.Buffer
	code := cli.Main(context.Background(), []string{"maestro", "build", "show", "--id", strconv.Itoa(id), "--store", storeURL, "--output", "json"}, factory(&out, &errOut, env))
	if code != 0 {
		tb.Fatalf("build show: exit %d: %s", code, errOut.String())
	}
	var b maestro.Build
	if err := json.Unmarshal(out.Bytes(), &b); err != nil {
		tb.Fatal(err)
	}
	return b
}

func factory(out, errOut *bytes.Buffer, env map[string]string) *cmdutil.Factory {
	return &cmdutil.Factory{
		IO:          cmdutil.IO{In: strings.NewReader(""), Out: out, ErrOut: errOut},
		Getenv:      func(k string) string { return env[k] },
		Now:         time.Now,
		OpenStore:   storeurl.Open,
		CreateStore: storeurl.Create,
	}
}

// BenchmarkPublish20000Assets publishes a new 20,000-asset build per
// iteration with the whole publish command (parse, merge, record, index,
// channel). Each iteration also times the floor: one create-only write of
// the record's assets as encoding/json writes them (what `build show`
// prints, 4.9 MB; the registry's format 1 stored exactly these bytes, and
// format 2 stores the same assets in 0.3 MB, but the floor stays what it
// was) — a plain azblob upload on Azurite, one fsync'd write of the local
// store elsewhere — and the benchmark reports the ratio.
func BenchmarkPublish20000Assets(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		floorStore, err := local.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		benchPublish(b, "file://"+b.TempDir(), nil, func(ctx context.Context, i int, doc []byte) error {
			_, err := floorStore.Put(ctx, fmt.Sprintf("assets-%d.json", i), doc, store.Condition{CreateOnly: true})
			return err
		})
	})
	b.Run("azurite", func(b *testing.B) {
		srv := azurite.Start(b)
		env := map[string]string{"AZURE_STORAGE_CONNECTION_STRING": srv.ConnectionString()}
		client, err := azblob.NewClientFromConnectionString(srv.ConnectionString(), nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := client.CreateContainer(context.Background(), "floor", nil); err != nil {
			b.Fatal(err)
		}
		benchPublish(b, "azblob://bench", env, func(ctx context.Context, i int, doc []byte) error {
			_, err := client.UploadBuffer(ctx, "floor", fmt.Sprintf("assets-%d.json", i), doc, &azblob.UploadBufferOptions{
				AccessConditions: &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}},
			})
			return err
		})
	})
}

func benchPublish(b *testing.B, storeURL string, env map[string]string, writeFloor func(ctx context.Context, i int, doc []byte) error) {
	dir := b.TempDir()
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if code := cli.Main(ctx, []string{"maestro", "registry", "init", "--store", storeURL}, factory(&out, &errOut, env)); code != 0 {
		b.Fatalf("registry init: exit %d: %s", code, errOut.String())
	}
	// One publish first so the repository's asset-name index exists: the
	// benchmark measures the steady state of a repository's official builds.
	publish(b, storeURL, env, writeManifest(b, dir, 1))
	var floor, cpu time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		m := writeManifest(b, dir, 100+i)
		cpu0 := cpuTime(b)
		b.StartTimer()
		var id int
		// The label lets a CPU profile of this benchmark focus on the
		// publish and every goroutine it starts (-tagfocus part=publish).
		pprof.Do(ctx, pprof.Labels("part", "publish"), func(context.Context) {
			id = publish(b, storeURL, env, m)
		})
		b.StopTimer()
		cpu += cpuTime(b) - cpu0
		got := showBuild(b, storeURL, env, id)
		if len(got.Assets) != assetsPerBuild {
			b.Fatalf("recorded %d assets", len(got.Assets))
		}
		doc, err := json.Marshal(got.Assets)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := writeFloor(ctx, i, doc); err != nil {
			b.Fatal(err)
		}
		floor += time.Since(start)
		os.Remove(m)
		b.StartTimer()
	}
	b.StopTimer()
	if b.N > 0 {
		perOp := b.Elapsed() / time.Duration(b.N)
		floorPerOp := floor / time.Duration(b.N)
		b.ReportMetric(float64(floorPerOp.Microseconds())/1000, "floor-ms")
		b.ReportMetric(float64(perOp)/float64(floorPerOp), "x-floor")
		b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}

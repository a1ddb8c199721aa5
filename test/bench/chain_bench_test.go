package bench_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/cli"
)

// BenchmarkLocalChain is publish → pull request on the local platform for a
// three-repository chain, end to end: `maestro demo` in-process, which
// creates the three repositories, publishes the producer's build (pull
// request in the middle repository), merges it, publishes the middle
// repository's build and opens the pull request in the consumer, coherency
// included. Creating the repositories is inside the timed region, so the
// chain itself takes less.
func BenchmarkLocalChain(b *testing.B) {
	for i := range b.N {
		var out, errOut bytes.Buffer
		dir := filepath.Join(b.TempDir(), "demo")
		f := factory(&out, &errOut, map[string]string{})
		code := cli.Main(context.Background(), []string{"maestro", "demo", "--dir", dir}, f)
		if code != 0 || !strings.Contains(out.String(), "7. Maestro++ opened pull request #2 in app") {
			b.Fatalf("demo %d: exit %d\n%s\n%s", i, code, out.String(), errOut.String())
		}
	}
}

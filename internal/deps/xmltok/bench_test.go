package xmltok_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/xmltok"
)

// BenchmarkParse tokenises a 2,000-dependency Version.Details.xml.
func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Dependencies>\n  <ProductDependencies>\n")
	for i := range 2000 {
		fmt.Fprintf(&sb, "    <Dependency Name=\"Contoso.Package%04d.Library\" Version=\"1.0.%d\">\n      <Uri>https://github.com/dotnet/repo%02d</Uri>\n      <Sha>%040d</Sha>\n    </Dependency>\n", i, i, i%40, i)
	}
	sb.WriteString("  </ProductDependencies>\n</Dependencies>\n")
	src := []byte(sb.String())
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := xmltok.Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

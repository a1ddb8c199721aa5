// Package cmdutil holds what every maestro command shares: the injected IO
// streams and environment, the --store and --output flags, opening the
// registry, printing tables and JSON, and the agent-aware error report.
package cmdutil

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
)

// IO is where a command reads and writes; tests pass buffers.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Factory gives commands their dependencies. Tests build one with buffers, an
// environment map and a fixed clock.
type Factory struct {
	IO     IO
	Getenv func(string) string
	Now    func() time.Time
	// OpenStore opens the store named by a --store value ("" means the default).
	OpenStore func(ctx context.Context, raw string, getenv func(string) string) (store.Store, error)
}

// StoreFlag selects the object store the registry lives in.
var StoreFlag = &cli.StringFlag{
	Name:  "store",
	Usage: "registry store: file:///abs/path, file://rel/path or azblob://CONTAINER (default: $MAESTRO_STORE, else the local store)",
}

// OutputFlag selects table or JSON output.
var OutputFlag = &cli.StringFlag{
	Name:  "output",
	Value: "table",
	Usage: "output format: table or json",
}

// Registry opens the registry on the store the command's --store names.
func (f *Factory) Registry(c *cli.Context) (*registry.Registry, error) {
	st, err := f.OpenStore(c.Context, c.String(StoreFlag.Name), f.Getenv)
	if err != nil {
		return nil, err
	}
	return registry.New(st, registry.WithClock(f.Now)), nil
}

// JSON reports whether the command was asked for JSON output.
func JSON(c *cli.Context) (bool, error) {
	switch o := c.String(OutputFlag.Name); o {
	case "", "table":
		return false, nil
	case "json":
		return true, nil
	default:
		return false, UsageErrorf("--output %q: use table or json", o)
	}
}

// Print writes v as indented JSON when the command asked for it, else calls
// table with a tab-aligned writer.
func (f *Factory) Print(c *cli.Context, v any, table func(w io.Writer)) error {
	asJSON, err := JSON(c)
	if err != nil {
		return err
	}
	return f.Render(asJSON, v, table)
}

// Render writes v as indented JSON when asJSON, else calls table with a
// tab-aligned writer: Print for a command whose --output was parsed into its
// options.
func (f *Factory) Render(asJSON bool, v any, table func(w io.Writer)) error {
	if asJSON {
		return WriteJSON(f.IO.Out, v)
	}
	tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// WriteJSON writes v as indented JSON and a newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Row writes one tab-separated table row; every cell is escaped (see Escape)
// so that stored text cannot break the table or reach the terminal as a
// control sequence.
func Row(w io.Writer, cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = Escape(fmt.Sprint(c))
	}
	fmt.Fprintln(w, strings.Join(parts, "\t"))
}

// Escape makes text safe for one table cell on a terminal: control
// characters (tab, line breaks, ESC, DEL, the C1 range) and bytes that are
// not UTF-8 are written as Go escapes (\t, \n, \x1b, \u0085); everything
// else is kept as is.
func Escape(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// ShortSHA shortens a commit id to 12 characters for tables.
func ShortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

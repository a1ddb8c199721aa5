// Package cmdutil holds what every maestro command shares: the injected IO
// streams and environment, the --store and --output flags, opening the
// registry, printing tables and JSON, and the agent-aware error report.
package cmdutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
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
	// OpenStore opens the store named by a --store value ("" means the
	// default). It creates nothing: a missing store is an error wrapping
	// store.ErrNotExist.
	OpenStore func(ctx context.Context, raw string, getenv func(string) string) (store.Store, error)
	// CreateStore opens the store like OpenStore, creating its folder or
	// container when missing (registry init and --create).
	CreateStore func(ctx context.Context, raw string, getenv func(string) string) (store.Store, error)
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

// CreateFlag lets a command make the registry when the store holds none.
var CreateFlag = &cli.BoolFlag{
	Name:  "create",
	Usage: "create the registry (folder or container, and format marker) if the store holds none, as maestro registry init does",
}

// Registry opens the registry on the store the command's --store names. A
// store without a registry (no folder or container, or no format marker) is
// bad input: nothing is created, and the error says how to create one.
func (f *Factory) Registry(c *cli.Context) (*registry.Registry, error) {
	return f.RegistryAt(c.Context, c.String(StoreFlag.Name))
}

// RegistryAt is Registry on the store URL raw ("" for the default), for a
// command that reads the store from elsewhere too (`maestro serve --config`).
func (f *Factory) RegistryAt(ctx context.Context, raw string) (*registry.Registry, error) {
	st, err := f.OpenStore(ctx, raw, f.Getenv)
	if errors.Is(err, store.ErrNotExist) {
		return nil, f.noRegistry(raw)
	}
	if err != nil {
		return nil, err
	}
	reg := f.RegistryOn(st)
	if _, err := reg.CheckFormat(ctx); errors.Is(err, registry.ErrNoRegistry) {
		return nil, f.noRegistry(raw)
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", f.storeName(raw), err)
	}
	return reg, nil
}

// RegistryOn is the registry on st as every command opens it (the
// factory's clock, its host checker), without checking its format.
func (f *Factory) RegistryOn(st store.Store) *registry.Registry {
	return registry.New(st, registry.WithClock(f.Now), registry.WithHostChecker(f.Wiring()))
}

// CreateRegistry opens the registry on the store --store names, creating the
// store and writing the format marker when missing; created says whether
// this call wrote the marker.
func (f *Factory) CreateRegistry(c *cli.Context) (reg *registry.Registry, created bool, err error) {
	if f.CreateStore == nil {
		return nil, false, errors.New("this maestro cannot create stores")
	}
	st, err := f.CreateStore(c.Context, c.String(StoreFlag.Name), f.Getenv)
	if err != nil {
		return nil, false, err
	}
	reg = f.RegistryOn(st)
	_, created, err = reg.Init(c.Context)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", f.storeName(c.String(StoreFlag.Name)), err)
	}
	return reg, created, nil
}

// StoreName is the URL of the store the command's --store names, for
// messages (it holds no secret).
func (f *Factory) StoreName(c *cli.Context) string { return f.storeName(c.String(StoreFlag.Name)) }

func (f *Factory) noRegistry(raw string) error {
	name := f.storeName(raw)
	return &maestro.Error{Kind: maestro.KindInvalid, Err: registry.ErrNoRegistry,
		Msg: fmt.Sprintf("no registry at %s; `maestro registry init --store %s` creates one", name, name)}
}

// storeName is the store URL for messages: the parsed location (which holds
// no secret), else the value as given.
func (f *Factory) storeName(raw string) string {
	if loc, err := storeurl.Parse(raw, f.Getenv); err == nil {
		return loc.String()
	}
	return raw
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

// Render writes v as indented JSON when asJSON (the command's parsed
// --output), else calls table with a tab-aligned writer.
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

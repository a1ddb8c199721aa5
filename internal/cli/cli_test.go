package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/store"
)

// testFactory returns a Factory on buffers whose store opener records the
// --store value it got and fails, so that a test sees what was parsed.
func testFactory(opened *string) (*cmdutil.Factory, *strings.Builder, *strings.Builder) {
	var out, errOut strings.Builder
	return &cmdutil.Factory{
		IO:     cmdutil.IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		Getenv: func(string) string { return "" },
		OpenStore: func(_ context.Context, raw string, _ func(string) string) (store.Store, error) {
			*opened = raw
			return nil, errors.New("opened " + raw)
		},
	}, &out, &errOut
}

func TestGlobalFlagsBeforeOrAfterCommand(t *testing.T) {
	for _, args := range [][]string{
		{"maestro", "channel", "list", "--store", "file:///s", "--output", "json"},
		{"maestro", "--store", "file:///s", "channel", "list", "--output", "json"},
		{"maestro", "--store=file:///s", "--output", "json", "channel", "list"},
		{"maestro", "--output=json", "channel", "list", "--store=file:///s"},
	} {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) {
			var opened string
			f, out, errOut := testFactory(&opened)
			code := Main(context.Background(), args, f)
			assert.Equal(t, "file:///s", opened, "the --store value reached the command")
			assert.Equal(t, cmdutil.ExitFailure, code)
			assert.Equal(t, "maestro: opened file:///s\n", errOut.String())
			assert.Empty(t, out.String())
		})
	}
}

func TestUsageErrorPrintedOnce(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"maestro", "channel", "list", "--bogus"}, "maestro: flag provided but not defined: -bogus; `maestro channel list --help` shows the usage\n"},
		{[]string{"maestro", "channel", "add"}, "maestro: Required flag \"name\" not set; `maestro channel add --help` shows the usage\n"},
		{[]string{"maestro", "--bogus"}, "maestro: flag provided but not defined: -bogus; `maestro --help` shows the usage\n"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args[1:], " "), func(t *testing.T) {
			var opened string
			f, out, errOut := testFactory(&opened)
			code := Main(context.Background(), c.args, f)
			assert.Equal(t, cmdutil.ExitInvalid, code)
			assert.Equal(t, c.want, errOut.String())
			assert.Empty(t, out.String(), "no help beside the usage error")
		})
	}
}

func TestHelpStillPrinted(t *testing.T) {
	var opened string
	f, out, errOut := testFactory(&opened)
	assert.Equal(t, cmdutil.ExitOK, Main(context.Background(), []string{"maestro", "channel", "add", "--help"}, f))
	assert.Contains(t, out.String(), "maestro channel add - create a channel")
	assert.Empty(t, errOut.String())
}

func TestVersion(t *testing.T) {
	defer func(v string) { Version = v }(Version)
	for _, c := range []struct{ set, want string }{
		{"1.2.3", "maestro version 1.2.3\n"},
		{"", "maestro version dev\n"}, // a test binary records no module version or commit
	} {
		Version = c.set
		var opened string
		f, out, _ := testFactory(&opened)
		assert.Equal(t, cmdutil.ExitOK, Main(context.Background(), []string{"maestro", "--version"}, f))
		assert.Equal(t, c.want, out.String())
	}
}

// In a flag's usage, the first backquoted word is its value placeholder in
// --help: a bool flag takes no value, so a backquote in its usage shows as
// `--create maestro registry init`.
func TestBoolFlagsHaveNoPlaceholder(t *testing.T) {
	var opened string
	f, _, _ := testFactory(&opened)
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			for _, fl := range c.Flags {
				if b, ok := fl.(*cli.BoolFlag); ok {
					assert.NotContains(t, b.Usage, "`", "%s %s --%s", path, c.Name, b.Name)
				}
			}
			walk(path+" "+c.Name, c.Subcommands)
		}
	}
	walk("maestro", NewApp(f).Commands)
}

package cli

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
)

// interspersed moves the flags of the command that args invoke in front of
// its positional arguments. urfave/cli stops reading flags at the first
// positional argument, but people write `maestro config apply FILE --dry-run`
// as often as `maestro config apply --dry-run FILE`; both must work. A "--"
// ends the flags as usual.
//
// The flags every command has, --store and --output, may also come before the
// command (`maestro --store URL channel list`); they move behind it.
func interspersed(cmds []*cli.Command, args []string) []string {
	if len(args) < 2 {
		return args
	}
	orig := args
	var global []string
	j := 1
	for j < len(args) {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[j], "-"), "=")
		if len(args[j]) < 2 || args[j][0] != '-' || !isGlobal(name) {
			break
		}
		global = append(global, args[j])
		j++
		if !hasValue && j < len(args) {
			global = append(global, args[j])
			j++
		}
	}
	args = append(slices.Clone(args[:1]), args[j:]...)
	i := 1
	var leaf *cli.Command
	for i < len(args) {
		c := findCommand(cmds, args[i])
		if c == nil {
			break
		}
		leaf, cmds = c, c.Subcommands
		i++
	}
	if leaf == nil || len(leaf.Subcommands) > 0 {
		return orig
	}
	out := append(slices.Clone(args[:i]), global...)
	var positional []string
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		out = append(out, a)
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && takesValue(leaf, name) && i+1 < len(args) {
			i++
			out = append(out, args[i])
		}
	}
	return append(out, positional...)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name || slices.Contains(c.Aliases, name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether the command's flag name reads the next argument.
func takesValue(c *cli.Command, name string) bool {
	for _, f := range c.Flags {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		_, isBool := f.(*cli.BoolFlag)
		return !isBool
	}
	return false
}

// isGlobal reports whether name is a flag that every command with a store
// takes, and so may come before the command.
func isGlobal(name string) bool {
	return slices.Contains(cmdutil.StoreFlag.Names(), name) || slices.Contains(cmdutil.OutputFlag.Names(), name)
}

// commandPath names the command that args invoke, as "maestro channel add".
func commandPath(cmds []*cli.Command, args []string) string {
	path := []string{"maestro"}
	for _, a := range args[1:] {
		c := findCommand(cmds, a)
		if c == nil {
			break
		}
		path = append(path, c.Name)
		cmds = c.Subcommands
	}
	return strings.Join(path, " ")
}

package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
)

func TestInterspersed(t *testing.T) {
	cmds := NewApp(&cmdutil.Factory{}).Commands
	tests := []struct{ in, want string }{
		{"maestro config apply f.yaml --dry-run --store file:///s", "maestro config apply --dry-run --store file:///s f.yaml"},
		{"maestro config apply --prune f.yaml", "maestro config apply --prune f.yaml"},
		{"maestro config apply f.yaml --store=file:///s", "maestro config apply --store=file:///s f.yaml"},
		{"maestro config apply f.yaml -- --dry-run", "maestro config apply f.yaml -- --dry-run"},
		{"maestro publish --manifest m.xml stray", "maestro publish --manifest m.xml stray"},
		{"maestro subscription", "maestro subscription"},
		{"maestro --help", "maestro --help"},
		{"maestro --store file:///s channel list", "maestro channel list --store file:///s"},
		{"maestro --output json --store=x build list --repository r", "maestro build list --output json --store=x --repository r"},
		{"maestro --store file:///s config apply f.yaml --dry-run", "maestro config apply --store file:///s --dry-run f.yaml"},
		{"maestro --store file:///s channel", "maestro --store file:///s channel"},
		{"maestro --store", "maestro --store"},
		{"maestro --version", "maestro --version"},
		{"maestro", "maestro"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, strings.Join(interspersed(cmds, strings.Fields(tt.in)), " "))
		})
	}
}

func TestUnknownCommandIsBadInput(t *testing.T) {
	var out, errOut strings.Builder
	f := &cmdutil.Factory{IO: cmdutil.IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, Getenv: func(string) string { return "" }}
	code := Main(context.Background(), []string{"maestro", "frobnicate"}, f)
	assert.Equal(t, cmdutil.ExitInvalid, code)
	assert.Equal(t, "maestro: unknown command 'frobnicate'; `maestro --help` lists the commands\n", errOut.String())
}

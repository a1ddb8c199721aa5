package registry

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

func TestParsesArguments(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCheck  *CheckOptions
		wantRepair *RepairOptions
		wantKind   maestro.ErrorKind
	}{
		{"check", []string{"check"}, &CheckOptions{}, nil, 0},
		{"check json", []string{"check", "--output", "json"}, &CheckOptions{JSON: true}, nil, 0},
		{"repair defaults", []string{"repair"}, nil, &RepairOptions{MinAge: time.Hour}, 0},
		{"repair dry run", []string{"repair", "--dry-run", "--min-age", "0s", "--output", "json"}, nil, &RepairOptions{DryRun: true, JSON: true}, 0},
		{"repair negative age", []string{"repair", "--min-age", "-1s"}, nil, nil, maestro.KindInvalid},
		{"check argument", []string{"check", "extra"}, nil, nil, maestro.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotCheck *CheckOptions
			var gotRepair *RepairOptions
			cmd := NewCmd(&cmdutil.Factory{},
				func(_ *cli.Context, o *CheckOptions) error { gotCheck = o; return nil },
				func(_ *cli.Context, o *RepairOptions) error { gotRepair = o; return nil })
			app := &cli.App{Commands: []*cli.Command{cmd}}
			err := app.RunContext(context.Background(), append([]string{"maestro", "registry"}, tt.args...))
			if tt.wantKind != 0 {
				require.Error(t, err)
				assert.Equal(t, tt.wantKind, maestro.KindOf(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantCheck, gotCheck)
			assert.Equal(t, tt.wantRepair, gotRepair)
		})
	}
}

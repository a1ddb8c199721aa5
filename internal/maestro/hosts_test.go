package maestro_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// served is a host checker that serves the URLs under its prefixes.
type served []string

func (s served) check(raw string) error {
	for _, p := range s {
		if strings.HasPrefix(raw, p) {
			return nil
		}
	}
	return errors.New("not served: " + raw)
}
func (s served) CheckTarget(repo string) error              { return s.check(repo) }
func (s served) CheckPipelineOrganization(org string) error { return s.check(org) }

var _ maestro.HostChecker = served(nil)

func TestCheckHosts(t *testing.T) {
	h := served{"https://good/"}
	pipeline := func(org string) *maestro.UpdatePipeline {
		return &maestro.UpdatePipeline{Organization: org, Project: "p", PipelineID: 1}
	}
	sub := func(target string, up *maestro.UpdatePipeline) maestro.Subscription {
		return maestro.Subscription{TargetRepository: target, UpdatePipeline: up}
	}
	tests := []struct {
		name                string
		s                   maestro.Subscription
		before              *maestro.Subscription
		badTarget, badPipes bool
	}{
		{"new, served", sub("https://good/r", pipeline("https://good/o")), nil, false, false},
		{"new, target not served", sub("https://evil/r", nil), nil, true, false},
		{"new, pipeline not served", sub("https://good/r", pipeline("https://evil/o")), nil, false, true},
		{"update keeps an unserved target and pipeline", sub("https://evil/r", pipeline("https://evil/o")), ptr(sub("https://evil/r", pipeline("https://EVIL/o/"))), false, false},
		{"update adds an unserved pipeline", sub("https://evil/r", pipeline("https://evil/o")), ptr(sub("https://evil/r", nil)), false, true},
		{"update moves the pipeline off a served host", sub("https://good/r", pipeline("https://evil/o")), ptr(sub("https://good/r", pipeline("https://good/o"))), false, true},
		{"update removes the pipeline", sub("https://good/r", nil), ptr(sub("https://good/r", pipeline("https://evil/o"))), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, pipe := maestro.CheckHosts(h, tt.s, tt.before)
			assert.Equal(t, tt.badTarget, target != nil, "target: %v", target)
			assert.Equal(t, tt.badPipes, pipe != nil, "pipeline: %v", pipe)
		})
	}
}

func ptr[T any](v T) *T { return &v }

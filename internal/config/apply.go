package config

import (
	"context"
	"fmt"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// applier carries what the actions of one Apply share.
type applier struct {
	reg Registry
	// channels maps folded channel names to ids, including channels added so far.
	channels map[string]int
}

func (a *applier) channelID(name string) (int, error) {
	if id, ok := a.channels[fold(name)]; ok {
		return id, nil
	}
	return 0, maestro.Errorf(maestro.KindNotFound, "channel %q does not exist any more", name)
}

// Applied is one action Apply performed.
type Applied struct {
	Action *Action
	// ID is the registry's id of the object: the new id of an added
	// channel, default channel or subscription; "" for repository policies.
	ID string
}

// Apply performs the plan's actions on reg in order and returns those done.
// It stops at the first error, which names the action and says how many were
// done; running the same file again finishes the job, since a plan only holds
// what still differs.
func (p *Plan) Apply(ctx context.Context, reg Registry) ([]Applied, error) {
	a := &applier{reg: reg, channels: map[string]int{}}
	for _, c := range p.state.Channels {
		a.channels[fold(c.Name)] = c.ID
	}
	done := make([]Applied, 0, len(p.Actions))
	for i := range p.Actions {
		act := &p.Actions[i]
		id, err := act.do(ctx, a)
		if err != nil {
			what := act.Subject
			if act.Detail != "" {
				what += " " + act.Detail
			}
			return done, fmt.Errorf("%s %s %s: %w (%d of %d changes were made before this one; fix the cause and apply again)",
				act.Op.Verb(), act.Kind, what, err, i, len(p.Actions))
		}
		done = append(done, Applied{Action: act, ID: id})
	}
	return done, nil
}

// Verb names what op does: add, change or delete.
func (op Op) Verb() string {
	switch op {
	case OpAdd:
		return "add"
	case OpChange:
		return "change"
	default:
		return "delete"
	}
}

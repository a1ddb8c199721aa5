package registry

import (
	"context"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// ClaimForTest claims s's natural key with a new id and writes nothing else,
// as an add that died right after its claim leaves it.
func (r *Registry) ClaimForTest(ctx context.Context, s maestro.Subscription) error {
	s.ID = r.newID()
	return r.claimKey(ctx, s)
}

// MarkChannelDeletingForTest marks a channel as a delete that died after its
// first step leaves it.
func (r *Registry) MarkChannelDeletingForTest(ctx context.Context, id int) error {
	_, err := update(ctx, r.st, channelsKey, func(d *channelsDoc, _ bool) error {
		if d.Deleting == nil {
			d.Deleting = map[int]time.Time{}
		}
		d.Deleting[id] = r.now()
		return nil
	})
	return err
}

// SetBatchWindowForTest sets how long a batch gathers deliveries.
func (r *Registry) SetBatchWindowForTest(d time.Duration) { r.intake.window = d }

// PendingForTest is the number of deliveries gathered in batches or being
// written.
func (r *Registry) PendingForTest() int {
	r.intake.mu.Lock()
	defer r.intake.mu.Unlock()
	return len(r.intake.pending)
}

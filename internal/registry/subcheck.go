package registry

import (
	"context"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// CheckSubscription checks s as AddSubscription (before nil) or an update
// of before (UpdateSubscription) would, and returns it as they would record
// it (defaults filled in), writing nothing — for a what-if. The errors are
// theirs: bad fields, hosts no configuration serves, fields fixed at
// creation, a missing channel, and a duplicate of another subscription (a
// conflict). A check passed is no promise: another writer may add the
// duplicate or delete the channel before a real write.
func (r *Registry) CheckSubscription(ctx context.Context, s maestro.Subscription, before *maestro.Subscription) (maestro.Subscription, error) {
	if before != nil {
		s.ID = before.ID
		if err := checkFixed(*before, s); err != nil {
			return s, err
		}
	}
	if err := r.validateSubscription(ctx, &s); err != nil {
		return s, err
	}
	if err := r.checkHosts(s, before); err != nil {
		return s, err
	}
	if before != nil && naturalKey(s) == naturalKey(*before) {
		return s, nil
	}
	if s.ID != "" {
		if err := validSubscriptionID(s.ID); err != nil {
			return s, err
		}
	}
	self := ""
	if before != nil {
		self = before.ID
	}
	return s, r.checkDuplicate(ctx, s, self)
}

// checkDuplicate returns a conflict naming a subscription other than self
// ("" for none: s is new) that flows what s flows (same natural key).
func (r *Registry) checkDuplicate(ctx context.Context, s maestro.Subscription, self string) error {
	existing, err := r.Subscriptions(ctx, SubscriptionFilter{ChannelID: s.ChannelID, SourceRepository: s.SourceRepository})
	if err != nil {
		return err
	}
	for _, o := range existing {
		if (self == "" || o.ID != self) && naturalKey(o) == naturalKey(s) {
			return duplicateError(o)
		}
	}
	return nil
}

// checkFixed refuses a change of what cannot change after creation: the
// target repository and branch, and batchable.
func checkFixed(before, after maestro.Subscription) error {
	if !repourl.Equal(after.TargetRepository, before.TargetRepository) || trimRefsHeads(after.TargetBranch) != before.TargetBranch {
		return maestro.Errorf(maestro.KindInvalid, "subscription %s: target repository and branch cannot change after creation; create a new subscription", before.ID)
	}
	if after.Policy.Batchable != before.Policy.Batchable {
		return maestro.Errorf(maestro.KindInvalid, "subscription %s: batchable cannot change after creation; create a new subscription", before.ID)
	}
	return nil
}

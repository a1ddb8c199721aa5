package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Subscriptions are one document each; two prefix indexes of empty objects
// find them by channel+source repository and by target repository without
// reading every subscription. Index entries are hints: readers check each
// subscription document, so a write interrupted between index and document
// never yields a wrong answer. A third index, the natural-key claim
// (subunique.go), keeps subscriptions unique under concurrent adds.
func subscriptionKey(id string) string { return "subscriptions/" + id + ".json" }

func subByChannelPrefix(channelID int) string {
	return fmt.Sprintf("index/subscriptions/channel/%d/", channelID)
}

func subByChannelKey(s maestro.Subscription) string {
	return subByChannelPrefix(s.ChannelID) + repourl.Key(s.SourceRepository) + "/" + s.ID
}

func subByTargetKey(s maestro.Subscription) string {
	return "index/subscriptions/target/" + repourl.Key(s.TargetRepository) + "/" + s.ID
}

// SubscriptionFilter selects subscriptions; zero fields match everything.
type SubscriptionFilter struct {
	ChannelID        int
	SourceRepository string
	TargetRepository string
	TargetBranch     string
}

func (f SubscriptionFilter) matches(s maestro.Subscription) bool {
	return (f.ChannelID == 0 || s.ChannelID == f.ChannelID) &&
		(f.SourceRepository == "" || repourl.Equal(s.SourceRepository, f.SourceRepository)) &&
		(f.TargetRepository == "" || repourl.Equal(s.TargetRepository, f.TargetRepository)) &&
		(f.TargetBranch == "" || s.TargetBranch == trimRefsHeads(f.TargetBranch))
}

// validateSubscription checks the fields every subscription must have valid.
func (r *Registry) validateSubscription(ctx context.Context, s *maestro.Subscription) error {
	if _, err := r.Channel(ctx, s.ChannelID); err != nil {
		return err
	}
	if err := ValidateURL(s.SourceRepository); err != nil {
		return invalid("source repository", err, "")
	}
	if err := ValidateURL(s.TargetRepository); err != nil {
		return invalid("target repository", err, "")
	}
	s.TargetBranch = trimRefsHeads(s.TargetBranch)
	if err := ValidateBranch(s.TargetBranch); err != nil {
		return invalid("target branch", err, "")
	}
	if s.Policy.UpdateFrequency == "" {
		s.Policy.UpdateFrequency = maestro.FrequencyEveryDay
	}
	if !slices.Contains(maestro.UpdateFrequencies, s.Policy.UpdateFrequency) {
		valid := make([]string, len(maestro.UpdateFrequencies))
		for i, f := range maestro.UpdateFrequencies {
			valid[i] = string(f)
		}
		return maestro.Errorf(maestro.KindInvalid, "unknown update frequency %q; valid ones: %s", s.Policy.UpdateFrequency, strings.Join(valid, ", "))
	}
	if err := ValidateMergePolicies(s.Policy.MergePolicies); err != nil {
		return err
	}
	if s.Policy.Batchable && len(s.Policy.MergePolicies) > 0 {
		return maestro.Errorf(maestro.KindInvalid, "batchable subscriptions take no merge policies of their own; set them for the target branch with `maestro repository-policy set`")
	}
	for _, p := range s.ExcludedAssets {
		if strings.TrimSpace(p) == "" {
			return maestro.Errorf(maestro.KindInvalid, "excluded asset pattern is empty")
		}
	}
	if up := s.UpdatePipeline; up != nil {
		if err := repourl.Validate(up.Organization); err != nil || up.Project == "" || up.PipelineID <= 0 {
			return maestro.Errorf(maestro.KindInvalid, "update pipeline: needs an organization URL, a project and a pipeline id (got %q, %q, %d)", up.Organization, up.Project, up.PipelineID)
		}
		if s.Speculative {
			return maestro.Errorf(maestro.KindInvalid, "speculative: a subscription with an update pipeline cannot take speculative builds (their pull requests are opened by the flow itself); drop --speculative or the update pipeline")
		}
	}
	return nil
}

// checkHosts refuses what no configured git host would serve (see
// maestro.CheckHosts); before is nil for a new subscription.
func (r *Registry) checkHosts(s maestro.Subscription, before *maestro.Subscription) error {
	if r.hosts == nil {
		return nil
	}
	target, pipeline := maestro.CheckHosts(r.hosts, s, before)
	if target != nil {
		return invalid("target repository", target, "")
	}
	if pipeline != nil {
		return invalid("update pipeline", pipeline, "")
	}
	return nil
}

// AddSubscription validates and records a new subscription, assigning its id.
// A subscription with the same channel, source, target, target branch and
// directories is rejected as a duplicate (exit 4), also when both adds run at
// once: the natural key is claimed create-only (see subunique.go), and the
// channel is checked again after the write (see DeleteChannel).
func (r *Registry) AddSubscription(ctx context.Context, s maestro.Subscription) (maestro.Subscription, error) {
	if err := r.validateSubscription(ctx, &s); err != nil {
		return s, err
	}
	if err := r.checkHosts(s, nil); err != nil {
		return s, err
	}
	if err := r.checkChannelLive(ctx, s.ChannelID); err != nil {
		return s, err
	}
	// Subscriptions recorded before key claims existed are found by a scan.
	if err := r.checkDuplicate(ctx, s, ""); err != nil {
		return s, err
	}
	if s.ID == "" {
		s.ID = r.newID()
	}
	if err := validSubscriptionID(s.ID); err != nil {
		return s, err
	}
	if err := r.claimKey(ctx, s); err != nil {
		return s, err
	}
	if err := r.writeSubscription(ctx, s); err != nil {
		return s, err
	}
	// The claim must still be ours and the channel still live; otherwise
	// this add takes itself back.
	held, err := r.holdsKey(ctx, s)
	if err == nil && !held {
		err = maestro.Errorf(maestro.KindConflict, "subscription %s: another add of the same channel, source, target, branch and directories took over while this one stalled; not added", s.ID)
	}
	if err == nil {
		err = r.checkChannelLive(ctx, s.ChannelID)
	}
	if err != nil {
		if derr := r.removeSubscription(ctx, s); derr != nil {
			return s, errors.Join(err, derr)
		}
		return s, err
	}
	return s, nil
}

// writeSubscription writes a new subscription's index entries, flow state
// and document, the document (create-only) last.
func (r *Registry) writeSubscription(ctx context.Context, s maestro.Subscription) error {
	if _, err := r.st.Put(ctx, subByChannelKey(s), nil, store.Condition{}); err != nil {
		return fmt.Errorf("index subscription %s: %w", s.ID, err)
	}
	if _, err := r.st.Put(ctx, subByTargetKey(s), nil, store.Condition{}); err != nil {
		return fmt.Errorf("index subscription %s: %w", s.ID, err)
	}
	if err := r.initFlowState(ctx, s); err != nil {
		return err
	}
	if err := putJSON(ctx, r.st, subscriptionKey(s.ID), s, store.Condition{CreateOnly: true}); err != nil {
		if errors.Is(err, store.ErrPrecondition) {
			return maestro.Errorf(maestro.KindConflict, "subscription %s exists already", s.ID)
		}
		return err
	}
	return nil
}

// Subscription returns one subscription.
func (r *Registry) Subscription(ctx context.Context, id string) (maestro.Subscription, error) {
	var s maestro.Subscription
	if err := validSubscriptionID(id); err != nil {
		return s, err
	}
	_, err := getJSON(ctx, r.st, subscriptionKey(id), &s)
	if errors.Is(err, store.ErrNotExist) {
		return s, maestro.Errorf(maestro.KindNotFound, "subscription %s does not exist; `maestro subscription list` shows them", id)
	}
	return s, err
}

func validSubscriptionID(id string) error {
	if id == "" || strings.ContainsAny(id, "/\\") || store.ValidateKey(id) != nil {
		return maestro.Errorf(maestro.KindInvalid, "subscription id %q is not valid", id)
	}
	return nil
}

// Subscriptions returns the subscriptions that match f, sorted by id. With a
// channel (and source repository) it reads only that index; otherwise every
// subscription document.
func (r *Registry) Subscriptions(ctx context.Context, f SubscriptionFilter) ([]maestro.Subscription, error) {
	var prefix string
	switch {
	case f.ChannelID != 0 && f.SourceRepository != "":
		prefix = subByChannelPrefix(f.ChannelID) + repourl.Key(f.SourceRepository) + "/"
	case f.ChannelID != 0:
		prefix = subByChannelPrefix(f.ChannelID)
	case f.TargetRepository != "":
		prefix = "index/subscriptions/target/" + repourl.Key(f.TargetRepository) + "/"
	default:
		prefix = "subscriptions/"
	}
	keys, err := r.st.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		id := k[strings.LastIndexByte(k, '/')+1:]
		ids = append(ids, strings.TrimSuffix(id, ".json"))
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	subs, err := parallelMap(ctx, ids, func(ctx context.Context, id string) (*maestro.Subscription, error) {
		var s maestro.Subscription
		_, err := getJSON(ctx, r.st, subscriptionKey(id), &s)
		if errors.Is(err, store.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return &s, nil
	})
	if err != nil {
		return nil, err
	}
	var out []maestro.Subscription
	for _, s := range subs {
		if s != nil && f.matches(*s) {
			out = append(out, *s)
		}
	}
	return out, nil
}

// UpdateSubscription changes a subscription through fn. Target repository,
// target branch and batchable cannot change after creation.
func (r *Registry) UpdateSubscription(ctx context.Context, id string, fn func(s *maestro.Subscription) error) (maestro.Subscription, error) {
	if err := validSubscriptionID(id); err != nil {
		return maestro.Subscription{}, err
	}
	// A change of channel or source repository moves the subscription to
	// another natural key: that key is claimed first (and the old one
	// released after), so an update cannot make a duplicate either.
	cur, err := r.Subscription(ctx, id)
	if err != nil {
		return cur, err
	}
	probe := cur
	if up := cur.UpdatePipeline; up != nil { // fn may change it in place
		upCur := *up
		probe.UpdatePipeline = &upCur
	}
	if err := fn(&probe); err != nil {
		return cur, err
	}
	probe.ID = id
	// The change is checked as the write below checks it before anything is
	// written: a bad one must not claim a key first.
	if err := checkFixed(cur, probe); err != nil {
		return cur, err
	}
	if err := r.validateSubscription(ctx, &probe); err != nil {
		return cur, err
	}
	if err := r.checkHosts(probe, &cur); err != nil {
		return cur, err
	}
	moved := naturalKey(probe) != naturalKey(cur)
	if moved {
		if err := r.checkChannelLive(ctx, probe.ChannelID); err != nil {
			return cur, err
		}
		if err := r.claimKey(ctx, probe); err != nil {
			return cur, err
		}
	}
	var before maestro.Subscription
	after, err := update(ctx, r.st, subscriptionKey(id), func(s *maestro.Subscription, exists bool) error {
		if !exists {
			return maestro.Errorf(maestro.KindNotFound, "subscription %s does not exist; `maestro subscription list` shows them", id)
		}
		before = *s
		if up := s.UpdatePipeline; up != nil { // fn may change it in place
			upBefore := *up
			before.UpdatePipeline = &upBefore
		}
		if err := fn(s); err != nil {
			return err
		}
		s.ID = id
		if err := checkFixed(before, *s); err != nil {
			return err
		}
		if err := r.validateSubscription(ctx, s); err != nil {
			return err
		}
		if err := r.checkHosts(*s, &before); err != nil {
			return err
		}
		if s.ChannelID != before.ChannelID || !repourl.Equal(s.SourceRepository, before.SourceRepository) {
			if _, err := r.st.Put(ctx, subByChannelKey(*s), nil, store.Condition{}); err != nil {
				return fmt.Errorf("index subscription %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		if moved {
			if rerr := r.releaseKey(ctx, probe); rerr != nil {
				return after, errors.Join(err, rerr)
			}
		}
		return after, err
	}
	if naturalKey(after) != naturalKey(before) {
		if err := r.releaseKey(ctx, before); err != nil {
			return after, err
		}
	}
	if after.ChannelID != before.ChannelID || !repourl.Equal(after.SourceRepository, before.SourceRepository) {
		if err := r.st.Delete(ctx, subByChannelKey(before), ""); err != nil && !errors.Is(err, store.ErrNotExist) {
			return after, fmt.Errorf("unindex subscription %s: %w", id, err)
		}
	}
	if after.ChannelID != before.ChannelID {
		// Moved into another channel: like an add, it must still be live
		// after the write (see DeleteChannel), else the move is undone.
		if err := r.checkChannelLive(ctx, after.ChannelID); err != nil {
			back, berr := r.UpdateSubscription(ctx, id, func(s *maestro.Subscription) error {
				s.ChannelID, s.SourceRepository = before.ChannelID, before.SourceRepository
				return nil
			})
			if berr != nil {
				return after, errors.Join(err, berr)
			}
			return back, err
		}
	}
	if after.Enabled != before.Enabled || after.Policy.UpdateFrequency != before.Policy.UpdateFrequency {
		if err := r.rescheduleFlowState(ctx, id); err != nil {
			return after, err
		}
	}
	return after, nil
}

// DeleteSubscription removes a subscription, its index entries and its key
// claim. The claim is marked deleted first, so that a crash anywhere after
// leaves a claim the next add of that key takes over.
func (r *Registry) DeleteSubscription(ctx context.Context, id string) error {
	s, err := r.Subscription(ctx, id)
	if err != nil {
		return err
	}
	if err := r.markKeyDeleted(ctx, s); err != nil {
		return fmt.Errorf("delete subscription %s: %w", id, err)
	}
	return r.removeSubscription(ctx, s)
}

// removeSubscription deletes s's document, index entries, flow state and
// key claim (when s holds it).
func (r *Registry) removeSubscription(ctx context.Context, s maestro.Subscription) error {
	if err := r.st.Delete(ctx, subscriptionKey(s.ID), ""); err != nil && !errors.Is(err, store.ErrNotExist) {
		return fmt.Errorf("delete subscription %s: %w", s.ID, err)
	}
	for _, k := range []string{subByChannelKey(s), subByTargetKey(s)} {
		if err := r.st.Delete(ctx, k, ""); err != nil && !errors.Is(err, store.ErrNotExist) {
			return fmt.Errorf("unindex subscription %s: %w", s.ID, err)
		}
	}
	if err := r.DeleteFlowState(ctx, s.ID); err != nil {
		return err
	}
	return r.releaseKey(ctx, s)
}

package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service"
	"github.com/maestroplusplus/maestro/internal/store"
)

// Results of a received event, for the events counter (countEvent).
const (
	EventAccepted  = "accepted"  // recorded in the store; workers process it
	EventDuplicate = "duplicate" // its delivery id was accepted before: nothing changed
	EventIgnored   = "ignored"   // verified and acknowledged, but nothing acts on it
	EventRejected  = "rejected"  // refused before it was verified (signature, credentials)
	EventInvalid   = "invalid"   // verified, but its payload or headers are not valid
	EventFailed    = "failed"    // not recorded: the store failed; the sender may retry
)

// Metrics are the server's Prometheus metrics, served at GET /metrics from
// a registry of their own (never the global default one), so that every
// Server, and every test, counts apart. NewMetrics makes them; a Server
// given none makes its own.
type Metrics struct {
	reg *prometheus.Registry

	events        *prometheus.CounterVec
	queueDepth    prometheus.Gauge
	intakeBurst   prometheus.Gauge
	queueLatency  prometheus.Histogram
	eventDuration *prometheus.HistogramVec
	flowOutcomes  *prometheus.CounterVec
	prChecks      *prometheus.CounterVec
	storeRequests *prometheus.HistogramVec
	leader        prometheus.Gauge
	ticks         *prometheus.CounterVec
	prBuilds      *prometheus.CounterVec
}

// latencyBuckets spans a local store's fsync'd write (about a millisecond)
// to a slow remote request or a long piece of work.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// NewMetrics returns the server's metrics, with the Go runtime's and the
// process's collectors, in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maestro_events_received_total",
			Help: "Webhook and service hook deliveries received, by source (github, azure-devops, ...), event type and result (accepted, duplicate, ignored, rejected, invalid, failed).",
		}, []string{"source", "type", "result"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "maestro_event_queue_depth",
			Help: "Accepted events waiting in the store (queued, not yet done), as this replica last listed them, less those its workers finished since.",
		}),
		intakeBurst: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "maestro_intake_burst",
			Help: "1 while this replica's intake takes at least 1,000 deliveries a second and its dispatcher hands workers at most one event per 10 ms, to give intake the cores; else 0.",
		}),
		queueLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "maestro_event_queue_latency_seconds",
			Help:    "Time from accepting an event to a worker of this replica starting its first attempt.",
			Buckets: latencyBuckets,
		}),
		eventDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "maestro_event_processing_seconds",
			Help:    "Time one attempt at an event took, by outcome (done, retry, busy).",
			Buckets: latencyBuckets,
		}, []string{"outcome"}),
		flowOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maestro_flow_outcomes_total",
			Help: "Flow attempts this replica made, by result (updated, no-update, failure, conflict, rescheduled, queued).",
		}, []string{"result"}),
		prChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maestro_pull_request_checks_total",
			Help: "Evaluations of tracked dependency pull requests, by the state they left the pull request in (waiting, merged, auto-merge, ready, refused, no-policies, ended, busy, retry) and the merge policies' result (passed, failed, pending, none).",
		}, []string{"state", "policies"}),
		storeRequests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "maestro_store_request_duration_seconds",
			Help:    "Registry store requests, by operation and result (ok, not-exist, precondition, leased, lease-lost, unavailable, error).",
			Buckets: latencyBuckets,
		}, []string{"operation", "result"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "maestro_scheduler_leader",
			Help: "1 while this replica holds the scheduler lease and runs the schedules, else 0.",
		}),
		ticks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maestro_scheduler_ticks_total",
			Help: "Scheduler ticks (flow tick and due merge policy checks) this replica ran as leader, by result (ok, error, unavailable).",
		}, []string{"result"}),
		prBuilds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maestro_pull_request_builds_total",
			Help: "Completed Azure DevOps pull request builds the publish trigger handled, by result (published: recorded as a speculative build; recorded-before; not-opted-in: acknowledged, never recorded; not-published: failed, or nothing to publish).",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.events, m.queueDepth, m.intakeBurst, m.queueLatency, m.eventDuration, m.flowOutcomes, m.prChecks,
		m.storeRequests, m.leader, m.ticks, m.prBuilds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// countEvent counts one delivery a route received: source names the route
// ("github", "azure-devops"), eventType the event (bounded: use the
// sender's event type only once the delivery is verified, "" before), and
// result one of the Event* constants. Every webhook route calls it once per
// delivery, whatever it answers.
func (s *Server) countEvent(source, eventType, result string) {
	if eventType == "" {
		eventType = "unknown"
	}
	s.metrics.events.WithLabelValues(source, eventType, result).Inc()
}

// countFlow counts flow attempts by result.
func (s *Server) countFlow(outcomes ...maestro.FlowOutcome) {
	for _, o := range outcomes {
		if o.SubscriptionID == "" {
			continue // nothing was attempted
		}
		s.metrics.flowOutcomes.WithLabelValues(string(o.Result)).Inc()
	}
}

// countChecks counts merge policy evaluations by the state they left and
// the policies' result.
func (s *Server) countChecks(results []service.CheckResult) {
	for _, r := range results {
		s.metrics.prChecks.WithLabelValues(r.Action, policiesResult(r.Policies)).Inc()
	}
}

// policiesResult sums up policy results: failed if any failed, pending if
// any is pending, passed if all passed (or were skipped), none without any.
func policiesResult(ps []maestro.PolicyResult) string {
	if len(ps) == 0 {
		return "none"
	}
	res := "passed"
	for _, p := range ps {
		switch p.State {
		case maestro.CheckFailure:
			return "failed"
		case maestro.CheckPending:
			res = "pending"
		}
	}
	return res
}

// InstrumentStore returns st measured: every request's duration goes to
// maestro_store_request_duration_seconds by operation and result. It has the
// same contract as st (it changes nothing) and unwraps to it.
func (m *Metrics) InstrumentStore(st store.Store) store.Store {
	return &measuredStore{base: st, hist: m.storeRequests}
}

var _ store.Store = (*measuredStore)(nil)

type measuredStore struct {
	base store.Store
	hist *prometheus.HistogramVec
}

func (s *measuredStore) Unwrap() store.Store { return s.base }

func (s *measuredStore) observe(op string, start time.Time, err error) {
	s.hist.WithLabelValues(op, storeResult(err)).Observe(time.Since(start).Seconds())
}

func storeResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, store.ErrNotExist):
		return "not-exist"
	case errors.Is(err, store.ErrPrecondition):
		return "precondition"
	case errors.Is(err, store.ErrLeased):
		return "leased"
	case errors.Is(err, store.ErrLeaseLost):
		return "lease-lost"
	case errors.Is(err, store.ErrUnavailable):
		return "unavailable"
	}
	return "error"
}

func (s *measuredStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	start := time.Now()
	data, etag, err := s.base.Get(ctx, key)
	s.observe("get", start, err)
	return data, etag, err
}

func (s *measuredStore) Put(ctx context.Context, key string, data []byte, cond store.Condition) (string, error) {
	start := time.Now()
	etag, err := s.base.Put(ctx, key, data, cond)
	s.observe("put", start, err)
	return etag, err
}

func (s *measuredStore) Delete(ctx context.Context, key, ifMatch string) error {
	start := time.Now()
	err := s.base.Delete(ctx, key, ifMatch)
	s.observe("delete", start, err)
	return err
}

func (s *measuredStore) Append(ctx context.Context, key string, data []byte, at int64) error {
	start := time.Now()
	err := s.base.Append(ctx, key, data, at)
	s.observe("append", start, err)
	return err
}

func (s *measuredStore) List(ctx context.Context, prefix string) ([]string, error) {
	start := time.Now()
	keys, err := s.base.List(ctx, prefix)
	s.observe("list", start, err)
	return keys, err
}

func (s *measuredStore) AcquireLease(ctx context.Context, key string, d time.Duration) (string, error) {
	start := time.Now()
	id, err := s.base.AcquireLease(ctx, key, d)
	s.observe("acquire-lease", start, err)
	return id, err
}

func (s *measuredStore) RenewLease(ctx context.Context, key, leaseID string) error {
	start := time.Now()
	err := s.base.RenewLease(ctx, key, leaseID)
	s.observe("renew-lease", start, err)
	return err
}

func (s *measuredStore) ReleaseLease(ctx context.Context, key, leaseID string) error {
	start := time.Now()
	err := s.base.ReleaseLease(ctx, key, leaseID)
	s.observe("release-lease", start, err)
	return err
}

func (s *measuredStore) BreakLease(ctx context.Context, key string) error {
	start := time.Now()
	err := s.base.BreakLease(ctx, key)
	s.observe("break-lease", start, err)
	return err
}

// Package server is `maestro serve`: an HTTP front end over the flow service
// (net/http). Webhook handlers verify and record each event in the store
// and answer at once; a bounded pool of workers, fed from the store, does
// the work. All state is in the store, so any number of replicas may share
// one, and a crash loses no accepted event.
//
// Routes: GET /healthz (alive, which routes are enabled, and the
// scheduler's role), GET /readyz (the store answers and the server is not
// shutting down), GET /metrics (metrics.go), the REST API under /api/
// (api.go), the status site at / (site.go), and, when enabled, POST
// /webhooks/github, POST /webhooks/azure-devops (azdo.go) and the old
// Maestro's POST /CommitPushed. With the scheduler enabled, the replicas
// elect one with a store lease to run the schedules (leader.go).
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/maestroplusplus/maestro/internal/heapfloor"
	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/service"
)

const (
	// pollInterval is how often the workers look for queued events besides
	// the ones this replica accepts: events other replicas accepted, events
	// left by a replica that died, and retries that came due.
	pollInterval = 2 * time.Second
	// shutdownTimeout bounds how long shutdown waits for requests and for
	// the events being processed.
	shutdownTimeout = 30 * time.Second
	// readTimeout bounds reading one request (GitHub gives up after 10 s).
	readTimeout = 10 * time.Second
	// writeMargin is how long past its work's bound (Config.RequestTimeout,
	// or EventTimeout for a trigger) writing a request's answer may take.
	writeMargin = 10 * time.Second
	// idleTimeout is how long a kept-alive connection may wait for its next
	// request: longer than the idle timeout of the load balancers in front
	// (60 s on Azure's and AWS's), so that they, not the server, close an
	// idle connection and never send a request on one being closed.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds a request's header: webhooks and the API send
	// a few hundred bytes (net/http's default is 1 MB).
	maxHeaderBytes = 64 << 10
)

// longRoutes run the flow while the client waits (a trigger): their work
// is bounded by Config.EventTimeout, as an event's, not RequestTimeout.
var longRoutes = map[string]bool{
	"POST /api/subscriptions/{id}/trigger": true,
	"POST /subscriptions/{id}/trigger":     true,
}

// routeEnd is a request's method and the last segment of its path.
type routeEnd struct{ method, last string }

// longRouteEnds are the method and last path segment of each long route: a
// request whose method and last segment are not among them is on no long
// route, and bounded need not match its route a second time to find out
// (3 µs of every webhook delivery).
var longRouteEnds = func() map[routeEnd]bool {
	ends := map[routeEnd]bool{}
	for route := range longRoutes {
		method, path, _ := strings.Cut(route, " ")
		ends[routeEnd{method, path[strings.LastIndexByte(path, '/')+1:]}] = true
	}
	return ends
}()

// Server is one `maestro serve` replica.
type Server struct {
	cfg   Config
	reg   *registry.Registry
	svc   *service.Service
	log   *slog.Logger
	now   func() time.Time
	owner string // this replica's name in event claims

	ready atomic.Bool
	// acceptedHere counts the events this replica accepted (burst.go).
	acceptedHere atomic.Int64
	leading      atomic.Bool   // this replica holds the scheduler lease
	kick         chan struct{} // an event was accepted: list the queue and look for work now
	// settled: a worker is done with an event: look for work in the
	// dispatcher's view of the queue (dispatch.go)
	settled chan struct{}
	metrics *Metrics

	seq *sequencer // the events handed to a worker (ordering.go)

	hosts       Hosts
	legacyQueue legacy.Queuer // POST /CommitPushed's actions

	azdo azdoState // Azure DevOps service hooks (azdo.go)

	svgs *svgCache // the site's laid-out graphs (sitegraph.go)

	clones chan struct{} // the requests that clone, running (clonelimit.go)
}

// WithMetrics makes the server count into m (whose InstrumentStore should
// wrap the registry's store); without it the server makes its own.
func WithMetrics(m *Metrics) Option { return func(s *Server) { s.metrics = m } }

// New returns a server on svc (and its registry) with cfg, which must be
// valid (LoadConfig checks it). Logs go to log; they never hold a secret.
func New(cfg Config, svc *service.Service, log *slog.Logger, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	now := svc.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{cfg: cfg, reg: svc.Registry, svc: svc, log: log, now: now, owner: uuid.NewString(),
		kick: make(chan struct{}, 1), settled: make(chan struct{}, 1), seq: newSequencer(), svgs: newSVGCache(),
		clones: make(chan struct{}, cfg.CloneRequests)}
	for _, o := range opts {
		o(s)
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if err := s.legacyQueuer(); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.Handler())
	if s.cfg.GitHub.Webhooks {
		mux.HandleFunc("POST "+routeGitHub, s.gitHubWebhook)
	}
	s.apiRoutes(mux)
	if s.cfg.AzureDevOps.Hooks {
		mux.HandleFunc("POST "+routeAzureDevOps, s.azureDevOpsHook)
	}
	s.siteRoutes(mux)
	if s.cfg.Legacy.CommitPushed {
		mux.HandleFunc("POST "+routeCommitPushed, s.commitPushed)
	}
	return s.bounded(mux)
}

// bounded bounds each request's work: its context ends after
// Config.RequestTimeout (EventTimeout on a long route), so that a store
// or host that never answers makes a 503, not a request that never ends;
// a long route may write its answer until that bound (plus writeMargin),
// past the server's WriteTimeout.
func (s *Server) bounded(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := s.cfg.RequestTimeout
		if longRouteEnds[routeEnd{r.Method, r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]}] {
			if _, pattern := mux.Handler(r); longRoutes[pattern] {
				d = s.cfg.EventTimeout
				// Without a deadline to move (a test's handler), nothing to do.
				_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + writeMargin))
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		mux.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Run serves on ln and processes accepted events until ctx is done, then
// shuts down gracefully: /readyz turns 503, no new request or event is
// taken, requests in progress are answered and events being processed
// are finished (bounded by shutdownTimeout). Queued events stay in the
// store for the next replica or start.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	heapfloor.Set(uint64(s.cfg.HeapFloorMiB) << 20)
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: readTimeout, ReadTimeout: readTimeout,
		WriteTimeout: s.cfg.RequestTimeout + writeMargin, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	stopDispatch := make(chan struct{})
	var workers sync.WaitGroup
	jobs := make(chan job)
	for range s.cfg.Workers {
		workers.Go(func() {
			for j := range jobs {
				processed, gone := s.process(work, j)
				s.seq.done(j.ID, gone)
				if processed {
					s.settle() // the next event of its repository may go
				}
			}
		})
	}
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		defer close(jobs)
		s.dispatch(work, stopDispatch, jobs)
	}()

	scheduled := make(chan struct{})
	go func() {
		defer close(scheduled)
		if s.cfg.Scheduler.Enabled {
			s.runScheduler(work, stopDispatch)
		}
	}()

	// The line is logged before the first request can be answered, so a
	// client that reached /healthz finds it in the log.
	s.log.Info("serving", "address", ln.Addr().String(), "routes", s.cfg.Routes(), "workers", s.cfg.Workers, "heapFloorMiB", s.cfg.HeapFloorMiB)
	// Ready before the first request is served: a client that reached
	// /healthz must not find /readyz still starting.
	s.ready.Store(true)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	s.ready.Store(false)
	s.log.Info("shutting down: finishing requests and events in progress")
	deadline, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if serr := hs.Shutdown(deadline); serr != nil {
		err = errors.Join(err, fmt.Errorf("shut down the listener: %w", serr))
	}
	close(stopDispatch)
	drained := make(chan struct{})
	go func() { <-dispatched; workers.Wait(); <-scheduled; close(drained) }()
	select {
	case <-drained:
	case <-deadline.Done():
		stopWork() // the claims of unfinished events lapse; another replica finishes them
		<-drained
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	s.log.Info("stopped")
	return err
}

// healthz answers 200 while the process serves, with the enabled routes
// and the scheduler's role on this replica (off, follower, leader).
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "routes": s.cfg.Routes(), "scheduler": s.role()})
}

// readyz answers 200 when the store answers and the server takes work, 503
// otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "not serving: starting or shutting down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.reg.CheckFormat(ctx); err != nil {
		s.log.Warn("readiness: the store does not answer", "error", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "the registry store does not answer or holds no registry; the server's log says why"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// message answers {"message": msg} with code, as writeJSON would, without
// its reflection over a map (every webhook delivery is answered so).
func message(w http.ResponseWriter, code int, msg string) {
	quoted, _ := json.Marshal(msg) // a string always encodes
	body := make([]byte, 0, len(`{"message":}`)+len(quoted)+1)
	body = append(append(append(body, `{"message":`...), quoted...), "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

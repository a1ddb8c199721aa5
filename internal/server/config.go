package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Environment variables the configuration reads.
const (
	EnvGitHubWebhookSecret = "MAESTRO_GITHUB_WEBHOOK_SECRET"
	EnvLegacyWebhookSecret = "MAESTRO_LEGACY_WEBHOOK_SECRET"
)

// Defaults of the configuration.
const (
	DefaultListen  = "127.0.0.1:8080"
	DefaultWorkers = 4
	// DefaultClaimTimeout is how long a worker owns an event it processes;
	// after it another worker (of any replica) takes the event over.
	DefaultClaimTimeout = 5 * time.Minute
	// DefaultEventTimeout bounds one attempt at an event's work (the calls
	// to GitHub, Azure DevOps and the store it makes, and the git commands
	// it runs): each request to GitHub and Azure DevOps is bounded by
	// MAESTRO_HTTP_TIMEOUT, but an attempt makes many, and a git host that
	// accepts a request and never answers would otherwise hold the worker, the event's claim
	// (renewed while the work runs) and every later event of its
	// repository for good. An attempt cut short fails and is retried.
	DefaultEventTimeout = 15 * time.Minute
	// DefaultRequestTimeout bounds handling one request (but a trigger,
	// which runs the flow and is bounded by EventTimeout): its work is cut
	// short (503) after it, and an answer not written soon after is
	// dropped, so a stalled store or a client that reads nothing holds no
	// connection for good.
	DefaultRequestTimeout = time.Minute
	// DefaultLeasePeriod bounds how long the schedules pause when the
	// scheduler's leader dies (see leader.go).
	DefaultLeasePeriod = 30 * time.Second
	// DefaultTickInterval is how often the leader runs the schedules.
	DefaultTickInterval = time.Minute
	// DefaultCloneRequests bounds the requests that clone target branches
	// (explain and health, of the API and the site) running at once in
	// one replica: each clone takes seconds of CPU and disk, and the
	// replica also serves webhooks and events (see cloneSlot).
	DefaultCloneRequests = 2
	// MaxCloneRequests is the highest cloneRequests accepted.
	MaxCloneRequests = 64
	// DefaultHeapFloorMiB is the heap the garbage collector lets grow
	// before it collects (package heapfloor): under a burst of webhooks
	// the live heap is 80-95 MB (mostly the payloads of queued batches
	// kept, batchCacheBytes), and with Go's default the collector ran
	// every 0.4 s, 9-31 ms each, taking a share of the two cores from the
	// answers it overlapped; with the floor every 0.8 s
	// (docs/performance.md).
	DefaultHeapFloorMiB = 256
	// MaxHeapFloorMiB is the highest heapFloorMiB accepted (64 GiB).
	MaxHeapFloorMiB = 65536
)

// EnvGOGC is Go's collector setting: when set, it is the operator's
// choice, and the heap floor is off unless the flag sets one.
const EnvGOGC = "GOGC"

// Limits of the scheduler's timing: the lease period is the store lease
// (15 to 60 s on Azure) plus leaseMargin; a tick at most daily.
const (
	MinLeasePeriod  = 20 * time.Second
	MaxLeasePeriod  = 60 * time.Second
	MinTickInterval = time.Second
	MaxTickInterval = 24 * time.Hour
)

// Config is what `maestro serve` runs with. Secrets come from the
// environment or the configuration file, never from the command line, and
// Config's String and LogValue never show them.
type Config struct {
	Listen string
	// Store is the registry's store URL ("" is $MAESTRO_STORE or the local
	// store, as for every command).
	Store string
	// Workers bounds the events processed at once.
	Workers int
	// ClaimTimeout: see DefaultClaimTimeout.
	ClaimTimeout time.Duration
	// EventTimeout: see DefaultEventTimeout.
	EventTimeout time.Duration
	// RequestTimeout: see DefaultRequestTimeout.
	RequestTimeout time.Duration
	// CloneRequests: see DefaultCloneRequests.
	CloneRequests int
	// HeapFloorMiB: see DefaultHeapFloorMiB; 0 leaves the collector to
	// GOGC.
	HeapFloorMiB int
	GitHub       GitHubConfig
	// API configures the REST API (apiconfig.go).
	API    APIConfig
	Legacy LegacyConfig
	// AzureDevOps configures the service hooks route (azdo.go).
	AzureDevOps AzureDevOpsConfig
	// Environment holds the variables every command reads (hosts, tokens,
	// the bot identity, the store's credentials) as the configuration
	// file's environment section gives them; the process environment wins
	// (see Getenv).
	Environment map[string]string
	// Scheduler configures the schedules and the election (leader.go).
	Scheduler SchedulerConfig
}

// SchedulerConfig configures the schedules (what `maestro flow tick` runs)
// and the election of the one replica that runs them (leader.go).
type SchedulerConfig struct {
	// Enabled makes this replica take part in the election.
	Enabled bool
	// LeasePeriod: when the leader dies, another replica takes over within it.
	LeasePeriod time.Duration
	// TickInterval is how often the leader runs the schedules.
	TickInterval time.Duration
}

// GitHubConfig configures POST /webhooks/github.
type GitHubConfig struct {
	// Webhooks enables the route.
	Webhooks bool
	// WebhookSecret verifies X-Hub-Signature-256; required when Webhooks.
	WebhookSecret string
}

// fileConfig is the configuration file's shape (YAML; JSON is YAML too).
type fileConfig struct {
	Listen         string `yaml:"listen"`
	Store          string `yaml:"store"`
	Workers        *int   `yaml:"workers"`
	ClaimTimeout   string `yaml:"claimTimeout"`
	EventTimeout   string `yaml:"eventTimeout"`
	RequestTimeout string `yaml:"requestTimeout"`
	CloneRequests  *int   `yaml:"cloneRequests"`
	HeapFloorMiB   *int   `yaml:"heapFloorMiB"`
	GitHub         struct {
		Webhooks      *bool  `yaml:"webhooks"`
		WebhookSecret string `yaml:"webhookSecret"`
	} `yaml:"github"`
	API         apiFileConfig     `yaml:"api"`
	Legacy      fileLegacy        `yaml:"legacy"`
	Environment map[string]string `yaml:"environment"`
	AzureDevOps azdoFileConfig    `yaml:"azureDevOps"`
	Scheduler   struct {
		Enabled      *bool  `yaml:"enabled"`
		LeasePeriod  string `yaml:"leasePeriod"`
		TickInterval string `yaml:"tickInterval"`
	} `yaml:"scheduler"`
}

// Flags are the configuration given on the command line; a zero field was
// not given.
type Flags struct {
	Listen         string
	Store          string
	Workers        int
	CloneRequests  int
	HeapFloorMiB   *int
	GitHubWebhooks *bool
	// LegacyCommitPushed enables POST /CommitPushed; LegacySubscriptions
	// and LegacyVSOURLs configure it (see LegacyConfig).
	LegacyCommitPushed  *bool
	LegacySubscriptions string
	LegacyVSOURLs       map[string]string
	// AzureDevOpsHooks enables POST /webhooks/azure-devops.
	AzureDevOpsHooks *bool
	Scheduler        *bool
	LeasePeriod      time.Duration
	TickInterval     time.Duration
}

// LoadConfig builds the configuration from the file at path ("" for none),
// the environment and the flags, each overriding the one before, and checks
// it: an enabled route without its secret is an error naming the variable
// to set.
func LoadConfig(path string, getenv func(string) string, flags Flags) (Config, error) {
	cfg := Config{Listen: DefaultListen, Workers: DefaultWorkers, ClaimTimeout: DefaultClaimTimeout, EventTimeout: DefaultEventTimeout,
		RequestTimeout: DefaultRequestTimeout, CloneRequests: DefaultCloneRequests, HeapFloorMiB: DefaultHeapFloorMiB, Scheduler: SchedulerConfig{LeasePeriod: DefaultLeasePeriod, TickInterval: DefaultTickInterval}}
	if path != "" {
		if err := readFile(path, &cfg); err != nil {
			return Config{}, err
		}
	}
	if s := getenv(EnvGitHubWebhookSecret); s != "" {
		cfg.GitHub.WebhookSecret = s
	}
	if s := getenv(EnvLegacyWebhookSecret); s != "" {
		cfg.Legacy.WebhookSecret = s
	}
	if err := cfg.API.applyEnv(getenv); err != nil {
		return Config{}, err
	}
	cfg.AzureDevOps.applyEnv(getenv)
	if getenv(EnvGOGC) != "" {
		cfg.HeapFloorMiB = 0
	}
	if flags.Listen != "" {
		cfg.Listen = flags.Listen
	}
	if flags.Store != "" {
		cfg.Store = flags.Store
	}
	if flags.Workers != 0 {
		cfg.Workers = flags.Workers
	}
	if flags.CloneRequests != 0 {
		cfg.CloneRequests = flags.CloneRequests
	}
	if flags.HeapFloorMiB != nil {
		cfg.HeapFloorMiB = *flags.HeapFloorMiB
	}
	if flags.GitHubWebhooks != nil {
		cfg.GitHub.Webhooks = *flags.GitHubWebhooks
	}
	flags.applyLegacy(&cfg.Legacy)
	if flags.AzureDevOpsHooks != nil {
		cfg.AzureDevOps.Hooks = *flags.AzureDevOpsHooks
	}
	if flags.Scheduler != nil {
		cfg.Scheduler.Enabled = *flags.Scheduler
	}
	if flags.LeasePeriod != 0 {
		cfg.Scheduler.LeasePeriod = flags.LeasePeriod
	}
	if flags.TickInterval != 0 {
		cfg.Scheduler.TickInterval = flags.TickInterval
	}
	return cfg, cfg.Validate()
}

func readFile(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return maestro.Errorf(maestro.KindInvalid, "configuration file: %v", err)
	}
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return maestro.Errorf(maestro.KindInvalid, "configuration file %s: %v", path, err)
	}
	if fc.Listen != "" {
		cfg.Listen = fc.Listen
	}
	cfg.Store = fc.Store
	if fc.Workers != nil {
		cfg.Workers = *fc.Workers
	}
	if fc.CloneRequests != nil {
		cfg.CloneRequests = *fc.CloneRequests
	}
	if fc.HeapFloorMiB != nil {
		cfg.HeapFloorMiB = *fc.HeapFloorMiB
	}
	if fc.ClaimTimeout != "" {
		d, err := time.ParseDuration(fc.ClaimTimeout)
		if err != nil {
			return maestro.Errorf(maestro.KindInvalid, "configuration file %s: claimTimeout %q: a duration like 5m", path, fc.ClaimTimeout)
		}
		cfg.ClaimTimeout = d
	}
	if fc.EventTimeout != "" {
		d, err := time.ParseDuration(fc.EventTimeout)
		if err != nil {
			return maestro.Errorf(maestro.KindInvalid, "configuration file %s: eventTimeout %q: a duration like 15m", path, fc.EventTimeout)
		}
		cfg.EventTimeout = d
	}
	if fc.RequestTimeout != "" {
		d, err := time.ParseDuration(fc.RequestTimeout)
		if err != nil {
			return maestro.Errorf(maestro.KindInvalid, "configuration file %s: requestTimeout %q: a duration like 1m", path, fc.RequestTimeout)
		}
		cfg.RequestTimeout = d
	}
	if fc.GitHub.Webhooks != nil {
		cfg.GitHub.Webhooks = *fc.GitHub.Webhooks
	}
	cfg.GitHub.WebhookSecret = fc.GitHub.WebhookSecret
	if fc.Scheduler.Enabled != nil {
		cfg.Scheduler.Enabled = *fc.Scheduler.Enabled
	}
	for _, d := range []struct {
		name, raw string
		dst       *time.Duration
	}{{"scheduler.leasePeriod", fc.Scheduler.LeasePeriod, &cfg.Scheduler.LeasePeriod}, {"scheduler.tickInterval", fc.Scheduler.TickInterval, &cfg.Scheduler.TickInterval}} {
		if d.raw == "" {
			continue
		}
		v, err := time.ParseDuration(d.raw)
		if err != nil {
			return maestro.Errorf(maestro.KindInvalid, "configuration file %s: %s %q: a duration like 30s", path, d.name, d.raw)
		}
		*d.dst = v
	}
	if err := fc.API.apply(path, &cfg.API); err != nil {
		return err
	}
	if err := fc.Legacy.apply(path, &cfg.Legacy); err != nil {
		return err
	}
	fc.AzureDevOps.apply(&cfg.AzureDevOps)
	return readEnvironment(path, fc.Environment, cfg)
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return maestro.Errorf(maestro.KindInvalid, "listen address %q: use HOST:PORT, e.g. 127.0.0.1:8080 or :8080", c.Listen)
	}
	if c.Workers < 1 || c.Workers > 256 {
		return maestro.Errorf(maestro.KindInvalid, "workers %d: use 1 to 256", c.Workers)
	}
	if c.CloneRequests < 1 || c.CloneRequests > MaxCloneRequests {
		return maestro.Errorf(maestro.KindInvalid, "cloneRequests %d: use 1 to %d (the requests that clone target branches, explain and health, running at once)", c.CloneRequests, MaxCloneRequests)
	}
	if c.HeapFloorMiB < 0 || c.HeapFloorMiB > MaxHeapFloorMiB {
		return maestro.Errorf(maestro.KindInvalid, "heapFloorMiB %d: use 0 (GOGC alone) to %d (the heap in MiB the garbage collector lets grow before it collects)", c.HeapFloorMiB, MaxHeapFloorMiB)
	}
	if c.ClaimTimeout < time.Second {
		return maestro.Errorf(maestro.KindInvalid, "claimTimeout %s: use at least 1s", c.ClaimTimeout)
	}
	if c.EventTimeout < time.Second {
		return maestro.Errorf(maestro.KindInvalid, "eventTimeout %s: use at least 1s (it bounds one attempt at an event's work)", c.EventTimeout)
	}
	if c.RequestTimeout < time.Second || c.RequestTimeout > time.Hour {
		return maestro.Errorf(maestro.KindInvalid, "requestTimeout %s: use 1s to 1h (it bounds handling one request)", c.RequestTimeout)
	}
	if p := c.Scheduler.LeasePeriod; p < MinLeasePeriod || p > MaxLeasePeriod {
		return maestro.Errorf(maestro.KindInvalid, "scheduler lease period %s: use %s to %s (the store's lease lasts it less %s; Azure blob leases last 15 to 60 s)", p, MinLeasePeriod, MaxLeasePeriod, leaseMargin)
	}
	if i := c.Scheduler.TickInterval; i < MinTickInterval || i > MaxTickInterval {
		return maestro.Errorf(maestro.KindInvalid, "scheduler tick interval %s: use %s to %s", i, MinTickInterval, MaxTickInterval)
	}
	if c.GitHub.Webhooks && c.GitHub.WebhookSecret == "" {
		return maestro.Errorf(maestro.KindInvalid, "the GitHub webhook route is enabled but has no secret: set %s (or github.webhookSecret in the configuration file) to the webhook's secret; deliveries are never taken unverified", EnvGitHubWebhookSecret)
	}
	if err := c.AzureDevOps.validate(); err != nil {
		return err
	}
	return c.Legacy.validate()
}

// Routes lists the enabled routes besides /healthz and /readyz.
func (c Config) Routes() []string {
	routes := []string{}
	if c.GitHub.Webhooks {
		routes = append(routes, "POST "+routeGitHub)
	}
	if c.Legacy.CommitPushed {
		routes = append(routes, "POST "+routeCommitPushed)
	}
	if c.AzureDevOps.Hooks {
		routes = append(routes, "POST "+routeAzureDevOps)
	}
	return routes
}

// String describes the configuration without its secrets.
func (c Config) String() string {
	return fmt.Sprintf("listen %s, %d workers, routes %v, %s", c.Listen, c.Workers, c.Routes(), c.API)
}

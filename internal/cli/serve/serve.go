// Package serve is `maestro serve`: the HTTP server (package server) over
// the flow service, configured from flags, the environment and a file.
package serve

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/maestroplusplus/maestro/internal/cli/cmdutil"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/server"
)

// Options are the parsed flags of `maestro serve`.
type Options struct {
	ConfigFile string
	Flags      server.Flags
}

// NewCmd returns `maestro serve`; runF does the work (nil: serveRun).
func NewCmd(f *cmdutil.Factory, runF func(*cli.Context, *Options) error) *cli.Command {
	if runF == nil {
		runF = func(c *cli.Context, o *Options) error { return serveRun(c, f, o) }
	}
	return &cli.Command{
		Name:  "serve",
		Usage: "serve webhooks (re-check dependency pull requests when GitHub reports a change, mirror pushed branches, take the old Maestro's pushes), the REST API and metrics, and run the schedules on one of several replicas",
		Description: `Runs the Maestro++ server until SIGINT or SIGTERM. Routes:
  GET  /healthz          200 while the process runs, with the enabled routes
                         and the scheduler's role here ("scheduler": off,
                         follower or leader)
  GET  /readyz           200 when the registry store answers; 503 while
                         starting or shutting down
  GET  /metrics          Prometheus metrics: events received by type and
                         result, queue depth and latency, flow outcomes,
                         pull request checks, store request latency, the
                         scheduler's leadership and ticks
  POST /webhooks/github  (--github-webhooks) a GitHub webhook: the
                         X-Hub-Signature-256 is verified with the secret in
                         $` + server.EnvGitHubWebhookSecret + ` before anything
                         else (401 otherwise); pull_request,
                         pull_request_review, check_run, check_suite and
                         status events are recorded in the store and
                         answered 202, then workers re-check the tracked
                         dependency pull requests they concern (as
                         ` + "`maestro pr check --id`" + `), merging those whose
                         policies pass. A push to a branch of a mirrored
                         repository that a branch pattern selects queues
                         the mirror pipeline as ` + "`maestro mirror trigger`" + `
                         does; pushes to other branches, tags and deleted
                         branches are ignored. A delivery id seen before,
                         on any replica, answers 200 and changes nothing;
                         other events answer 200 and are not recorded.
  POST /CommitPushed     (--legacy-commit-pushed) the old Maestro's push
                         webhook of the versions repository: X-Hub-Signature
                         (HMAC-SHA1) is verified with $` + server.EnvLegacyWebhookSecret + `;
                         each push is matched against
                         --legacy-subscriptions FILE and its actions queued
                         (after their delay) as ` + "`maestro legacy watch`" + ` does,
                         sharing its state in the store; once per delivery.
  POST /webhooks/azure-devops
                         (--azure-devops-hooks) an Azure DevOps service hook
                         (Web Hooks): Basic authentication whose password,
                         or the ` + server.HeaderHookSecret + ` header, is
                         $` + server.EnvAzureDevOpsHookSecret + ` (401 otherwise).
                         build.complete and
                         ms.vss-pipelines.run-state-changed-event publish a
                         succeeded or partially succeeded build of a
                         pipeline opted in with ` + "`maestro publish-trigger set`" + `
                         from its AssetManifests artifact, as
                         ` + "`maestro publish`" + ` would, then flow it (reading
                         Azure DevOps with $MAESTRO_AZDO_TOKEN);
                         git.pullrequest.updated and git.pullrequest.merged
                         re-check the tracked pull request. Recorded and
                         answered 202 like GitHub's; an event id seen
                         before answers 200; other event types answer 200
                         and are counted, not recorded.
  /api/...               the REST API (docs/api.md; the OpenAPI document is
                         GET /api/openapi.json): builds, assets, channels,
                         default channels, subscriptions, repository
                         policies, flow history, explain and health, tracked
                         pull requests. Bearer tokens: GET needs the read
                         scope, other methods write; $` + server.EnvAPIReadToken + `
                         (read), $` + server.EnvAPIWriteToken + ` (read and
                         write), and api.tokens in the file, by SHA-256.
                         A request body must be application/json (415
                         otherwise). Explain and health (of the API and
                         the site) clone target branches: at most
                         --clone-requests run at once; one more waits up
                         to ` + server.CloneWait.String() + `, then is answered 503 with
                         Retry-After.
A webhook of another Content-Type than its sender's is answered 415: GitHub's
application/json or application/x-www-form-urlencoded, Azure DevOps's
application/json.
With --scheduler, the replica takes part in electing, by a lease in the
store, the one replica that runs the schedules: every --tick-interval it
runs what ` + "`maestro flow tick`" + ` runs (the flow that is due, then the merge
policy checks that are due). Start every replica with --scheduler: when the
leader dies, another takes over within --lease-period; no due time is
attempted twice. Without it the replica leaves the schedules to the others,
or to a scheduled flow-tick pipeline.
An enabled route without its secret refuses to start. Accepted events wait
in the store: a replica that stops or dies loses none, and several replicas
may share one store. Events about one repository are processed one at a
time, in the order they arrived; events of different repositories run in
parallel (--workers). Flags override the environment, which overrides the
--config file (YAML):
  listen: 127.0.0.1:8080
  store: azblob://maestro
  workers: 4
  claimTimeout: 5m        # after it, another worker takes a stalled event over
  eventTimeout: 15m       # one attempt at an event's work (and a trigger's)
  requestTimeout: 1m      # a request's work; 503 after it
  cloneRequests: 2        # explain and health requests (they clone) at once
  heapFloorMiB: 256       # heap the collector lets grow before it collects;
                          # 0: GOGC alone (the default when GOGC is set)
  github:
    webhooks: true
    webhookSecret: ...    # better: $` + server.EnvGitHubWebhookSecret + `
  azureDevOps:
    hooks: true
    hookSecret: ...       # better: $` + server.EnvAzureDevOpsHookSecret + `
  api:
    anonymousRead: false  # true: GET without a token is allowed
    tokens:               # sha256: printf %s "$TOKEN" | sha256sum
      - {name: dashboard, sha256: 64-hex-digits, scopes: [read]}
  legacy:
    commitPushed: true
    webhookSecret: ...    # better: $` + server.EnvLegacyWebhookSecret + `
    subscriptions: /srv/versions/Maestro/subscriptions.json
    vsoUrls:
      dnceng.visualstudio.com: https://dev.azure.com/dnceng
    claimTimeout: 5m      # after it, another worker takes over an action being queued
  scheduler:
    enabled: true
    leasePeriod: 30s      # 20s to 60s
    tickInterval: 1m      # 1s to 24h
  environment:            # as for every command; the process environment wins
    MAESTRO_AZDO_TOKEN: ...
    GITHUB_TOKEN: ...
    MAESTRO_BOT_NAME: dotnet-maestro-bot
Hosts, tokens, the bot identity and the store's credentials are the
variables every command reads (GITHUB_TOKEN, MAESTRO_GITHUB_APP_*,
MAESTRO_GITHUB_URL, MAESTRO_AZDO_TOKEN, MAESTRO_AZDO_SERVER_URLS,
MAESTRO_BOT_NAME, MAESTRO_BOT_EMAIL, MAESTRO_HTTP_TIMEOUT, AZURE_STORAGE_*,
AZURE_*), from the
process environment or the file's environment section. Secrets are never
logged.`,
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Usage: "`ADDRESS` to listen on, HOST:PORT (default: " + server.DefaultListen + ")"},
			&cli.StringFlag{Name: "config", Usage: "configuration `FILE` (YAML)"},
			&cli.IntFlag{Name: "workers", Usage: "events processed at once, 1 to 256", DefaultText: fmt.Sprint(server.DefaultWorkers)},
			&cli.IntFlag{Name: "clone-requests", Usage: fmt.Sprintf("requests that clone target branches (explain, health) run at once, 1 to %d; more wait %s, then 503 with Retry-After", server.MaxCloneRequests, server.CloneWait), DefaultText: fmt.Sprint(server.DefaultCloneRequests)},
			&cli.IntFlag{Name: "heap-floor-mib", Usage: fmt.Sprintf("`MIB` of heap the garbage collector lets grow before it collects, 0 to %d; 0 leaves it to GOGC (the default when GOGC is set)", server.MaxHeapFloorMiB), DefaultText: fmt.Sprint(server.DefaultHeapFloorMiB)},
			&cli.BoolFlag{Name: "github-webhooks", Usage: "enable POST /webhooks/github (needs $" + server.EnvGitHubWebhookSecret + ")"},
			&cli.BoolFlag{Name: "legacy-commit-pushed", Usage: "enable POST /CommitPushed (needs $" + server.EnvLegacyWebhookSecret + ", --legacy-subscriptions and an Azure DevOps token)"},
			&cli.StringFlag{Name: "legacy-subscriptions", Usage: "the legacy subscriptions.json `FILE` /CommitPushed matches pushes against"},
			&cli.StringSliceFlag{Name: "legacy-vso-url", Usage: "`VSOINSTANCE=URL`: the organization URL of a legacy action's vsoInstance; repeatable"},
			&cli.BoolFlag{Name: "azure-devops-hooks", Usage: "enable POST /webhooks/azure-devops (needs $" + server.EnvAzureDevOpsHookSecret + ")"},
			&cli.BoolFlag{Name: "scheduler", Usage: "take part in electing the one replica that runs the schedules (flow tick, merge policy checks)"},
			&cli.DurationFlag{Name: "lease-period", Usage: fmt.Sprintf("when the scheduling replica dies, another takes over within this `DURATION`, %s to %s", server.MinLeasePeriod, server.MaxLeasePeriod), DefaultText: server.DefaultLeasePeriod.String()},
			&cli.DurationFlag{Name: "tick-interval", Usage: fmt.Sprintf("how often the scheduling replica runs the schedules, a `DURATION` of %s to %s", server.MinTickInterval, server.MaxTickInterval), DefaultText: server.DefaultTickInterval.String()},
			cmdutil.StoreFlag,
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return cmdutil.UsageErrorf("serve takes no arguments; got %q", c.Args().First())
			}
			o := &Options{ConfigFile: c.String("config"), Flags: server.Flags{
				Listen: c.String("listen"), Store: c.String(cmdutil.StoreFlag.Name), Workers: c.Int("workers"),
				CloneRequests: c.Int("clone-requests"),
			}}
			if c.IsSet("workers") && o.Flags.Workers < 1 {
				return cmdutil.UsageErrorf("--workers %d: use 1 to 256", o.Flags.Workers)
			}
			if n := o.Flags.CloneRequests; c.IsSet("clone-requests") && (n < 1 || n > server.MaxCloneRequests) {
				return cmdutil.UsageErrorf("--clone-requests %d: use 1 to %d", n, server.MaxCloneRequests)
			}
			if c.IsSet("heap-floor-mib") {
				n := c.Int("heap-floor-mib")
				if n < 0 || n > server.MaxHeapFloorMiB {
					return cmdutil.UsageErrorf("--heap-floor-mib %d: use 0 to %d", n, server.MaxHeapFloorMiB)
				}
				o.Flags.HeapFloorMiB = &n
			}
			if c.IsSet("azure-devops-hooks") {
				on := c.Bool("azure-devops-hooks")
				o.Flags.AzureDevOpsHooks = &on
			}
			if c.IsSet("github-webhooks") {
				on := c.Bool("github-webhooks")
				o.Flags.GitHubWebhooks = &on
			}
			if c.IsSet("legacy-commit-pushed") {
				on := c.Bool("legacy-commit-pushed")
				o.Flags.LegacyCommitPushed = &on
			}
			o.Flags.LegacySubscriptions = c.String("legacy-subscriptions")
			for _, kv := range c.StringSlice("legacy-vso-url") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" || v == "" {
					return cmdutil.UsageErrorf("--legacy-vso-url %q: write VSOINSTANCE=URL, e.g. dnceng.visualstudio.com=https://dev.azure.com/dnceng", kv)
				}
				if o.Flags.LegacyVSOURLs == nil {
					o.Flags.LegacyVSOURLs = map[string]string{}
				}
				o.Flags.LegacyVSOURLs[k] = v
			}
			if c.IsSet("scheduler") {
				on := c.Bool("scheduler")
				o.Flags.Scheduler = &on
			}
			for _, d := range []struct {
				name     string
				min, max time.Duration
				dst      *time.Duration
			}{{"lease-period", server.MinLeasePeriod, server.MaxLeasePeriod, &o.Flags.LeasePeriod}, {"tick-interval", server.MinTickInterval, server.MaxTickInterval, &o.Flags.TickInterval}} {
				if !c.IsSet(d.name) {
					continue
				}
				if v := c.Duration(d.name); v < d.min || v > d.max {
					return cmdutil.UsageErrorf("--%s %s: use %s to %s", d.name, v, d.min, d.max)
				}
				*d.dst = c.Duration(d.name)
			}
			return runF(c, o)
		},
	}
}

func serveRun(c *cli.Context, f *cmdutil.Factory, o *Options) error {
	cfg, err := server.LoadConfig(o.ConfigFile, f.Getenv, o.Flags)
	if err != nil {
		return err
	}
	// The file's environment section fills in what the process
	// environment leaves unset, for the store, the hosts and the bot.
	withFile := *f
	withFile.Getenv = cfg.Getenv(f.Getenv)
	f = &withFile
	reg, err := f.RegistryAt(c.Context, cfg.Store)
	if err != nil {
		return err
	}
	// Every store request the server and the flow service make is measured.
	metrics := server.NewMetrics()
	reg = f.RegistryOn(metrics.InstrumentStore(reg.Store()))
	log := slog.New(slog.NewTextHandler(f.IO.ErrOut, nil))
	srv, err := server.New(cfg, f.Wiring().Service(reg), log, server.WithHosts(f.Wiring()), server.WithAzureDevOps(f.Wiring()), server.WithMetrics(metrics))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return maestro.Errorf(maestro.KindInvalid, "listen on %s: %v; choose another --listen address", cfg.Listen, err)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return srv.Run(ctx, ln)
}

// Package serve is `maestro serve`: the HTTP server (package server) over
// the flow service, configured from flags, the environment and a file.
package serve

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

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
		Usage: "serve webhooks (re-check dependency pull requests when GitHub reports a change) and the REST API",
		Description: `Runs the Maestro++ server until SIGINT or SIGTERM. Routes:
  GET  /healthz          200 and the enabled routes while the process runs
  GET  /readyz           200 when the registry store answers; 503 while
                         starting or shutting down
  POST /webhooks/github  (--github-webhooks) a GitHub webhook: the
                         X-Hub-Signature-256 is verified with the secret in
                         $` + server.EnvGitHubWebhookSecret + ` before anything
                         else (401 otherwise); pull_request,
                         pull_request_review, check_run, check_suite and
                         status events are recorded in the store and
                         answered 202, then workers re-check the tracked
                         dependency pull requests they concern (as
                         ` + "`maestro pr check --id`" + `), merging those whose
                         policies pass. A delivery id seen before, on any
                         replica, answers 200 and changes nothing; other
                         events answer 200 and are not recorded.
  /api/...               the REST API (docs/api.md; the OpenAPI document is
                         GET /api/openapi.json): builds, assets, channels,
                         default channels, subscriptions, repository
                         policies, flow history, explain and health, tracked
                         pull requests. Bearer tokens: GET needs the read
                         scope, other methods write; $` + server.EnvAPIReadToken + `
                         (read), $` + server.EnvAPIWriteToken + ` (read and
                         write), and api.tokens in the file, by SHA-256.
An enabled route without its secret refuses to start. Accepted events wait
in the store: a replica that stops or dies loses none, and several replicas
may share one store. Flags override the environment, which overrides the
--config file (YAML):
  listen: 127.0.0.1:8080
  store: azblob://maestro
  workers: 4
  claimTimeout: 5m        # after it, another worker takes a stalled event over
  github:
    webhooks: true
    webhookSecret: ...    # better: $` + server.EnvGitHubWebhookSecret + `
  api:
    anonymousRead: false  # true: GET without a token is allowed
    tokens:               # sha256: printf %s "$TOKEN" | sha256sum
      - {name: dashboard, sha256: 64-hex-digits, scopes: [read]}
Hosts, tokens and the bot identity come from the environment as for every
command (GITHUB_TOKEN, MAESTRO_GITHUB_URL, ...).`,
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Usage: "`ADDRESS` to listen on, HOST:PORT (default: " + server.DefaultListen + ")"},
			&cli.StringFlag{Name: "config", Usage: "configuration `FILE` (YAML)"},
			&cli.IntFlag{Name: "workers", Usage: fmt.Sprintf("events processed at once (default: %d)", server.DefaultWorkers)},
			&cli.BoolFlag{Name: "github-webhooks", Usage: "enable POST /webhooks/github (needs $" + server.EnvGitHubWebhookSecret + ")"},
			cmdutil.StoreFlag,
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return cmdutil.UsageErrorf("serve takes no arguments; got %q", c.Args().First())
			}
			o := &Options{ConfigFile: c.String("config"), Flags: server.Flags{
				Listen: c.String("listen"), Store: c.String(cmdutil.StoreFlag.Name), Workers: c.Int("workers"),
			}}
			if c.IsSet("workers") && o.Flags.Workers < 1 {
				return cmdutil.UsageErrorf("--workers %d: use 1 to 256", o.Flags.Workers)
			}
			if c.IsSet("github-webhooks") {
				on := c.Bool("github-webhooks")
				o.Flags.GitHubWebhooks = &on
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
	reg, err := f.RegistryAt(c.Context, cfg.Store)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(f.IO.ErrOut, nil))
	srv, err := server.New(cfg, f.Wiring().Service(reg), log)
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

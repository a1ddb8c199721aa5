package server

import (
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/service/wire"
	"github.com/maestroplusplus/maestro/internal/store/storeurl"
)

// LegacyConfig configures POST /CommitPushed, the old Maestro's GitHub push
// webhook: pushes to the versions repository are matched against the
// legacy subscriptions file as `maestro legacy watch` matches them.
type LegacyConfig struct {
	// CommitPushed enables the route.
	CommitPushed bool
	// WebhookSecret verifies X-Hub-Signature (HMAC-SHA1, the old
	// service's check); required when CommitPushed.
	WebhookSecret string
	// Subscriptions is the legacy subscriptions.json file (required when
	// CommitPushed). It is checked at start and read again for every push,
	// so an edited file applies without a restart.
	Subscriptions string
	// VSOURLs maps an action's vsoInstance to its organization URL, as
	// `maestro legacy watch --vso-url` does.
	VSOURLs map[string]string
	// ClaimTimeout is how long a worker owns a legacy action it queues
	// (0: legacy.ClaimTTL), as `maestro legacy watch --claim-timeout`.
	ClaimTimeout time.Duration
}

// fileLegacy is the configuration file's legacy section.
type fileLegacy struct {
	CommitPushed  *bool             `yaml:"commitPushed"`
	WebhookSecret string            `yaml:"webhookSecret"`
	Subscriptions string            `yaml:"subscriptions"`
	VSOURLs       map[string]string `yaml:"vsoUrls"`
	ClaimTimeout  string            `yaml:"claimTimeout"`
}

func (fl fileLegacy) apply(path string, c *LegacyConfig) error {
	if fl.CommitPushed != nil {
		c.CommitPushed = *fl.CommitPushed
	}
	c.WebhookSecret = fl.WebhookSecret
	c.Subscriptions = fl.Subscriptions
	for k, v := range fl.VSOURLs {
		if k == "" || v == "" {
			return maestro.Errorf(maestro.KindInvalid, "configuration file %s: legacy.vsoUrls: give VSOINSTANCE: URL, e.g. dnceng.visualstudio.com: https://dev.azure.com/dnceng", path)
		}
	}
	c.VSOURLs = maps.Clone(fl.VSOURLs)
	if fl.ClaimTimeout != "" {
		d, err := time.ParseDuration(fl.ClaimTimeout)
		if err != nil || d < time.Second {
			return maestro.Errorf(maestro.KindInvalid, "configuration file %s: legacy.claimTimeout %q: a duration of at least 1s, like 5m", path, fl.ClaimTimeout)
		}
		c.ClaimTimeout = d
	}
	return nil
}

func (f Flags) applyLegacy(c *LegacyConfig) {
	if f.LegacyCommitPushed != nil {
		c.CommitPushed = *f.LegacyCommitPushed
	}
	if f.LegacySubscriptions != "" {
		c.Subscriptions = f.LegacySubscriptions
	}
	if len(f.LegacyVSOURLs) > 0 {
		if c.VSOURLs == nil {
			c.VSOURLs = map[string]string{}
		}
		maps.Copy(c.VSOURLs, f.LegacyVSOURLs)
	}
}

// validate checks the legacy route's settings when it is enabled: its
// secret and a subscriptions file that parses.
func (c LegacyConfig) validate() error {
	if !c.CommitPushed {
		return nil
	}
	if c.WebhookSecret == "" {
		return maestro.Errorf(maestro.KindInvalid, "the legacy /CommitPushed route is enabled but has no secret: set %s (or legacy.webhookSecret in the configuration file) to the versions repository webhook's secret; deliveries are never taken unverified", EnvLegacyWebhookSecret)
	}
	if c.Subscriptions == "" {
		return maestro.Errorf(maestro.KindInvalid, "the legacy /CommitPushed route is enabled but has no subscriptions file: give --legacy-subscriptions FILE (or legacy.subscriptions in the configuration file), the versions repository's Maestro/subscriptions.json")
	}
	_, err := c.subscriptions()
	return err
}

// subscriptions reads and parses the subscriptions file.
func (c LegacyConfig) subscriptions() (*legacy.File, error) {
	data, err := os.ReadFile(c.Subscriptions)
	if err != nil {
		return nil, maestro.Errorf(maestro.KindInvalid, "legacy subscriptions: %v", err)
	}
	return legacy.Parse(c.Subscriptions, data)
}

// environmentNames are the variables the configuration file's environment
// section may set: what the hosts, the bot identity and the store are
// configured with for every command.
var environmentNames = []string{
	"GITHUB_TOKEN", wire.EnvGitHubURL,
	"MAESTRO_GITHUB_APP_ID", "MAESTRO_GITHUB_APP_INSTALLATION_ID", "MAESTRO_GITHUB_APP_PRIVATE_KEY",
	"MAESTRO_AZDO_TOKEN", wire.EnvAzdoServerURLs, wire.EnvAllowHTTPLoopback,
	"MAESTRO_BOT_NAME", "MAESTRO_BOT_EMAIL",
	storeurl.EnvConnectionString, storeurl.EnvAccountURL, storeurl.EnvTenantID, storeurl.EnvClientID, storeurl.EnvClientSecret,
}

func readEnvironment(path string, env map[string]string, cfg *Config) error {
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !slices.Contains(environmentNames, k) {
			return maestro.Errorf(maestro.KindInvalid, "configuration file %s: environment: %s is not a variable maestro serve reads; use one of %s", path, k, strings.Join(environmentNames, ", "))
		}
	}
	cfg.Environment = maps.Clone(env)
	return nil
}

// Getenv returns the environment lookup the server's hosts, bot identity
// and store read: the process environment (getenv) where it sets a
// variable, else the configuration file's environment section.
func (c Config) Getenv(getenv func(string) string) func(string) string {
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return c.Environment[k]
	}
}

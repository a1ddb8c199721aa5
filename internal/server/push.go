package server

import (
	"context"
	"errors"
	"fmt"
	"github.com/maestroplusplus/maestro/internal/jsonscan"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/mirror"
	"github.com/maestroplusplus/maestro/internal/registry"
)

// Hosts are the outside services the routes reach besides the flow
// service's: the Azure DevOps queues of mirror pipelines and of legacy
// actions. wire.Env implements it with the tokens every command uses.
type Hosts interface {
	MirrorQueue() (mirror.Queuer, error)
	LegacyQueuer(instances map[string]string) (legacy.Queuer, error)
}

// Option configures a Server.
type Option func(*Server)

// WithHosts sets the hosts push events queue mirror pipelines and legacy
// actions with. Without it, such an event fails (and is retried) saying so,
// and an enabled /CommitPushed route refuses to start.
func WithHosts(h Hosts) Option { return func(s *Server) { s.hosts = h } }

// errNoHosts: the server was built without hosts.
var errNoHosts = errors.New("this server has no Azure DevOps hosts configured")

// pushRef is what a push event says about one branch: the repository
// (its web URL and OWNER/REPO), the branch and the commits before and
// after the push.
type pushRef struct {
	Repository string // repository.html_url
	FullName   string // repository.full_name
	Branch     string // "" for a tag or another ref
	Deleted    bool
	Before     string
	After      string
	Event      *gh.PushEvent
	Payload    jsonscan.Checked // the payload, checked JSON: intake records it as it is
}

// parsePush reads a push payload.
func parsePush(payload []byte) (pushRef, error) {
	parsed, err := gh.ParseWebHook("push", payload)
	if err != nil {
		return pushRef{}, fmt.Errorf("push payload: %v", err)
	}
	doc, ok := jsonscan.Check(payload)
	if !ok {
		return pushRef{}, errors.New("push payload: not JSON")
	}
	e := parsed.(*gh.PushEvent)
	p := pushRef{Repository: e.GetRepo().GetHTMLURL(), FullName: e.GetRepo().GetFullName(), Deleted: e.GetDeleted(),
		Before: e.GetBefore(), After: e.GetAfter(), Event: e, Payload: doc}
	if p.Repository == "" || p.FullName == "" {
		return p, errors.New("push payload: no repository.html_url or repository.full_name")
	}
	if b, ok := strings.CutPrefix(e.GetRef(), "refs/heads/"); ok {
		p.Branch = b
	}
	return p, nil
}

// ignored says why a push changes nothing ("" when it may): a push that
// deleted a branch, or one to a tag or another ref.
func (p pushRef) ignored() string {
	switch {
	case p.Branch == "":
		return fmt.Sprintf("push to %s is not to a branch", p.Event.GetRef())
	case p.Deleted:
		return fmt.Sprintf("push deleted branch %s", p.Branch)
	}
	return ""
}

// mirroredPush says whether a push to the GitHub route concerns a
// mirrored branch: its repository has a mirror whose branch patterns
// select the branch. A push that does not is acknowledged and not
// recorded; one that does is checked again when processed.
func (s *Server) mirroredPush(ctx context.Context, p pushRef) (string, error) {
	if why := p.ignored(); why != "" {
		return why + "; ignored", nil
	}
	m, err := s.reg.Mirror(ctx, p.Repository)
	if maestro.KindOf(err) == maestro.KindNotFound {
		return p.Repository + " is not mirrored; push ignored", nil
	}
	if err != nil {
		return "", err
	}
	if _, ok := m.Branch(p.Branch); !ok {
		return fmt.Sprintf("no branch pattern of the mirror of %s selects %s; push ignored", p.Repository, p.Branch), nil
	}
	return "", nil
}

// mirrorPush triggers the mirror of a pushed branch, as `maestro mirror
// trigger --source URL --branch B --commit SHA` does (mirror.Trigger: it
// coalesces with a run queued or running for the branch).
func (s *Server) mirrorPush(ctx context.Context, p pushRef) (string, error) {
	if why, err := s.mirroredPush(ctx, p); err != nil || why != "" {
		return why, err
	}
	m, err := s.reg.Mirror(ctx, p.Repository)
	if err != nil {
		return "", err
	}
	if s.hosts == nil {
		return "", fmt.Errorf("mirror %s %s: %w", m.SourceRepository, p.Branch, errNoHosts)
	}
	q, err := s.hosts.MirrorQueue()
	if err != nil {
		return "", fmt.Errorf("mirror %s %s: %w", m.SourceRepository, p.Branch, err)
	}
	commit := p.After
	if registry.ValidateCommit(commit) != nil {
		commit = ""
	}
	res, err := mirror.Trigger{Runs: s.reg, Queue: q, Now: s.now}.Trigger(ctx, m, p.Branch, commit)
	if err != nil {
		return "", err
	}
	switch {
	case res.Mode == "":
		return fmt.Sprintf("%s of %s is not mirrored", p.Branch, m.SourceRepository), nil
	case res.Queued:
		return fmt.Sprintf("queued mirror run %d (%s) of %s %s", res.RunID, res.Mode, m.SourceRepository, p.Branch), nil
	case res.RunID != 0:
		return fmt.Sprintf("coalesced into mirror run %d of %s %s", res.RunID, m.SourceRepository, p.Branch), nil
	}
	return fmt.Sprintf("coalesced into the mirror run another trigger is queueing for %s %s", m.SourceRepository, p.Branch), nil
}

// waitUntil is the error of an attempt whose work is not finished but only
// has to wait (a delayed legacy action): the event comes back at At, and
// the wait counts as no failure.
type waitUntil struct {
	At  time.Time
	Why string
}

func (w waitUntil) Error() string { return w.Why }

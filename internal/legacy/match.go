package legacy

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Push is one push to a GitHub repository, as the old service saw it.
type Push struct {
	Repository string   // OWNER/REPO
	Ref        string   // refs/heads/BRANCH; other refs (tags) trigger nothing
	Commits    []Commit // oldest first
}

// Commit is one pushed commit and the files it changed.
type Commit struct {
	ID    string
	Paths []string // added, modified and removed files, relative to the repository root
}

// Trigger is one handler a push triggered: the build to queue, before its
// placeholders are filled in (Parameters does that), so that pushes that
// arrive within the subscription's delay can be combined first (Merge).
type Trigger struct {
	Subscription int           `json:"subscription"` // Subscription.Index
	Handler      int           `json:"handler"`      // index in Subscription.Handlers
	Action       Action        `json:"action"`
	SourceBranch string        `json:"sourceBranch,omitempty"`
	Delay        time.Duration `json:"delay"`
	Repository   string        `json:"repository"` // OWNER/REPO of the push
	Branch       string        `json:"branch"`     // the pushed branch
	Path         string        `json:"path"`       // the last matching file
	Commits      []string      `json:"commits"`    // the commits with a matching file, oldest first
	// RawParameters are the handler's parameters as the file gives them,
	// placeholders and all.
	RawParameters []Parameter `json:"parameters,omitempty"`
}

// Key identifies the subscription handler a trigger belongs to; triggers of
// one key coalesce within the delay.
func (t Trigger) Key() string {
	return strings.Join([]string{strconv.Itoa(t.Subscription), strconv.Itoa(t.Handler), strings.ToLower(t.Repository), t.Branch}, "|")
}

// Match returns what push triggers: for each changed file of each commit, the
// URL https://github.com/{owner}/{repo}/blob/{branch}/{path} is compared with
// every trigger case-insensitively — equal, or, for a trigger ending in
// /**/*, starting with the trigger's text before "**/*". Each subscription
// handler is triggered at most once per push, with the last matching file
// and every commit that had a matching file; two triggers that would queue
// the same build (definition, source branch and parameters) are one.
// A push to anything but a branch triggers nothing.
func (f *File) Match(p Push) []Trigger {
	branch, ok := strings.CutPrefix(p.Ref, "refs/heads/")
	if !ok || branch == "" {
		return nil
	}
	base := strings.ToLower("https://github.com/" + p.Repository + "/blob/" + branch + "/")
	type hit struct {
		path    string
		commits []string
	}
	hits := map[int]*hit{} // by subscription position
	for _, c := range p.Commits {
		for _, path := range c.Paths {
			url := base + strings.ToLower(path)
			for i := range f.Subscriptions {
				if !matchesAny(f.Subscriptions[i].Triggers, url) {
					continue
				}
				h := hits[i]
				if h == nil {
					h = &hit{}
					hits[i] = h
				}
				h.path = path
				if len(h.commits) == 0 || h.commits[len(h.commits)-1] != c.ID {
					h.commits = append(h.commits, c.ID)
				}
			}
		}
	}
	var out []Trigger
	seen := map[string]bool{}
	for i := range f.Subscriptions {
		h := hits[i]
		if h == nil {
			continue
		}
		s := f.Subscriptions[i]
		for j, hd := range s.Handlers {
			a, _ := f.Action(hd.Action)
			t := Trigger{
				Subscription: s.Index, Handler: j, Action: a, SourceBranch: hd.SourceBranch, Delay: s.Delay,
				Repository: p.Repository, Branch: branch, Path: h.path, Commits: slices.Clone(h.commits),
				RawParameters: hd.Parameters,
			}
			id := t.buildKey()
			if seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, t)
		}
	}
	return out
}

// buildKey is what makes two queued builds the same.
func (t Trigger) buildKey() string {
	var b strings.Builder
	b.WriteString(strings.ToLower(t.Action.VSOInstance) + "\x00" + strings.ToLower(t.Action.VSOProject) + "\x00" + strconv.Itoa(t.Action.BuildDefinitionID) + "\x00" + t.SourceBranch)
	for _, p := range t.Parameters() {
		b.WriteString("\x00" + p[0] + "\x01" + p[1])
	}
	return b.String()
}

func matchesAny(triggers []string, url string) bool {
	for _, t := range triggers {
		if Matches(t, url) {
			return true
		}
	}
	return false
}

// Matches reports whether the trigger matches the file URL url (both
// https://github.com/{owner}/{repo}/blob/{branch}/{path}): equal ignoring
// case, or, for a trigger ending in /**/*, url starts with the trigger's
// text before "**/*", ignoring case.
func Matches(trigger, url string) bool {
	if prefix, ok := strings.CutSuffix(trigger, "/**/*"); ok {
		prefix += "/"
		return len(url) > len(prefix) && strings.EqualFold(url[:len(prefix)], prefix)
	}
	return strings.EqualFold(trigger, url)
}

// Merge returns t with the commits of later, a trigger of the same Key from
// a later push, appended (without repeats) and later's file: pushes within the
// delay become one build.
func (t Trigger) Merge(later Trigger) Trigger {
	out := t
	out.Commits = slices.Clone(t.Commits)
	for _, c := range later.Commits {
		if !slices.Contains(out.Commits, c) {
			out.Commits = append(out.Commits, c)
		}
	}
	out.Path = later.Path
	return out
}

// Parameters returns the build parameters, in file order, with the
// placeholders filled in: <trigger-repo> (the repository's name, without
// its owner), <trigger-branch>, <trigger-path> (the matching file's path in
// the repository), <trigger-commit> (the last matching commit) and
// <trigger-commitlist> (the matching commits, oldest first, separated by
// spaces). A list parameter's items are joined with spaces.
func (t Trigger) Parameters() [][2]string {
	_, repo, found := strings.Cut(t.Repository, "/")
	if !found {
		repo = t.Repository
	}
	last := ""
	if len(t.Commits) > 0 {
		last = t.Commits[len(t.Commits)-1]
	}
	r := strings.NewReplacer(
		"<trigger-repo>", repo,
		"<trigger-branch>", t.Branch,
		"<trigger-path>", t.Path,
		"<trigger-commit>", last,
		"<trigger-commitlist>", strings.Join(t.Commits, " "),
	)
	out := make([][2]string, 0, len(t.RawParameters))
	for _, p := range t.RawParameters {
		v := p.Value
		if p.IsList {
			v = strings.Join(p.List, " ")
		}
		out = append(out, [2]string{p.Name, r.Replace(v)})
	}
	return out
}

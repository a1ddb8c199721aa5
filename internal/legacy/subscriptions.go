// Package legacy reads and writes what the old Maestro read and wrote in a
// versions repository (dotnet/versions): the Maestro/subscriptions.json file
// that says which build to queue when a file changes on GitHub, and the
// build-info files that publishing writes. It lets Maestro++ run beside the
// old system during the transition.
//
// Parse accepts both historical schemas of subscriptions.json:
//
//   - 2016: subscriptions[{path, handlers[{maestroAction, PARAMETER...}]}],
//     where path is https://github.com/{owner}/{repo}/{branch}/{file} (no
//     "blob" segment) and a handler's other members are its build parameters;
//   - 2017 on: subscriptions[{triggerPaths[], action, delay, actionArguments
//     {vsoSourceBranch, vsoBuildParameters}}].
//
// Both share actions{NAME: {vsoInstance, vsoProject, buildDefinitionId}}. The
// file is JSON with // and /* */ comments and trailing commas, any line ending
// and an optional byte-order mark.
package legacy

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/deps/jsonedit"
	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Schema is the historical layout of a subscriptions file.
type Schema int

// The two layouts.
const (
	Schema2016 Schema = 2016 // subscriptions[{path, handlers[]}]
	Schema2017 Schema = 2017 // subscriptions[{triggerPaths, action, delay, actionArguments}]
)

// File is a parsed subscriptions.json.
type File struct {
	Path          string // as given to Parse, for messages
	Schema        Schema
	Actions       []Action // in file order
	Subscriptions []Subscription
	// Warnings are things that parse but cannot do what their author
	// meant, such as a trigger URL without the "blob" segment, which no push
	// ever matches.
	Warnings []string
}

// Action is a build definition that subscriptions queue.
type Action struct {
	Name              string `json:"name"`
	VSOInstance       string `json:"vsoInstance"` // e.g. dnceng.visualstudio.com
	VSOProject        string `json:"vsoProject"`
	BuildDefinitionID int    `json:"buildDefinitionId"`
	Line              int    `json:"-"`
}

// Subscription is one entry of subscriptions[]: when a changed file matches
// one of its triggers, each of its handlers queues its action. A 2017 entry
// has one handler; a 2016 entry one per element of handlers[].
type Subscription struct {
	Index    int // position in subscriptions[], from 0
	Line     int
	Triggers []string // https://github.com/{owner}/{repo}/blob/{branch}/{path}, maybe ending in /**/*
	// Delay is how long after a matching push the action is queued; pushes
	// within it coalesce into one build (0: queue at once).
	Delay    time.Duration
	Handlers []Handler
}

// Handler queues one action with its arguments.
type Handler struct {
	Action       string // a key of File.Actions
	SourceBranch string // vsoSourceBranch; "" for the definition's default
	Parameters   []Parameter
	Line         int
}

// Parameter is one build parameter. A list value is passed joined with
// spaces, as the old service did.
type Parameter struct {
	Name   string   `json:"name"`
	Value  string   `json:"value,omitempty"` // when not a list
	List   []string `json:"list,omitempty"`  // when IsList
	IsList bool     `json:"isList,omitempty"`
}

// Action returns the action named name.
func (f *File) Action(name string) (Action, bool) {
	for _, a := range f.Actions {
		if a.Name == name {
			return a, true
		}
	}
	return Action{}, false
}

// Parse parses src, the content of the subscriptions file path. Every problem
// it finds is reported in one error of kind maestro.KindInvalid, a line
// each, "PATH:LINE: subscriptions[I].FIELD: what is wrong; what to do".
func Parse(path string, src []byte) (*File, error) {
	root, err := jsonedit.Parse(src)
	if err != nil {
		var se *jsonedit.SyntaxError
		if errors.As(err, &se) {
			return nil, maestro.Errorf(maestro.KindInvalid, "%s:%d:%d: malformed JSON: %s; fix the file and try again", path, se.Line, se.Col, se.Msg)
		}
		return nil, maestro.Errorf(maestro.KindInvalid, "%s: malformed JSON: %v", path, err)
	}
	p := &parser{path: path, src: src, f: &File{Path: path}}
	p.file(root)
	if len(p.errs) > 0 {
		return nil, maestro.Errorf(maestro.KindInvalid, "%s has %d problem(s); fix them and run `maestro legacy validate %s` again:\n%s",
			path, len(p.errs), path, strings.Join(p.errs, "\n"))
	}
	return p.f, nil
}

type parser struct {
	path string
	src  []byte
	f    *File
	errs []string
	// declared holds the names in actions{}, parsed or not: a subscription
	// naming a broken action is reported once, at the action.
	declared map[string]bool
}

func (p *parser) line(v *jsonedit.Value) int { return jsonedit.Line(p.src, v.Start) }

func (p *parser) errorf(v *jsonedit.Value, field, format string, args ...any) {
	p.errs = append(p.errs, fmt.Sprintf("%s:%d: %s: %s", p.path, p.line(v), field, fmt.Sprintf(format, args...)))
}

func (p *parser) warnf(v *jsonedit.Value, field, format string, args ...any) {
	p.f.Warnings = append(p.f.Warnings, fmt.Sprintf("%s:%d: %s: %s", p.path, p.line(v), field, fmt.Sprintf(format, args...)))
}

var kindNames = map[jsonedit.Kind]string{
	jsonedit.Object: "an object", jsonedit.Array: "an array", jsonedit.String: "a string",
	jsonedit.Number: "a number", jsonedit.Bool: "a boolean", jsonedit.Null: "null",
}

// want reports whether v has kind k, and records the error when not.
func (p *parser) want(v *jsonedit.Value, k jsonedit.Kind, field string) bool {
	if v.Kind == k {
		return true
	}
	p.errorf(v, field, "must be %s, not %s", kindNames[k], kindNames[v.Kind])
	return false
}

// members checks obj's member names against known (nil: any name) and for
// duplicates, and returns the members by name.
func (p *parser) members(obj *jsonedit.Value, field string, known []string, hint string) map[string]*jsonedit.Value {
	out := map[string]*jsonedit.Value{}
	for _, m := range obj.Members {
		name := join(field, m.Key)
		if _, dup := out[m.Key]; dup {
			p.errorf(m.Value, name, "is given twice (first on line %d); remove one", p.line(out[m.Key]))
			continue
		}
		out[m.Key] = m.Value
		if known != nil && !contains(known, m.Key) {
			p.errorf(m.Value, name, "unknown member %q; %s", m.Key, hint)
		}
	}
	return out
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (p *parser) file(root *jsonedit.Value) {
	if !p.want(root, jsonedit.Object, "(top level)") {
		return
	}
	top := p.members(root, "", []string{"actions", "subscriptions"}, "the file has actions and subscriptions")
	actions, subs := top["actions"], top["subscriptions"]
	p.declared = map[string]bool{}
	if actions != nil && actions.Kind == jsonedit.Object {
		for _, m := range actions.Members {
			p.declared[m.Key] = true
		}
	}
	if actions == nil {
		p.errorf(root, "actions", "is missing; add \"actions\": {NAME: {vsoInstance, vsoProject, buildDefinitionId}}")
	} else if p.want(actions, jsonedit.Object, "actions") {
		p.actions(actions)
	}
	if subs == nil {
		p.errorf(root, "subscriptions", "is missing; add \"subscriptions\": [...]")
		return
	}
	if !p.want(subs, jsonedit.Array, "subscriptions") {
		return
	}
	p.f.Schema = Schema2017
	if len(subs.Items) > 0 && subs.Items[0].Kind == jsonedit.Object {
		first := subs.Items[0]
		if first.Get("handlers") != nil || first.Get("path") != nil {
			p.f.Schema = Schema2016
		}
	}
	for i, item := range subs.Items {
		field := fmt.Sprintf("subscriptions[%d]", i)
		if !p.want(item, jsonedit.Object, field) {
			continue
		}
		var s Subscription
		var ok bool
		if p.f.Schema == Schema2016 {
			s, ok = p.subscription2016(i, item, field)
		} else {
			s, ok = p.subscription2017(i, item, field)
		}
		if ok {
			p.f.Subscriptions = append(p.f.Subscriptions, s)
		}
	}
}

func (p *parser) actions(obj *jsonedit.Value) {
	p.members(obj, "actions", nil, "")
	seen := map[string]bool{}
	for _, m := range obj.Members {
		field := "actions." + m.Key
		if seen[m.Key] {
			continue // reported by members
		}
		seen[m.Key] = true
		if strings.TrimSpace(m.Key) == "" {
			p.errorf(m.Value, "actions", "an action has an empty name; name it")
			continue
		}
		if !p.want(m.Value, jsonedit.Object, field) {
			continue
		}
		a := Action{Name: m.Key, Line: p.line(m.Value)}
		ms := p.members(m.Value, field, []string{"vsoInstance", "vsoProject", "buildDefinitionId"},
			"an action has vsoInstance, vsoProject and buildDefinitionId")
		ok := p.requiredString(m.Value, ms, field, "vsoInstance", "the Azure DevOps host, e.g. dnceng.visualstudio.com")
		a.VSOInstance = str(ms["vsoInstance"])
		a.VSOProject = str(ms["vsoProject"])
		ok = p.requiredString(m.Value, ms, field, "vsoProject", "the Azure DevOps project, e.g. internal") && ok
		if ok && strings.ContainsAny(a.VSOInstance, "/ ") {
			p.errorf(ms["vsoInstance"], field+".vsoInstance", "%q is not a host name; give the host alone, e.g. dnceng.visualstudio.com", a.VSOInstance)
			ok = false
		}
		if v := ms["buildDefinitionId"]; v == nil {
			p.errorf(m.Value, field+".buildDefinitionId", "is missing; give the build definition's id (a positive integer)")
			ok = false
		} else if p.want(v, jsonedit.Number, field+".buildDefinitionId") {
			id, err := strconv.Atoi(v.Str)
			if err != nil || id <= 0 {
				p.errorf(v, field+".buildDefinitionId", "%s is not a build definition id; give a positive integer", v.Str)
				ok = false
			}
			a.BuildDefinitionID = id
		} else {
			ok = false
		}
		if ok {
			p.f.Actions = append(p.f.Actions, a)
		}
	}
}

func str(v *jsonedit.Value) string {
	if v == nil || v.Kind != jsonedit.String {
		return ""
	}
	return v.Str
}

// requiredString checks that ms[key] is a non-blank string.
func (p *parser) requiredString(obj *jsonedit.Value, ms map[string]*jsonedit.Value, field, key, what string) bool {
	v := ms[key]
	if v == nil {
		p.errorf(obj, join(field, key), "is missing; give %s", what)
		return false
	}
	if !p.want(v, jsonedit.String, join(field, key)) {
		return false
	}
	if strings.TrimSpace(v.Str) == "" {
		p.errorf(v, join(field, key), "is empty; give %s", what)
		return false
	}
	return true
}

func (p *parser) subscription2017(i int, obj *jsonedit.Value, field string) (Subscription, bool) {
	s := Subscription{Index: i, Line: p.line(obj)}
	ms := p.members(obj, field, []string{"triggerPaths", "action", "delay", "actionArguments"},
		"a subscription has triggerPaths, action, delay and actionArguments")
	ok := true
	if tp := ms["triggerPaths"]; tp == nil {
		p.errorf(obj, field+".triggerPaths", "is missing; give the GitHub URLs whose changes trigger the action")
		ok = false
	} else if p.want(tp, jsonedit.Array, field+".triggerPaths") {
		if len(tp.Items) == 0 {
			p.errorf(tp, field+".triggerPaths", "is empty; give at least one GitHub URL")
			ok = false
		}
		for j, item := range tp.Items {
			f := fmt.Sprintf("%s.triggerPaths[%d]", field, j)
			if !p.want(item, jsonedit.String, f) {
				ok = false
				continue
			}
			t, good := p.trigger(item, f, item.Str, false)
			ok = ok && good
			s.Triggers = append(s.Triggers, t)
		}
	} else {
		ok = false
	}
	h := Handler{Line: s.Line}
	if p.requiredString(obj, ms, field, "action", "the name of one of the actions") {
		h.Action = ms["action"].Str
		if _, found := p.f.Action(h.Action); !found && !p.declared[h.Action] {
			p.errorf(ms["action"], field+".action", "no action is named %q; add it to actions or name one of: %s", h.Action, p.actionNames())
			ok = false
		}
	} else {
		ok = false
	}
	if d := ms["delay"]; d != nil && p.want(d, jsonedit.String, field+".delay") {
		delay, err := ParseDelay(d.Str)
		if err != nil {
			p.errorf(d, field+".delay", "%v", err)
			ok = false
		}
		s.Delay = delay
	} else if d != nil {
		ok = false
	}
	if args := ms["actionArguments"]; args != nil {
		af := field + ".actionArguments"
		if p.want(args, jsonedit.Object, af) {
			am := p.members(args, af, []string{"vsoSourceBranch", "vsoBuildParameters"},
				"actionArguments has vsoSourceBranch and vsoBuildParameters")
			if b := am["vsoSourceBranch"]; b != nil {
				if p.want(b, jsonedit.String, af+".vsoSourceBranch") {
					h.SourceBranch = b.Str
					if strings.TrimSpace(b.Str) == "" || strings.ContainsAny(b.Str, " \t") {
						p.errorf(b, af+".vsoSourceBranch", "%q is not a branch name; give a branch such as main, or leave the member out", b.Str)
						ok = false
					}
				} else {
					ok = false
				}
			}
			if bp := am["vsoBuildParameters"]; bp != nil {
				params, good := p.parameters(bp, af+".vsoBuildParameters", nil)
				h.Parameters = params
				ok = ok && good
			}
		} else {
			ok = false
		}
	}
	s.Handlers = []Handler{h}
	return s, ok
}

func (p *parser) actionNames() string {
	var names []string
	for _, a := range p.f.Actions {
		names = append(names, a.Name)
	}
	if len(names) == 0 {
		return "(none are defined)"
	}
	if len(names) > 10 {
		names = append(names[:10], "...")
	}
	return strings.Join(names, ", ")
}

// parameters reads a build-parameter object; skip names members that are not
// parameters (a 2016 handler's maestroAction).
func (p *parser) parameters(obj *jsonedit.Value, field string, skip []string) ([]Parameter, bool) {
	if !p.want(obj, jsonedit.Object, field) {
		return nil, false
	}
	p.members(obj, field, nil, "")
	ok := true
	seen := map[string]bool{}
	var out []Parameter
	for _, m := range obj.Members {
		if contains(skip, m.Key) || seen[m.Key] {
			continue
		}
		seen[m.Key] = true
		f := join(field, m.Key)
		if strings.TrimSpace(m.Key) == "" {
			p.errorf(m.Value, field, "a parameter has an empty name; name it")
			ok = false
			continue
		}
		switch m.Value.Kind {
		case jsonedit.String:
			out = append(out, Parameter{Name: m.Key, Value: m.Value.Str})
		case jsonedit.Array:
			prm := Parameter{Name: m.Key, IsList: true, List: []string{}}
			for j, item := range m.Value.Items {
				if !p.want(item, jsonedit.String, fmt.Sprintf("%s[%d]", f, j)) {
					ok = false
					continue
				}
				prm.List = append(prm.List, item.Str)
			}
			out = append(out, prm)
		default:
			p.errorf(m.Value, f, "must be a string or an array of strings, not %s; quote the value", kindNames[m.Value.Kind])
			ok = false
		}
	}
	return out, ok
}

func (p *parser) subscription2016(i int, obj *jsonedit.Value, field string) (Subscription, bool) {
	s := Subscription{Index: i, Line: p.line(obj)}
	ms := p.members(obj, field, []string{"path", "handlers"}, "a subscription of this schema (2016) has path and handlers")
	ok := true
	if p.requiredString(obj, ms, field, "path", "the GitHub URL whose changes trigger the handlers") {
		t, good := p.trigger(ms["path"], field+".path", ms["path"].Str, true)
		ok = good
		s.Triggers = []string{t}
	} else {
		ok = false
	}
	hs := ms["handlers"]
	if hs == nil {
		p.errorf(obj, field+".handlers", "is missing; give the handlers to run")
		return s, false
	}
	if !p.want(hs, jsonedit.Array, field+".handlers") {
		return s, false
	}
	if len(hs.Items) == 0 {
		p.errorf(hs, field+".handlers", "is empty; give at least one handler {\"maestroAction\": NAME}")
		ok = false
	}
	for j, item := range hs.Items {
		hf := fmt.Sprintf("%s.handlers[%d]", field, j)
		if !p.want(item, jsonedit.Object, hf) {
			ok = false
			continue
		}
		h := Handler{Line: p.line(item)}
		hm := map[string]*jsonedit.Value{}
		for _, m := range item.Members {
			hm[m.Key] = m.Value
		}
		if p.requiredString(item, hm, hf, "maestroAction", "the name of one of the actions") {
			h.Action = hm["maestroAction"].Str
			if _, found := p.f.Action(h.Action); !found && !p.declared[h.Action] {
				p.errorf(hm["maestroAction"], hf+".maestroAction", "no action is named %q; add it to actions or name one of: %s", h.Action, p.actionNames())
				ok = false
			}
		} else {
			ok = false
		}
		params, good := p.parameters(item, hf, []string{"maestroAction"})
		h.Parameters = params
		ok = ok && good
		s.Handlers = append(s.Handlers, h)
	}
	return s, ok
}

// trigger checks a trigger URL and returns it in the 2017 form. A 2016 path
// has no "blob" segment; it is given one.
func (p *parser) trigger(v *jsonedit.Value, field, raw string, schema2016 bool) (string, bool) {
	t, err := checkTrigger(raw)
	if err != nil {
		p.errorf(v, field, "%q %v; a trigger is https://github.com/OWNER/REPO/blob/BRANCH/PATH, optionally ending in /**/* to match everything below", raw, err)
		return raw, false
	}
	segs := strings.Split(strings.TrimPrefix(t.Path, "/"), "/")
	hasBlob := len(segs) > 2 && segs[2] == "blob"
	if schema2016 && !hasBlob {
		return "https://github.com/" + segs[0] + "/" + segs[1] + "/blob/" + strings.Join(segs[2:], "/"), true
	}
	if strings.Contains(t.Path, "//") {
		p.warnf(v, field, "%q has an empty path segment (//), so no push matches it; remove the extra /", raw)
	} else if !hasBlob {
		p.warnf(v, field, "%q has no /blob/ segment after the repository, so no push matches it; write https://github.com/%s/%s/blob/%s", raw, segs[0], segs[1], strings.Join(segs[2:], "/"))
	}
	return raw, true
}

// checkTrigger parses a trigger URL: https on github.com, an owner, a
// repository and at least one more segment, no query or fragment, and "*"
// only in a final "/**/*".
func checkTrigger(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) != raw || strings.ContainsAny(raw, " \t\r\n") {
		return nil, errors.New("contains white space")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("is not a URL")
	}
	if u.Scheme != "https" || !strings.EqualFold(u.Host, "github.com") {
		return nil, errors.New("is not an https://github.com/ URL")
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "?") || strings.Contains(raw, "#") {
		return nil, errors.New("has a query or fragment")
	}
	body, _ := strings.CutSuffix(u.Path, "/**/*")
	if strings.Contains(body, "*") {
		return nil, errors.New("has a wildcard that is not a final /**/*")
	}
	segs := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(segs) < 4 {
		return nil, errors.New("names no branch and path")
	}
	if segs[0] == "" || segs[1] == "" {
		return nil, errors.New("names no owner and repository")
	}
	if segs[2] == "blob" && (len(segs) < 5 || segs[3] == "") {
		return nil, errors.New("names no branch and path")
	}
	return u, nil
}

var delayRE = regexp.MustCompile(`^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$`)

// ParseDelay parses a delay in the .NET TimeSpan form the old service read:
// [d.]hh:mm:ss[.fffffff], e.g. "00:10:00".
func ParseDelay(s string) (time.Duration, error) {
	m := delayRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a delay; write hh:mm:ss, e.g. \"00:10:00\" for ten minutes", s)
	}
	n := func(x string) int64 { v, _ := strconv.ParseInt(x, 10, 64); return v }
	days, h, mi, sec := n(m[1]), n(m[2]), n(m[3]), n(m[4])
	if h > 23 || mi > 59 || sec > 59 {
		return 0, fmt.Errorf("%q is out of range (hours 0-23, minutes and seconds 0-59); write hh:mm:ss, e.g. \"00:10:00\"", s)
	}
	if days > 30 {
		return 0, fmt.Errorf("%q is more than 30 days; a delay coalesces pushes, give minutes or hours", s)
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(sec)*time.Second
	if m[5] != "" {
		frac := m[5] + strings.Repeat("0", 7-len(m[5]))
		d += time.Duration(n(frac)) * 100 * time.Nanosecond
	}
	return d, nil
}

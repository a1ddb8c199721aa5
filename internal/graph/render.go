package graph

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/maestroplusplus/maestro/internal/maestro"
)

// Format is an output format of a graph.
type Format string

// The formats, in the order --help lists them.
const (
	Table   Format = "table"
	JSON    Format = "json"
	DOT     Format = "dot"
	Mermaid Format = "mermaid"
	SVG     Format = "svg"
)

// Formats lists every Format.
var Formats = []Format{Table, JSON, DOT, Mermaid, SVG}

// ParseFormat checks a --format value; a bad one is an error of kind
// maestro.KindInvalid that lists the formats.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", maestro.Errorf(maestro.KindInvalid, "--format %q: use one of %s", s, strings.Join(names, ", "))
}

// diagram is what DOT and Mermaid draw: both graphs become one.
type diagram struct {
	title string
	nodes []dnode
	edges []dedge
	notes []string // shown under the graph
}

type dnode struct {
	id    string
	lines []string
	// red: a conflict; double: part of a cycle; gray: missing or truncated.
	red, double, gray bool
	// A Picture's own style: outline colour, fill, outline width, dashed.
	color, fill string
	width       int
	dashed      bool
}

type dedge struct {
	from, to string
	label    string
	dashed   bool
	dotted   bool
	width    int // 1..3
	color    string
}

func buildID(id int) string { return fmt.Sprintf("b%d", id) }

// age says how old something is in the largest whole unit.
func age(minutes int) string {
	switch {
	case minutes >= 2*24*60:
		return fmt.Sprintf("%dd", minutes/(24*60))
	case minutes >= 60:
		return fmt.Sprintf("%dh", minutes/60)
	default:
		return fmt.Sprintf("%dm", minutes)
	}
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// display drops the scheme of a repository URL.
func display(repo string) string {
	for _, p := range []string{"https://", "http://"} {
		if s, ok := strings.CutPrefix(repo, p); ok {
			return s
		}
	}
	return repo
}

func (g *BuildGraph) diagram() diagram {
	d := diagram{title: fmt.Sprintf("dependencies of build %d", g.Root)}
	for _, n := range g.Nodes {
		dn := dnode{id: buildID(n.ID)}
		if n.Missing {
			dn.lines = []string{fmt.Sprintf("BAR %d", n.ID), "missing from the registry"}
			dn.gray = true
			d.nodes = append(d.nodes, dn)
			continue
		}
		dn.lines = []string{display(n.Repository), fmt.Sprintf("%s · BAR %d · %s old", shortSHA(n.Commit), n.ID, age(n.AgeMinutes))}
		if n.Conflict {
			dn.red = true
			dn.lines = append(dn.lines, "conflict: another commit in this graph")
		}
		for _, nw := range n.Newer {
			dn.lines = append(dn.lines, fmt.Sprintf("newer in %s: BAR %d", nw.Channel, nw.BuildID))
		}
		if n.Truncated {
			dn.gray = true
			dn.lines = append(dn.lines, "dependencies beyond --depth")
		}
		d.nodes = append(d.nodes, dn)
	}
	for _, e := range g.Edges {
		de := dedge{from: buildID(e.From), to: buildID(e.To), label: e.Kind(), width: 1}
		if e.Product {
			de.width = 2
		} else {
			de.dashed = true
		}
		d.edges = append(d.edges, de)
	}
	for _, c := range g.Conflicts {
		d.notes = append(d.notes, fmt.Sprintf("conflict: %s at %d commits (builds %s)", display(c.Repository), len(c.Commits), joinInts(c.Builds)))
	}
	return d
}

func joinInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

// frequencyWidth: the more often a subscription flows, the thicker its edge.
func frequencyWidth(f maestro.UpdateFrequency) int {
	switch f {
	case maestro.FrequencyEveryBuild:
		return 3
	case maestro.FrequencyTwiceDaily, maestro.FrequencyEveryDay:
		return 2
	default:
		return 1
	}
}

func repoID(i int) string { return fmt.Sprintf("r%d", i) }

func (g *FlowGraph) diagram() diagram {
	d := diagram{title: "flow"}
	if g.Channel != "" {
		d.title = "flow in " + g.Channel
	}
	ids := map[string]string{}
	for i, r := range g.Repositories {
		ids[strings.ToLower(r.Repository)] = repoID(i)
		dn := dnode{id: repoID(i), lines: []string{display(r.Repository)}, double: r.InCycle}
		d.nodes = append(d.nodes, dn)
	}
	for _, f := range g.Flows {
		label := []string{string(f.Frequency), f.Channel + " → " + f.TargetBranch}
		de := dedge{from: ids[strings.ToLower(f.Source)], to: ids[strings.ToLower(f.Target)], width: frequencyWidth(f.Frequency),
			dotted: f.Frequency == maestro.FrequencyNone}
		if !f.Enabled {
			de.dashed, de.dotted = true, false
			label = append(label, "disabled")
		}
		if f.InCycle {
			de.color = "purple"
			label = append(label, "cycle")
		}
		if f.Failing {
			// A red dark enough for its label to read on white (6:1, WCAG AA).
			de.color = "#c00000"
			label = append(label, "last: "+string(f.LastResult))
		}
		de.label = strings.Join(label, "\n")
		d.edges = append(d.edges, de)
	}
	for _, c := range g.Cycles {
		names := make([]string, len(c))
		for i, r := range c {
			names[i] = display(r)
		}
		d.notes = append(d.notes, "cycle: "+strings.Join(names, ", "))
	}
	return d
}

// clean replaces control characters (line breaks included) with spaces, so
// that stored text cannot break out of a label.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// dotQuote quotes s as a DOT string whose lines are lines.
func dotQuote(lines ...string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, l := range lines {
		if i > 0 {
			b.WriteString(`\n`)
		}
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(clean(l)))
	}
	b.WriteByte('"')
	return b.String()
}

// style is the DOT attributes of a Picture node's own style.
func (n dnode) style() []string {
	var attrs, style []string
	if n.color != "" {
		attrs = append(attrs, "color="+dotQuote(n.color))
	}
	if n.width > 1 {
		attrs = append(attrs, fmt.Sprintf("penwidth=%d", n.width))
	}
	if n.fill != "" || n.dashed {
		style = append(style, "rounded")
		if n.fill != "" {
			style = append(style, "filled")
			attrs = append(attrs, "fillcolor="+dotQuote(n.fill))
		}
		if n.dashed {
			style = append(style, "dashed")
		}
		attrs = append(attrs, "style="+dotQuote(strings.Join(style, ",")))
	}
	return attrs
}

func writeDOT(w io.Writer, d diagram) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(d.title))
	b.WriteString("  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	if len(d.notes) > 0 {
		fmt.Fprintf(&b, "  labelloc=b;\n  fontname=\"Helvetica\";\n  fontsize=10;\n  label=%s;\n", dotQuote(d.notes...))
	}
	for _, n := range d.nodes {
		attrs := []string{"label=" + dotQuote(n.lines...)}
		switch {
		case n.red:
			attrs = append(attrs, `color="red"`, `penwidth=2`, `style="rounded,filled"`, `fillcolor="#fde2e2"`)
		case n.gray:
			attrs = append(attrs, `color="gray50"`, `style="rounded,dashed"`)
		}
		attrs = append(attrs, n.style()...)
		if n.double && n.color == "" {
			attrs = append(attrs, `peripheries=2`, `color="purple"`)
		} else if n.double {
			attrs = append(attrs, `peripheries=2`)
		}
		fmt.Fprintf(&b, "  %s [%s];\n", n.id, strings.Join(attrs, ", "))
	}
	for _, e := range d.edges {
		var attrs []string
		if e.label != "" {
			attrs = append(attrs, "label="+dotQuote(strings.Split(e.label, "\n")...))
		}
		attrs = append(attrs, fmt.Sprintf("penwidth=%d", e.width))
		switch {
		case e.dashed:
			attrs = append(attrs, `style="dashed"`)
		case e.dotted:
			attrs = append(attrs, `style="dotted"`)
		}
		if e.color != "" {
			attrs = append(attrs, fmt.Sprintf("color=%q, fontcolor=%q", e.color, e.color))
		}
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", e.from, e.to, strings.Join(attrs, ", "))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidQuote quotes s for a Mermaid label: quotes and angle brackets as
// entity codes, lines joined with <br/>.
func mermaidQuote(lines ...string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "|", "#124;")
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = r.Replace(clean(l))
	}
	return `"` + strings.Join(q, "<br/>") + `"`
}

func writeMermaid(w io.Writer, d diagram) error {
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: %s\n---\nflowchart LR\n", mermaidQuote(d.title))
	var red, double, gray []string
	for _, n := range d.nodes {
		fmt.Fprintf(&b, "  %s[%s]\n", n.id, mermaidQuote(n.lines...))
		switch {
		case n.red:
			red = append(red, n.id)
		case n.gray:
			gray = append(gray, n.id)
		}
		if n.double {
			double = append(double, n.id)
		}
	}
	for _, e := range d.edges {
		arrow := "-->"
		switch {
		case e.dashed, e.dotted:
			arrow = "-.->"
		case e.width >= 3:
			arrow = "==>"
		}
		fmt.Fprintf(&b, "  %s %s|%s| %s\n", e.from, arrow, mermaidQuote(strings.Split(e.label, "\n")...), e.to)
	}
	for i, e := range d.edges {
		style := []string{fmt.Sprintf("stroke-width:%dpx", e.width)}
		if e.color != "" {
			style = append(style, "stroke:"+e.color, "color:"+e.color)
		}
		if e.dotted && !e.dashed {
			style = append(style, "stroke-dasharray:2 4")
		}
		fmt.Fprintf(&b, "  linkStyle %d %s\n", i, strings.Join(style, ","))
	}
	for _, c := range []struct {
		name, style string
		ids         []string
	}{
		{"conflict", "fill:#fde2e2,stroke:red,stroke-width:2px", red},
		{"cycle", "stroke:purple,stroke-width:3px", double},
		{"muted", "stroke:gray,stroke-dasharray:4 4", gray},
	} {
		if len(c.ids) > 0 {
			fmt.Fprintf(&b, "  classDef %s %s\n  class %s %s\n", c.name, c.style, strings.Join(c.ids, ","), c.name)
		}
	}
	for _, n := range d.notes {
		fmt.Fprintf(&b, "  %%%% %s\n", clean(n))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// row writes one table row with control characters made visible as spaces.
func row(w io.Writer, cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = clean(fmt.Sprint(c))
	}
	fmt.Fprintln(w, strings.Join(parts, "\t"))
}

func (g *BuildGraph) table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row(tw, "BUILD", "LEVEL", "REPOSITORY", "COMMIT", "AGE", "USED BY", "NEWER", "NOTE")
	for _, n := range g.Nodes {
		var usedBy []string
		for _, e := range g.Edges {
			if e.To == n.ID {
				usedBy = append(usedBy, fmt.Sprintf("%d (%s)", e.From, e.Kind()))
			}
		}
		var newer []string
		for _, nw := range n.Newer {
			newer = append(newer, fmt.Sprintf("%d in %s", nw.BuildID, nw.Channel))
		}
		var note []string
		if n.Conflict {
			note = append(note, "CONFLICT")
		}
		if n.Truncated {
			note = append(note, "deeper dependencies not shown")
		}
		if n.Missing {
			row(tw, n.ID, n.Level, "(missing from the registry)", "-", "-", dash(strings.Join(usedBy, ", ")), "-", "")
			continue
		}
		age := age(n.AgeMinutes)
		if n.DateProduced.IsZero() {
			age = "-"
		}
		row(tw, n.ID, n.Level, n.Repository, shortSHA(n.Commit), age, dash(strings.Join(usedBy, ", ")),
			dash(strings.Join(newer, ", ")), strings.Join(note, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range g.Conflicts {
		if _, err := fmt.Fprintf(w, "conflict: %s at %d commits (builds %s)\n", clean(c.Repository), len(c.Commits), joinInts(c.Builds)); err != nil {
			return err
		}
	}
	return nil
}

func (g *FlowGraph) table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row(tw, "SOURCE", "TARGET", "BRANCH", "CHANNEL", "FREQUENCY", "ENABLED", "LAST", "NOTE", "SUBSCRIPTION")
	for _, f := range g.Flows {
		var note []string
		if f.Failing {
			note = append(note, "FAILING")
		}
		if f.InCycle {
			note = append(note, "cycle")
		}
		row(tw, f.Source, f.Target, f.TargetBranch, f.Channel, f.Frequency, f.Enabled, dash(string(f.LastResult)), strings.Join(note, ", "), f.SubscriptionID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range g.Cycles {
		if _, err := fmt.Fprintf(w, "cycle: %s\n", clean(strings.Join(c, " ⇄ "))); err != nil {
			return err
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Render writes g in format f; SVG is the DOT text laid out by Graphviz.
func (g *BuildGraph) Render(w io.Writer, f Format) error { return render(w, f, g, g.table, g.diagram) }

// Render writes g in format f; SVG is the DOT text laid out by Graphviz.
func (g *FlowGraph) Render(w io.Writer, f Format) error { return render(w, f, g, g.table, g.diagram) }

func render(w io.Writer, f Format, v any, table func(io.Writer) error, d func() diagram) error {
	switch f {
	case Table:
		return table(w)
	case JSON:
		return writeJSON(w, v)
	case DOT:
		return writeDOT(w, d())
	case Mermaid:
		return writeMermaid(w, d())
	case SVG:
		return renderSVG(w, d())
	}
	_, err := ParseFormat(string(f))
	return err
}

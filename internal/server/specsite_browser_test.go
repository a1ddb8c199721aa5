package server_test

import (
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// drawnBox is a box or an arrow of a drawn graph as a person sees it:
// its text lines and the colours it is painted in (computed styles).
type drawnBox struct {
	Lines   []string `json:"lines"`
	Stroke  string   `json:"stroke"`
	Fill    string   `json:"fill"`
	Shapes  int      `json:"shapes"`   // outlines (2: a double outline)
	Dashed  bool     `json:"dashed"`   // a dashed outline or line
	TextFil string   `json:"textFill"` // the colour its text is painted in
}

type drawnPicture struct {
	Role  string     `json:"role"`
	Label string     `json:"label"`
	Nodes []drawnBox `json:"nodes"`
	Edges []drawnBox `json:"edges"`
}

// pictureFacts reads every visible box and arrow of the page's drawn graph.
func pictureFacts(p page) drawnPicture {
	return eval[drawnPicture](p, `(() => {
  const svg = document.querySelector("#graph-svg svg");
  if (!svg) return {nodes: [], edges: []};
  const shown = g => { const r = g.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(g).visibility !== "hidden"; };
  const box = g => {
    const shapes = Array.from(g.querySelectorAll(":scope > path, :scope > polygon, :scope > ellipse"));
    const first = getComputedStyle(shapes[0]);
    const text = g.querySelector("text");
    return {
      lines: Array.from(g.querySelectorAll("text"), t => t.textContent),
      stroke: first.stroke, fill: first.fill,
      shapes: shapes.filter(s => s.tagName !== "polygon" || g.classList.contains("node")).length,
      dashed: first.strokeDasharray !== "none" && first.strokeDasharray !== "",
      textFill: text ? getComputedStyle(text).fill : "",
    };
  };
  return {
    role: svg.getAttribute("role"), label: svg.getAttribute("aria-label"),
    nodes: Array.from(svg.querySelectorAll("g.node")).filter(shown).map(box),
    edges: Array.from(svg.querySelectorAll("g.edge")).filter(shown).map(box),
  };
})()`)
}

// TestSpeculativePagesInBrowser loads the /speculative pages in headless
// Chromium: the trees of speculative pull requests the flow service built
// (seedSpecTrees) and a speculative product build really run on the local
// platform (runProductBuild). It reads what a person sees — the roots, each
// tree drawn with its boxes coloured by state and its arrows by gate, the
// product build drawn coloured by result with the critical path marked,
// the tables beside them — follows the links, checks a narrow screen, runs
// the accessibility check on each page and keeps screenshots.
func TestSpeculativePagesInBrowser(t *testing.T) {
	reg := newRegistry(t)
	s := seedSpecTrees(t, reg, "")
	pb := runProductBuild(t, reg)
	ts := httptest.NewServer(siteHandler(t, reg, ""))
	defer ts.Close()
	p := page{t: t, ctx: newChromium(t, 3*time.Minute), base: ts.URL, dir: artifacts(t)}
	p.open("/signin")
	p.do(chromedp.SendKeys(chromedp.CSS("#token"), readToken))
	p.follow(chromedp.Click(chromedp.CSS("main button[type=submit]")))

	// Chromium's computed colours of the site's picture.
	const (
		blue, purple, green, red = "rgb(31, 95, 191)", "rgb(111, 66, 193)", "rgb(26, 127, 55)", "rgb(192, 0, 0)"
		amber, grey              = "rgb(138, 90, 0)", "rgb(89, 89, 89)"
	)

	t.Run("roots", func(t *testing.T) {
		p.t = t
		p.open("/speculative/pull-requests")
		assert.Equal(t, "Speculative pull requests", p.text("h1"))
		assert.Equal(t, "Speculative pull requests", p.text(`nav a[aria-current="page"]`))
		rows := p.texts("tbody tr")
		require.Len(t, rows, 3, "three roots")
		cells := p.texts("tbody tr td:nth-child(2)")
		assert.Equal(t, []string{"merged", "closed", "closed"}, cells, "each root's state on its host")
		assert.Equal(t, []string{"2 open, 1 moved", "1 closed", "1 open"}, p.texts("tbody tr td:nth-child(4)"))
		checkAccessibility(t, p, "speculative pull requests")
		p.shot("speculative-pull-requests")
		// The form leads to the tree below a pull request in the middle.
		p.do(chromedp.SendKeys(chromedp.CSS("#pullRequest"), s.a[1].URL))
		p.follow(chromedp.Click(chromedp.CSS("form.filters button")))
		assert.Len(t, p.texts("table.graph tbody tr"), 3, "a[1] and the two below it")
	})

	t.Run("tree", func(t *testing.T) {
		p.t = t
		p.open("/speculative/pull-requests")
		p.follow(chromedp.Click(chromedp.CSS("tbody tr:first-child a")))
		loc, err := chromedp.Run(p.ctx, chromedp.Location())
		require.NoError(t, err)
		u, err := url.Parse(loc)
		require.NoError(t, err)
		assert.Equal(t, s.rootA, u.Query().Get("pullRequest"), "the first root's link leads to its tree")
		states := p.texts("table.graph tbody tr td:nth-child(5)")
		gates := p.texts("table.graph tbody tr td:nth-child(7)")
		assert.Equal(t, []string{"moved", "open", "open"}, states)
		assert.Equal(t, []string{"passed", "waiting", "waiting"}, gates)
		pic := pictureFacts(p)
		assert.Equal(t, "img", pic.Role)
		assert.Equal(t, "Speculative pull requests below "+s.rootA+": 3 pull requests", pic.Label)
		require.Len(t, pic.Nodes, 4, "the root and the three below it, every box visible")
		stroke := map[string]string{}
		for _, n := range pic.Nodes {
			require.GreaterOrEqual(t, len(n.Lines), 2, "%+v", n)
			stroke[n.Lines[1]] = n.Stroke
			assert.Equal(t, "rgb(0, 0, 0)", n.TextFil, "black text on the light fill: %v", n.Lines)
		}
		assert.Equal(t, map[string]string{
			"#" + number(t, s.rootA) + " · merged": green,
			"#" + itoa(s.a[1].Number) + " · moved": purple,
			"#" + itoa(s.a[2].Number) + " · open":  blue,
			"#" + itoa(s.a[3].Number) + " · open":  blue,
		}, stroke, "each box coloured by its state")
		require.Len(t, pic.Edges, 3, "an arrow from each parent")
		edges := map[string]int{}
		for _, e := range pic.Edges {
			require.Len(t, e.Lines, 1, "%+v", e)
			switch e.Lines[0] {
			case "gate passed":
				assert.Equal(t, green, e.Stroke)
				assert.False(t, e.Dashed)
			case "gate waiting":
				assert.Equal(t, amber, e.Stroke)
				assert.True(t, e.Dashed)
			}
			assert.Equal(t, e.Stroke, e.TextFil, "the label in the arrow's colour")
			edges[e.Lines[0]]++
		}
		assert.Equal(t, map[string]int{"gate passed": 1, "gate waiting": 2}, edges, "each arrow coloured by its child's gate")
		checkAccessibility(t, p, "tree")
		p.shot("speculative-tree")

		// C's root closed after the last tick: the gate below it failed.
		p.open("/speculative/pull-requests?pullRequest=" + url.QueryEscape(s.rootC))
		assert.Equal(t, []string{"failed"}, p.texts("table.graph tbody tr td:nth-child(7)"))
		pic = pictureFacts(p)
		require.Len(t, pic.Nodes, 2)
		require.Len(t, pic.Edges, 1)
		assert.Equal(t, []string{"gate failed"}, pic.Edges[0].Lines)
		assert.Equal(t, red, pic.Edges[0].Stroke)
		for _, n := range pic.Nodes {
			want := blue
			if strings.HasSuffix(n.Lines[1], "closed") {
				want = red
			}
			assert.Equal(t, want, n.Stroke, "%v", n.Lines)
		}
		checkAccessibility(t, p, "tree C")
		p.shot("speculative-tree-gate-failed")
	})

	t.Run("product build", func(t *testing.T) {
		p.t = t
		p.open("/speculative/builds")
		assert.Equal(t, []string{pb.ID}, p.texts("tbody tr td:first-child"))
		checkAccessibility(t, p, "product builds")
		p.shot("product-builds")
		p.follow(chromedp.Click(chromedp.CSS("tbody a")))
		assert.Equal(t, "Speculative product build "+pb.ID, p.text("h1"))
		results := p.texts("table.graph tbody tr td:nth-child(3)")
		assert.Equal(t, []string{"succeeded", "failed", "partiallySucceeded", "skipped"}, results, "in build order")
		pic := pictureFacts(p)
		assert.Equal(t, "img", pic.Role)
		assert.Equal(t, "Speculative product build "+pb.ID+": 4 repositories, failed", pic.Label)
		require.Len(t, pic.Nodes, 4, "every repository drawn and visible")
		onPath := map[string]bool{}
		for _, r := range pb.CriticalPath {
			onPath[filepath.Base(r)] = true
		}
		require.Len(t, onPath, 2, "A and the slower of B and C")
		want := map[string]string{"A": green, "B": red, "C": amber, "D": grey}
		for _, n := range pic.Nodes {
			name := filepath.Base(strings.TrimSuffix(n.Lines[0], " (injected)"))
			assert.Equal(t, want[name], n.Stroke, "%s coloured by its result: %v", name, n.Lines)
			assert.Equal(t, name == "D", n.Dashed, "%s: only the skipped one dashed", name)
			critical := n.Lines[len(n.Lines)-1] == "critical path"
			assert.Equal(t, onPath[name], critical, "%s: critical path written in its box: %v", name, n.Lines)
			if onPath[name] {
				assert.Equal(t, 2, n.Shapes, "%s: a double outline", name)
			} else {
				assert.Equal(t, 1, n.Shapes, "%s: one outline", name)
			}
		}
		assert.Len(t, pic.Edges, 4, "A→B, A→C, B→D, C→D")
		assert.Contains(t, p.texts("table.graph tbody tr td:nth-child(2)")[0], "(injected) critical path", "the table marks it too")
		checkAccessibility(t, p, "product build")
		p.shot("product-build")
	})

	t.Run("narrow", func(t *testing.T) {
		p.t = t
		p.do(chromedp.EmulateViewport(375, 800))
		defer p.do(chromedp.EmulateViewport(1280, 900))
		for _, path := range []string{"/speculative/pull-requests", "/speculative/pull-requests?pullRequest=" + url.QueryEscape(s.rootA),
			"/speculative/builds", "/speculative/builds/" + pb.ID} {
			p.open(path)
			width := eval[int](p, `document.documentElement.scrollWidth`)
			wide := eval[[]string](p, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 375 && !e.closest(".scroll")).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`)
			assert.LessOrEqual(t, width, 375, "%s: no sideways scrolling of the page on a narrow screen; too wide: %v", path, wide)
		}
		p.shot("narrow-speculative-tree")
	})
}

// number is the number of a pull request URL, as text.
func number(t *testing.T, u string) string {
	t.Helper()
	i := strings.LastIndexAny(u, "/")
	require.Positive(t, i, u)
	return u[i+1:]
}

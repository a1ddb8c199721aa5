package server_test

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/server"
)

// chromiumPath is the headless browser of the browser tests: Debian's
// chromium, which test/run.sh installs when it is missing. Without it the
// tests skip, except under CI=true, where a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is not installed; CI needs it for the browser tests: apt-get install chromium (test/run.sh does): %v", err)
		}
		t.Skipf("chromium is not installed (apt-get install chromium, or run test/run.sh): %v", err)
	}
	return path
}

// artifacts is where a test keeps its screenshots: $MAESTRO_TEST_ARTIFACTS
// when set (kept), else the test's artifact directory (kept with go test
// -artifacts). The path is logged.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := t.ArtifactDir()
	if root := os.Getenv("MAESTRO_TEST_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, t.Name())
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// newChromium starts headless Chromium with a fresh profile and flags that
// keep it off the network (no background networking, component updates,
// sync or QUIC: the closed network refuses them) and returns a browser
// context bounded by timeout.
func newChromium(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancelTimeout() })
	require.NoError(t, chromedp.Do(bctx), "start chromium")
	return bctx
}

// page is one browser tab of a test.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
}

func (p page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	require.NoError(p.t, chromedp.Do(p.ctx, steps...))
}

func (p page) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.base+path), chromedp.WaitReady(chromedp.CSS("footer")))
}

// follow runs steps that lead to another page (a click on a link or a
// form's button) and waits for that page.
func (p page) follow(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	_, err := chromedp.RunResponse(p.ctx, steps...)
	require.NoError(p.t, err)
	p.do(chromedp.WaitReady(chromedp.CSS("footer")))
}

func (p page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(p.t, err, "text of %s", sel)
	return s
}

func eval[T any](p page, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	require.NoError(p.t, err, "evaluate %s", js)
	return v
}

// texts is the text of every element that matches sel.
func (p page) texts(sel string) []string {
	p.t.Helper()
	return eval[[]string](p, fmt.Sprintf(`Array.from(document.querySelectorAll(%q), e => e.innerText.trim())`, sel))
}

// shot keeps a screenshot of the whole page as name.png.
func (p page) shot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	require.NoError(p.t, err)
	require.NoError(p.t, os.WriteFile(filepath.Join(p.dir, name+".png"), png, 0o644))
}

// TestSiteInBrowser loads every page of the status site in headless
// Chromium against a seeded registry, reads what a person sees, uses the
// filters, signs in, clicks the trigger button with a write token, checks
// a narrow screen, and runs the accessibility check on each page.
func TestSiteInBrowser(t *testing.T) {
	reg := newRegistry(t)
	s := seedSite(t, reg)
	ts := httptest.NewServer(siteHandler(t, reg, ""))
	defer ts.Close()
	p := page{t: t, ctx: newChromium(t, 3*time.Minute), base: ts.URL, dir: artifacts(t)}

	// Not signed in: the sign-in form, then back to the page asked for.
	p.open("/subscriptions")
	assert.Equal(t, "Sign in", p.text("h1"))
	checkAccessibility(t, p, "signin")
	p.shot("signin")
	p.do(chromedp.SendKeys(chromedp.CSS("#token"), readToken))
	p.follow(chromedp.Click(chromedp.CSS("main button[type=submit]")))
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, ts.URL+"/subscriptions", loc)

	t.Run("home", func(t *testing.T) {
		p.t = t
		p.open("/")
		banner := p.text(".banner")
		assert.Contains(t, banner, "1 failing subscription")
		assert.Contains(t, banner, "arcade → ")
		assert.Contains(t, banner, "failure with build "+strconv.Itoa(s.arcade2.ID))
		builds := p.texts("#recent ~ .scroll tbody tr td:first-child")
		assert.Contains(t, builds, strconv.Itoa(s.runtime.ID))
		prs := p.text("#prs ~ .scroll tbody")
		assert.Contains(t, prs, "#1")
		assert.Contains(t, p.text("header .who"), "Signed in: $"+server.EnvAPIReadToken)
		checkAccessibility(t, p, "home")
		p.shot("home")
	})

	t.Run("subscriptions", func(t *testing.T) {
		p.t = t
		p.open("/subscriptions")
		rows := p.texts("tbody tr")
		require.Len(t, rows, 2)
		// Filter by target: the form, as a person fills it.
		p.do(chromedp.SendKeys(chromedp.CSS("#targetRepository"), s.target))
		p.follow(chromedp.Click(chromedp.CSS("form.filters button")))
		rows = p.texts("tbody tr")
		require.Len(t, rows, 1, "filtered by target")
		cells := p.texts("tbody tr td")
		assert.Equal(t, "updated (build "+strconv.Itoa(s.arcade2.ID)+")", cells[3], "the last outcome")
		assert.Equal(t, "#1", cells[5], "the open pull request")
		// By state: only the failing one.
		p.open("/subscriptions?state=failing")
		cells = p.texts("tbody tr td")
		require.NotEmpty(t, cells)
		assert.Equal(t, "failure (build "+strconv.Itoa(s.arcade2.ID)+")", cells[3])
		assert.Equal(t, "failing", eval[string](p, `document.querySelector("#state").value`), "the form shows the filter")
		// The script runs under the site's CSP: it shows the refresh box.
		assert.True(t, eval[bool](p, `!document.querySelector("footer .auto").hidden`), "site.js ran")
		checkAccessibility(t, p, "subscriptions")
		p.shot("subscriptions-failing")
		p.open("/subscriptions/" + s.failing.ID)
		assert.Contains(t, p.text("dl.facts"), "failure (build "+strconv.Itoa(s.arcade2.ID)+")")
		assert.Contains(t, p.text("#history ~ .scroll"), "not found")
		assert.Contains(t, p.text("#trigger ~ p"), "write scope", "a read token has no trigger button")
		checkAccessibility(t, p, "subscription")
		p.shot("subscription")
	})

	t.Run("build", func(t *testing.T) {
		p.t = t
		p.open("/channels")
		p.follow(chromedp.Click(chromedp.CSS("tbody a")))
		assert.Equal(t, "Builds in .NET 10", p.text("h1"))
		assert.Len(t, p.texts("tbody tr"), 3)
		p.do(chromedp.SendKeys(chromedp.CSS("#repository"), "https://github.com/dotnet/runtime"))
		p.follow(chromedp.Click(chromedp.CSS("form.filters button")))
		require.Equal(t, []string{strconv.Itoa(s.runtime.ID)}, p.texts("tbody tr td:first-child"), "filtered by repository")
		p.follow(chromedp.Click(chromedp.CSS("tbody a")))
		assert.Equal(t, "Build "+strconv.Itoa(s.runtime.ID)+" of dotnet/runtime", p.text("h1"))
		// The graph's nodes: the build and both arcade builds, the
		// arcade ones a conflict; the older one has a newer build.
		nodes := p.texts("table.graph tbody tr td:nth-child(2)")
		assert.ElementsMatch(t, []string{strconv.Itoa(s.runtime.ID), strconv.Itoa(s.arcade1.ID), strconv.Itoa(s.arcade2.ID)}, nodes)
		assert.Len(t, p.texts("table.graph tr.conflict"), 2)
		assert.Contains(t, p.text(".banner"), "dotnet/arcade at 2 commits")
		newer := p.texts("table.graph tbody tr td:last-child")
		assert.Contains(t, newer, "build "+strconv.Itoa(s.arcade2.ID)+" in .NET 10", "arcade 1 has a newer build")
		assert.Contains(t, p.text("dl.facts"), "build 20261205.1 (4242)")
		// The same graph drawn: every node visible, labelled with its
		// repository, the conflicts red; as many edges as the table's.
		svg := svgFacts(p)
		assert.Equal(t, "img", svg.Role)
		assert.Equal(t, "Dependency graph of build "+strconv.Itoa(s.runtime.ID)+": 3 builds, 2 dependencies", svg.Label)
		assert.ElementsMatch(t, []string{"github.com/dotnet/runtime", "github.com/dotnet/arcade", "github.com/dotnet/arcade"}, svg.Nodes)
		assert.Equal(t, 2, svg.Red, "the two arcade builds")
		assert.Len(t, p.texts("table.graph td:nth-child(6) li"), svg.Edges)
		checkAccessibility(t, p, "build")
		p.shot("build")
	})

	t.Run("flow", func(t *testing.T) {
		p.t = t
		p.open("/flow")
		repos := p.texts("ul.tree > li > .node")
		assert.Contains(t, repos, "dotnet/arcade")
		assert.Len(t, repos, 3, "arcade and the two targets")
		failing := p.texts("ul.tree li.failing")
		require.Len(t, failing, 1)
		assert.Contains(t, failing[0], "failure")
		svg := svgFacts(p)
		assert.Equal(t, "img", svg.Role)
		assert.Equal(t, "Flow graph: 3 repositories, 2 subscriptions", svg.Label)
		require.Len(t, svg.Nodes, len(repos), "every repository drawn and visible")
		for _, r := range repos {
			assert.True(t, slices.ContainsFunc(svg.Nodes, func(n string) bool { return strings.HasSuffix(n, r) }), "%s is drawn: %v", r, svg.Nodes)
		}
		assert.Len(t, p.texts("ul.tree li li"), svg.Edges, "every subscription drawn")
		assert.Equal(t, 1, svg.Red, "the failing subscription red")
		checkAccessibility(t, p, "flow")
		p.shot("flow")
		p.open("/flow/health")
		assert.Equal(t, "Flow health", p.text("h1"))
		checkAccessibility(t, p, "health")
		p.shot("health")
	})

	t.Run("narrow", func(t *testing.T) {
		p.t = t
		p.do(chromedp.EmulateViewport(375, 800))
		defer p.do(chromedp.EmulateViewport(1280, 900))
		for _, path := range []string{"/", "/builds/" + strconv.Itoa(s.runtime.ID), "/subscriptions"} {
			p.open(path)
			width := eval[int](p, `document.documentElement.scrollWidth`)
			wide := eval[[]string](p, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 375 && !e.closest(".scroll")).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`)
			assert.LessOrEqual(t, width, 375, "%s: no sideways scrolling of the page on a narrow screen; too wide: %v", path, wide)
		}
		p.shot("narrow-subscriptions")
	})

	t.Run("trigger", func(t *testing.T) {
		p.t = t
		arcade3 := publish(t, reg, "5555555555555555555555555555555555555555", "4.0.0", s.channel.ID)
		p.open("/")
		p.follow(chromedp.Click(chromedp.CSS("header .who button")))
		assert.Equal(t, "Sign in", p.text("h1"), "signed out")
		p.open("/signin?next=" + url.QueryEscape("/subscriptions/"+s.healthy.ID))
		p.do(chromedp.SendKeys(chromedp.CSS("#token"), writeToken))
		p.follow(chromedp.Click(chromedp.CSS("main button[type=submit]")))
		assert.Contains(t, p.text("header .who"), "(write)")
		p.follow(chromedp.Click(chromedp.CSS("#trigger ~ form button")))
		assert.True(t, strings.HasPrefix(p.text(".notice"), "Triggered with build "+strconv.Itoa(arcade3.ID)+": updated."), p.text(".notice"))
		history := p.texts("#history ~ .scroll tbody tr td:nth-child(2)")
		assert.Equal(t, []string{strconv.Itoa(arcade3.ID), strconv.Itoa(s.arcade2.ID)}, history, "newest first")
		checkAccessibility(t, p, "triggered")
		p.shot("triggered")
	})
}

// drawnGraph is what a person sees of the graph drawn on a page.
type drawnGraph struct {
	Role  string   `json:"role"`
	Label string   `json:"label"`
	Nodes []string `json:"nodes"` // the first line of each visible node's label
	Edges int      `json:"edges"` // visible edges
	Red   int      `json:"red"`   // nodes and edges drawn in red
}

func svgFacts(p page) drawnGraph {
	return eval[drawnGraph](p, `(() => {
  const svg = document.querySelector("#graph-svg svg");
  if (!svg) return {};
  const shown = g => { const r = g.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(g).visibility !== "hidden"; };
  const red = g => ["rgb(255, 0, 0)", "rgb(192, 0, 0)"].includes(getComputedStyle(g.querySelector("path,polygon")).stroke);
  const nodes = Array.from(svg.querySelectorAll("g.node")).filter(shown);
  const edges = Array.from(svg.querySelectorAll("g.edge")).filter(shown);
  return {
    role: svg.getAttribute("role"), label: svg.getAttribute("aria-label"),
    nodes: nodes.map(g => g.querySelector("text").textContent),
    edges: edges.length,
    red: nodes.concat(edges).filter(red).length,
  };
})()`)
}

// domFacts is what the accessibility check reads from a page.
type domFacts struct {
	Lang     string `json:"lang"`
	Headings []struct {
		Level int    `json:"level"`
		Text  string `json:"text"`
	} `json:"headings"`
	Fields []struct {
		Tag   string `json:"tag"`
		ID    string `json:"id"`
		Label string `json:"label"`
	} `json:"fields"`
	Images []struct {
		Src string  `json:"src"`
		Alt *string `json:"alt"`
	} `json:"images"`
	Texts []struct {
		Tag   string `json:"tag"`
		Text  string `json:"text"`
		Color string `json:"color"`
		Back  string `json:"back"`
	} `json:"texts"`
}

// readDOM gathers the facts: the JavaScript only reads the DOM and the
// computed colours (the first opaque background up the tree); the rules
// are checked in Go.
const readDOM = `(() => {
  const visible = e => e.getClientRects().length > 0;
  const back = e => {
    for (; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c && c !== "transparent" && !/rgba\(.*, 0\)$/.test(c)) return c;
    }
    return "rgb(255, 255, 255)";
  };
  const labelOf = f => {
    if (f.labels && f.labels.length) return Array.from(f.labels, l => l.innerText.trim()).join(" ");
    return f.getAttribute("aria-label") || "";
  };
  const texts = [];
  for (const e of document.body.querySelectorAll("*")) {
    if (!visible(e)) continue;
    const own = Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join("");
    if (!own) continue;
    // SVG text is painted with its fill, not its color.
    const color = e instanceof SVGElement ? getComputedStyle(e).fill : getComputedStyle(e).color;
    const cls = e instanceof SVGElement ? e.getAttribute("class") : e.className;
    texts.push({tag: e.tagName.toLowerCase() + (cls ? "." + cls : ""), text: own.slice(0, 40), color: color, back: back(e)});
  }
  return {
    lang: document.documentElement.lang,
    headings: Array.from(document.querySelectorAll("h1,h2,h3,h4,h5,h6"), h => ({level: +h.tagName[1], text: h.innerText.trim()})),
    fields: Array.from(document.querySelectorAll("input:not([type=hidden]),select,textarea"), f => ({tag: f.tagName.toLowerCase(), id: f.id, label: labelOf(f)})),
    images: Array.from(document.images, i => ({src: i.getAttribute("src"), alt: i.getAttribute("alt")})),
    texts: texts,
  };
})()`

// checkAccessibility checks the obvious rules on the page p shows: a
// language, one h1 first and no heading level skipped going down, a label
// on every form field, alt text on every image, and a contrast of at least
// 4.5:1 for every visible text against its background (WCAG AA).
func checkAccessibility(t *testing.T, p page, name string) {
	t.Helper()
	f := eval[domFacts](p, readDOM)
	assert.NotEmpty(t, f.Lang, "%s: <html lang>", name)
	require.NotEmpty(t, f.Headings, "%s: headings", name)
	assert.Equal(t, 1, f.Headings[0].Level, "%s: the first heading is h1", name)
	h1s := 0
	for i, h := range f.Headings {
		if h.Level == 1 {
			h1s++
		}
		if i > 0 {
			assert.LessOrEqual(t, h.Level, f.Headings[i-1].Level+1, "%s: heading %q (h%d) skips a level after h%d", name, h.Text, h.Level, f.Headings[i-1].Level)
		}
		assert.NotEmpty(t, h.Text, "%s: an empty heading", name)
	}
	assert.Equal(t, 1, h1s, "%s: one h1", name)
	for _, fd := range f.Fields {
		assert.NotEmpty(t, fd.Label, "%s: %s#%s has no label", name, fd.Tag, fd.ID)
	}
	for _, img := range f.Images {
		if assert.NotNil(t, img.Alt, "%s: image %s has no alt attribute", name, img.Src) {
			assert.NotEmpty(t, strings.TrimSpace(*img.Alt), "%s: image %s has an empty alt (it is not decorative)", name, img.Src)
		}
	}
	require.NotEmpty(t, f.Texts, "%s: visible text", name)
	for _, tx := range f.Texts {
		fg, bg := parseRGB(t, tx.Color), parseRGB(t, tx.Back)
		ratio := contrast(fg, bg)
		assert.GreaterOrEqual(t, ratio, 4.5, "%s: %s %q: %s on %s is %.2f:1", name, tx.Tag, tx.Text, tx.Color, tx.Back, ratio)
	}
}

var rgbPattern = regexp.MustCompile(`^rgba?\((\d+), (\d+), (\d+)(, [\d.]+)?\)$`)

func parseRGB(t *testing.T, s string) [3]float64 {
	t.Helper()
	m := rgbPattern.FindStringSubmatch(s)
	require.NotNil(t, m, "colour %q", s)
	var c [3]float64
	for i := range 3 {
		n, _ := strconv.Atoi(m[i+1])
		c[i] = float64(n)
	}
	return c
}

// contrast is WCAG 2's contrast ratio of two sRGB colours.
func contrast(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 {
		var l [3]float64
		for i, v := range c {
			v /= 255
			if v <= 0.03928 {
				l[i] = v / 12.92
			} else {
				l[i] = math.Pow((v+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(a), lum(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func TestContrast(t *testing.T) {
	assert.InDelta(t, 21.0, contrast([3]float64{0, 0, 0}, [3]float64{255, 255, 255}), 0.01)
	assert.InDelta(t, 1.0, contrast([3]float64{119, 119, 119}, [3]float64{119, 119, 119}), 0.01)
	assert.InDelta(t, 4.48, contrast([3]float64{119, 119, 119}, [3]float64{255, 255, 255}), 0.01, "#777 on white fails AA")
}

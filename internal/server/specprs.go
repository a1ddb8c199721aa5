package server

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/maestroplusplus/maestro/internal/graph"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/repourl"
	"github.com/maestroplusplus/maestro/internal/service"
)

// The trees of speculative pull requests (docs/speculative.md, Status):
// the API's GET /api/speculative/pull-requests answers what `maestro
// speculative status --output json` prints, and the site's
// /speculative/pull-requests lists the trees' roots, or, with
// ?pullRequest=URL, draws one tree coloured by state beside its table.

// apiSpeculativePullRequests: GET /api/speculative/pull-requests
// [?pullRequest=URL] (maestro speculative status [--pull-request URL] -o
// json): the speculative pull requests below the pull request (or that are
// it), every one without it, root first and down each chain.
func (s *Server) apiSpeculativePullRequests(r *http.Request) (int, any, error) {
	q, err := query(r, "pullRequest")
	if err != nil {
		return 0, nil, err
	}
	pr := strings.TrimSpace(q["pullRequest"])
	if _, ok := q["pullRequest"]; ok {
		if _, _, err := repourl.PullRequest(pr); err != nil {
			return 0, nil, invalidf("pullRequest: %v", err)
		}
	}
	nodes, err := s.svc.SpeculativeTree(r.Context(), pr)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nodes, nil
}

// specRoot is one tree of the list: its root pull request, as the
// ancestors' hosts tell its state, and what is below it.
type specRoot struct {
	URL        string
	Repository string
	Number     int
	// State is the root's state on its host ("" when it could not be read).
	State maestro.PullRequestState
	// Count is the number of speculative pull requests below it; States
	// how many are in each state, in the order open, moved, merged, closed.
	Count  int
	States []specCount
	// Waiting is how many open ones the gate holds.
	Waiting int
}

type specCount struct {
	State string
	N     int
}

// specTreeData is the tree page's: the pull request asked for, the nodes
// of its tree (a table row each) and the tree drawn.
type specTreeData struct {
	PullRequest string
	Nodes       []service.SpeculativeNode
	// Above are the pull requests drawn above the nodes that are not
	// nodes themselves: the root, and the ancestors of a pull request
	// asked for in the middle of a chain.
	Above []policyAncestor
	SVG   template.HTML
	JSON  string
}

// policyAncestor is a pull request above the tree with its host state.
type policyAncestor struct {
	URL   string
	State maestro.PullRequestState
}

type specListData struct {
	Roots []specRoot
}

// speculativePullRequestsPage: GET /speculative/pull-requests lists the
// roots of the trees; with ?pullRequest=URL it shows that tree, drawn and
// as a table; both are pages of GET /api/speculative/pull-requests.
func (s *Server) speculativePullRequestsPage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	q, err := query(r, "pullRequest")
	if err != nil {
		return "", pageData{}, err
	}
	pr, asked := q["pullRequest"]
	api := url.Values{}
	if asked {
		api.Set("pullRequest", pr)
	}
	nodes, err := callAPI[[]service.SpeculativeNode](s.apiSpeculativePullRequests, r, api, nil)
	if err != nil {
		return "", pageData{}, err
	}
	if !asked {
		return "specprs", pageData{Title: "Speculative pull requests", Nav: "specprs", Data: specListData{Roots: specRoots(nodes)}}, nil
	}
	pr = strings.TrimSpace(pr)
	d := specTreeData{PullRequest: pr, Nodes: nodes, JSON: pageURL("/api/speculative/pull-requests", api)}
	pic, above := specTreePicture(pr, nodes)
	d.Above = above
	if len(nodes) > 0 {
		d.SVG = s.pageSVG(func(w io.Writer, _ graph.Format) error { return pic.DOT(w) }, len(pic.Nodes)+len(pic.Edges),
			fmt.Sprintf("Speculative pull requests below %s: %d pull requests", pr, len(nodes)))
	}
	return "spectree", pageData{Title: "Speculative pull requests below " + prName(pr), Nav: "specprs", Data: d}, nil
}

// specRoots groups the nodes of every tree by their root, in the order of
// the nodes (root first, as SpeculativeTree sorts them).
func specRoots(nodes []service.SpeculativeNode) []specRoot {
	var roots []specRoot
	at := map[string]int{}
	counts := map[string]map[string]int{}
	for _, n := range nodes {
		if len(n.Chain) == 0 {
			continue
		}
		root := n.Chain[0]
		k := strings.ToLower(root)
		i, ok := at[k]
		if !ok {
			repo, num, _ := repourl.PullRequest(root)
			i = len(roots)
			at[k] = i
			roots = append(roots, specRoot{URL: root, Repository: repo, Number: num})
			counts[k] = map[string]int{}
		}
		for _, a := range n.Ancestors {
			if strings.EqualFold(a.URL, root) {
				roots[i].State = a.State
			}
		}
		roots[i].Count++
		counts[k][n.State]++
		if n.Gate == "waiting" {
			roots[i].Waiting++
		}
	}
	for i := range roots {
		for _, st := range []string{maestro.SpeculativeOpen, maestro.SpeculativeMoved, maestro.SpeculativeMerged, maestro.SpeculativeClosed} {
			if n := counts[strings.ToLower(roots[i].URL)][st]; n > 0 {
				roots[i].States = append(roots[i].States, specCount{State: st, N: n})
			}
		}
	}
	return roots
}

// The colours of the tree's picture: a pull request's box by its state,
// the arrow into it by its gate. Outlines and labels are dark enough to
// read on white (at least 4.5:1); fills are light enough for black text.
var (
	specStateStyle = map[string][2]string{ // outline, fill
		maestro.SpeculativeOpen:   {"#1f5fbf", "#e3edfb"},
		maestro.SpeculativeMoved:  {"#6f42c1", "#efe6fb"},
		maestro.SpeculativeMerged: {"#1a7f37", "#dcf5e3"},
		maestro.SpeculativeClosed: {"#c00000", "#fde2e2"},
	}
	specGateColor = map[string]string{"waiting": "#8a5a00", "passed": "#1a7f37", "failed": "#c00000"}
)

// specTreePicture draws the tree: a box per speculative pull request and
// per pull request above them (the root, and ancestors of one asked for
// mid-chain), an arrow from each parent, the box coloured by its state
// (the root's as its host tells), the arrow by the child's gate and
// labelled with it.
func specTreePicture(asked string, nodes []service.SpeculativeNode) (*graph.Picture, []policyAncestor) {
	p := &graph.Picture{Title: "speculative pull requests below " + asked}
	ids := map[string]string{} // lowercased URL (or key) → node ID
	var above []policyAncestor
	states := map[string]maestro.PullRequestState{}
	for _, n := range nodes {
		for _, a := range n.Ancestors {
			states[strings.ToLower(a.URL)] = a.State
		}
	}
	own := map[string]bool{}
	for _, n := range nodes {
		if n.PullRequestURL != "" {
			own[strings.ToLower(n.PullRequestURL)] = true
		}
	}
	id := func() string { return "p" + strconv.Itoa(len(ids)) }
	// The pull requests above, in chain order.
	for _, n := range nodes {
		for i, u := range n.Chain {
			k := strings.ToLower(u)
			if own[k] {
				continue
			}
			if _, ok := ids[k]; !ok {
				ids[k] = id()
				st := states[k]
				above = append(above, policyAncestor{URL: u, State: st})
				repo, num, _ := repourl.PullRequest(u)
				lines := []string{repoName(repo), fmt.Sprintf("#%d · %s", num, cmp.Or(string(st), "state unknown"))}
				if i == 0 {
					lines = append(lines, "root")
				}
				style := specStateStyle[string(st)]
				p.Nodes = append(p.Nodes, graph.PictureNode{ID: ids[k], Lines: lines, Color: style[0], Fill: style[1], Width: 2})
			}
			if i > 0 {
				from := ids[strings.ToLower(n.Chain[i-1])]
				if !hasEdge(p, from, ids[k]) {
					p.Edges = append(p.Edges, graph.PictureEdge{From: from, To: ids[k]})
				}
			}
		}
	}
	for _, n := range nodes {
		k := strings.ToLower(n.PullRequestURL)
		if n.PullRequestURL == "" {
			k = "key:" + n.SubscriptionID + "/" + n.Key
		}
		ids[k] = id()
		pr := "not opened yet"
		if n.Number != 0 {
			pr = fmt.Sprintf("#%d", n.Number)
		}
		lines := []string{repoName(n.TargetRepository), pr + " · " + n.State}
		switch {
		case n.MainlineBuildID != 0:
			lines = append(lines, fmt.Sprintf("mainline build %d", n.MainlineBuildID))
		case n.AppliedBuildID != 0:
			lines = append(lines, fmt.Sprintf("speculative build %d", n.AppliedBuildID))
		}
		style := specStateStyle[n.State]
		p.Nodes = append(p.Nodes, graph.PictureNode{ID: ids[k], Lines: lines, Color: style[0], Fill: style[1], Width: 2})
		e := graph.PictureEdge{From: ids[strings.ToLower(n.Parent)], To: ids[k]}
		switch {
		case n.GateError != "":
			e.Label, e.Dashed = "gate unknown", true
		case n.Gate != "":
			e.Label, e.Color, e.Width = "gate "+n.Gate, specGateColor[n.Gate], 2
			e.Dashed = n.Gate == "waiting"
		}
		if e.From != "" {
			p.Edges = append(p.Edges, e)
		}
	}
	return p, above
}

func hasEdge(p *graph.Picture, from, to string) bool {
	for _, e := range p.Edges {
		if e.From == from && e.To == to {
			return true
		}
	}
	return false
}

// prName is a pull request's repository (owner/name) and number.
func prName(u string) string {
	repo, num, err := repourl.PullRequest(u)
	if err != nil {
		return u
	}
	return fmt.Sprintf("%s#%d", repoName(repo), num)
}

// webURL is u when a browser may follow it (http or https), else "": a
// local pull request's file:// URL is shown, not linked.
func webURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return u
}

package server

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/maestroplusplus/maestro/internal/graph"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/speculative"
)

// apiProductBuilds: GET /api/speculative/builds (maestro speculative
// builds list --output json): the reports of the newest speculative product
// builds, newest first.
func (s *Server) apiProductBuilds(r *http.Request) (int, any, error) {
	q, err := query(r, "limit")
	if err != nil {
		return 0, nil, err
	}
	limit, err := intParam("limit", q["limit"], 1, 20)
	if err != nil {
		return 0, nil, err
	}
	if limit > 1000 {
		return 0, nil, invalidf("limit %d: at most 1000", limit)
	}
	pbs, err := s.reg.ProductBuilds(r.Context(), limit)
	if err != nil {
		return 0, nil, err
	}
	if pbs == nil {
		pbs = []maestro.ProductBuild{}
	}
	return http.StatusOK, pbs, nil
}

// apiProductBuild: GET /api/speculative/builds/{id} (maestro speculative
// builds show --id ID --output json): a product build's report, with its
// mainline times worked out from the registry as it is now.
func (s *Server) apiProductBuild(r *http.Request) (int, any, error) {
	if _, err := query(r); err != nil {
		return 0, nil, err
	}
	pb, err := s.reg.ProductBuild(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	if err := speculative.Mainline(r.Context(), s.reg, &pb); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pb, nil
}

// productBuildsPage lists the newest speculative product builds: GET
// /speculative/builds, the page of GET /api/speculative/builds.
func (s *Server) productBuildsPage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	if _, err := query(r); err != nil {
		return "", pageData{}, err
	}
	pbs, err := callAPI[[]maestro.ProductBuild](s.apiProductBuilds, r, nil, nil)
	if err != nil {
		return "", pageData{}, err
	}
	return "productbuilds", pageData{Title: "Speculative product builds", Nav: "speculative", Refresh: siteRefresh, Data: pbs}, nil
}

type productBuildData struct {
	Report maestro.ProductBuild
	// Downstream are, per repository, the repositories of the run that
	// took its build: the graph's edges the other way.
	Downstream map[string][]string
	// OnCriticalPath marks the repositories of the critical path.
	OnCriticalPath map[string]bool
	// SVG is the graph drawn (productBuildPicture), "" when it is not.
	SVG template.HTML
}

// productBuildPage shows a speculative product build's report: GET
// /speculative/builds/{id}, the page of GET /api/speculative/builds/{id}.
// The graph is drawn coloured by result with the critical path marked
// (productBuildPicture), and is a table in build order, each repository's
// row coloured by its result (and the result written out), with what it
// took and what took it.
func (s *Server) productBuildPage(_ http.ResponseWriter, r *http.Request, _ viewer) (string, pageData, error) {
	if _, err := query(r); err != nil {
		return "", pageData{}, err
	}
	pb, err := callAPI[maestro.ProductBuild](s.apiProductBuild, r, nil, map[string]string{"id": r.PathValue("id")})
	if err != nil {
		return "", pageData{}, err
	}
	d := productBuildData{Report: pb, Downstream: map[string][]string{}, OnCriticalPath: map[string]bool{}}
	for _, e := range pb.Repositories {
		for _, u := range e.Upstream {
			d.Downstream[u] = append(d.Downstream[u], e.Repository)
		}
	}
	for _, repo := range pb.CriticalPath {
		d.OnCriticalPath[repo] = true
	}
	if len(pb.Repositories) > 0 {
		pic := productBuildPicture(pb)
		d.SVG = s.pageSVG(func(w io.Writer, _ graph.Format) error { return pic.DOT(w) }, len(pic.Nodes)+len(pic.Edges),
			fmt.Sprintf("Speculative product build %s: %d repositories, %s", pb.ID, len(pb.Repositories), pb.Result))
	}
	return "productbuild", pageData{Title: "Speculative product build " + pb.ID, Nav: "speculative", Data: d}, nil
}

// The colours of a product build's picture, by result: outlines dark
// enough to read on white (at least 4.5:1), fills light enough for black
// text.
var productBuildStyle = map[string][2]string{ // outline, fill
	maestro.SpeculativeSucceeded:          {"#1a7f37", "#dcf5e3"},
	maestro.SpeculativePartiallySucceeded: {"#8a5a00", "#fff4d6"},
	maestro.SpeculativeFailed:             {"#c00000", "#fde2e2"},
	maestro.SpeculativeSkipped:            {"#595959", "#f0f0f0"},
}

// productBuildPicture draws a product build: a box per repository coloured
// by its result (skipped ones dashed), an arrow from each repository whose
// build it took, and the critical path marked — its boxes with a double
// outline and "critical path" written in them, its arrows thick.
func productBuildPicture(pb maestro.ProductBuild) *graph.Picture {
	p := &graph.Picture{Title: "speculative product build " + pb.ID}
	ids := map[string]string{}
	for i, e := range pb.Repositories {
		ids[strings.ToLower(e.Repository)] = "r" + strconv.Itoa(i)
	}
	critical := map[string]int{} // repository → its place on the path
	for i, r := range pb.CriticalPath {
		critical[strings.ToLower(r)] = i + 1
	}
	for _, e := range pb.Repositories {
		k := strings.ToLower(e.Repository)
		name := repoName(e.Repository)
		if e.Injected {
			name += " (injected)"
		}
		lines := []string{name, e.Result + " · " + siteSeconds(e.Seconds)}
		if e.BuildID != 0 {
			lines = append(lines, fmt.Sprintf("speculative build %d", e.BuildID))
		}
		style := productBuildStyle[e.Result]
		n := graph.PictureNode{ID: ids[k], Lines: lines, Color: style[0], Fill: style[1], Width: 2, Dashed: e.Result == maestro.SpeculativeSkipped}
		if critical[k] > 0 {
			n.Lines, n.Double = append(n.Lines, "critical path"), true
		}
		p.Nodes = append(p.Nodes, n)
	}
	for _, e := range pb.Repositories {
		to := strings.ToLower(e.Repository)
		for _, u := range e.Upstream {
			from := strings.ToLower(u)
			if ids[from] == "" {
				continue // not built in this run
			}
			edge := graph.PictureEdge{From: ids[from], To: ids[to]}
			if critical[from] > 0 && critical[to] == critical[from]+1 {
				edge.Width = 4
			}
			p.Edges = append(p.Edges, edge)
		}
	}
	return p
}

// siteSeconds shows a duration in seconds (a float or a pointer to one)
// as the site shows times: 1.2s, 3m4s.
func siteSeconds(v any) string {
	var secs float64
	switch x := v.(type) {
	case float64:
		secs = x
	case *float64:
		if x == nil {
			return "unknown"
		}
		secs = *x
	}
	if secs < 60 {
		return fmt.Sprintf("%.1fs", secs)
	}
	return time.Duration(secs * float64(time.Second)).Round(time.Second).String()
}

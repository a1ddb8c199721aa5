package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/speculative"
)

// apiProductBuilds: GET /api/speculative/builds (maestro speculative
// builds list -o json): the reports of the newest speculative product
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
// builds show --id ID -o json): a product build's report, with its
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
}

// productBuildPage shows a speculative product build's report: GET
// /speculative/builds/{id}, the page of GET /api/speculative/builds/{id}.
// The graph is a table in build order, each repository's row coloured by
// its result (and the result written out), with what it took and what took
// it.
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
	return "productbuild", pageData{Title: "Speculative product build " + pb.ID, Nav: "speculative", Data: d}, nil
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

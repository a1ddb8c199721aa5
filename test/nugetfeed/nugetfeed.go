// Package nugetfeed is a NuGet v3 feed served over loopback for tests, laid
// out as an Azure Artifacts feed (ORG/_packaging/FEED/nuget/v3/index.json)
// and speaking the documented protocol (https://learn.microsoft.com/nuget/api/overview):
//
//   - the service index, listing PackageBaseAddress/3.0.0 and
//     RegistrationsBaseUrl/3.6.0;
//   - the flat container: {base}/{id}/index.json (versions) and
//     {base}/{id}/{version}/{id}.{version}.nupkg, lower-case only (other
//     casings are 404, as on nuget.org);
//   - registrations: {base}/{id}/index.json with its pages inline (or, with
//     ExternalPages, only their @id, fetched apart), each leaf's catalogEntry
//     naming a catalog leaf that carries packageHash (SHA512, base64);
//   - GET and HEAD only (405 otherwise); with a Token, every request needs it
//     (Basic with any user name, or Bearer), else 401.
//
// It counts requests per path, can serve bytes other than those it hashed
// (Corrupt) and can send a package slowly (Slow) so a test can kill the
// client mid-download.
package nugetfeed

import (
	"crypto/md5"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
)

// Server is a running feed.
type Server struct {
	*httptest.Server
	// Org and Feed name the feed: {URL}/{Org}/_packaging/{Feed}/nuget/v3/index.json.
	Org, Feed string
	// Token, if set, is required on every request.
	Token string
	// ExternalPages leaves the registration pages out of the index.
	ExternalPages bool
	// NoRegistrations leaves RegistrationsBaseUrl out of the service index
	// (the protocol requires only the resources a client uses).
	NoRegistrations bool
	// ContentMD5 sends a package's Content-MD5 (of the bytes it hashes), as
	// a flat container kept in Azure Blob Storage does.
	ContentMD5 bool

	mu       sync.Mutex
	packages map[string]*pkg // lower(id)/lower(version)
	requests map[string]int  // path → count
	failures map[string]fail // path → the failures still to send
	// Started receives one value when a slow package has sent its first bytes.
	Started chan struct{}
}

type fail struct {
	n, status int
}

type pkg struct {
	id, version string
	content     []byte // what is hashed
	served      []byte // what is sent (differs when corrupt)
	chunk       int
	delay       time.Duration
}

// New starts a feed; it stops when the test ends (Close).
func New(org, feed string) *Server {
	s := &Server{Org: org, Feed: feed, packages: map[string]*pkg{}, requests: map[string]int{}, failures: map[string]fail{}, Started: make(chan struct{}, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// IndexURL is the feed's service index, the location a build records.
func (s *Server) IndexURL() string { return s.base() + "/index.json" }

// OrgURL is the organization URL (an Azure DevOps Server collection to the client).
func (s *Server) OrgURL() string { return s.URL + "/" + s.Org }

func (s *Server) base() string { return s.URL + "/" + s.Org + "/_packaging/" + s.Feed + "/nuget/v3" }

// Add publishes a package.
func (s *Server) Add(id, version string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packages[key(id, version)] = &pkg{id: id, version: version, content: content, served: content}
}

// Fail makes the next n requests of a path (below the feed's base) answer
// status, as an overloaded or restarting server does (503, 429, ...).
func (s *Server) Fail(path string, n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures["/"+s.Org+"/_packaging/"+s.Feed+"/nuget/v3"+path] = fail{n, status}
}

// Remove deletes a package from the feed.
func (s *Server) Remove(id, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.packages, key(id, version))
}

// Corrupt makes the feed send other bytes than the ones its registration hashes.
func (s *Server) Corrupt(id, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.packages[key(id, version)]
	p.served = append([]byte("corrupt:"), p.content...)
}

// Slow makes the feed send a package chunk bytes at a time, waiting delay
// between chunks.
func (s *Server) Slow(id, version string, chunk int, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.packages[key(id, version)]
	p.chunk, p.delay = chunk, delay
}

// Requests returns how many requests a path (below the feed's base, like
// "/flat2/a/1.0.0/a.1.0.0.nupkg") received.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests["/"+s.Org+"/_packaging/"+s.Feed+"/nuget/v3"+path]
}

// PackagePath is a package's content path below the feed's base.
func PackagePath(id, version string) string {
	id, version = strings.ToLower(id), strings.ToLower(version)
	return "/flat2/" + id + "/" + version + "/" + id + "." + version + ".nupkg"
}

func key(id, version string) string { return strings.ToLower(id) + "/" + strings.ToLower(version) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	f := s.failures[r.URL.Path]
	failNow := f.n > 0
	if failNow {
		f.n--
		s.failures[r.URL.Path] = f
	}
	s.mu.Unlock()
	if failNow {
		http.Error(w, http.StatusText(f.status), f.status)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.Token != "" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="https://pkgsprodsu3weu.app.pkgs.visualstudio.com/"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	prefix := "/" + s.Org + "/_packaging/" + s.Feed + "/nuget/v3"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	seg := strings.Split(strings.Trim(rest, "/"), "/")
	switch {
	case rest == "/index.json":
		res := []map[string]string{
			{"@id": s.base() + "/flat2/", "@type": "PackageBaseAddress/3.0.0", "comment": "Base URL of where NuGet packages are stored"},
			{"@id": s.base() + "/query2/", "@type": "SearchQueryService/3.0.0-beta"},
		}
		if !s.NoRegistrations {
			res = append(res, map[string]string{"@id": s.base() + "/registrations2-semver2/", "@type": "RegistrationsBaseUrl/3.6.0", "comment": "Registrations, SemVer 2.0.0 included"})
		}
		s.json(w, map[string]any{"version": "3.0.0", "resources": res})
	case len(seg) == 3 && seg[0] == "flat2" && seg[2] == "index.json":
		var vs []string
		for _, p := range s.versions(seg[1]) {
			vs = append(vs, strings.ToLower(p.version))
		}
		if vs == nil {
			http.NotFound(w, r)
			return
		}
		s.json(w, map[string]any{"versions": vs})
	case len(seg) == 4 && seg[0] == "flat2":
		p := s.find(seg[1], seg[2])
		if p == nil || seg[1] != strings.ToLower(p.id) || seg[2] != strings.ToLower(p.version) ||
			seg[3] != strings.ToLower(p.id)+"."+strings.ToLower(p.version)+".nupkg" {
			http.NotFound(w, r)
			return
		}
		s.send(w, r, p)
	case len(seg) == 3 && seg[0] == "registrations2-semver2" && seg[2] == "index.json":
		ps := s.versions(seg[1])
		if ps == nil || seg[1] != strings.ToLower(seg[1]) {
			http.NotFound(w, r)
			return
		}
		page := s.page(seg[1], ps)
		if s.ExternalPages {
			page = map[string]any{"@id": page["@id"], "count": page["count"], "lower": page["lower"], "upper": page["upper"]}
		}
		s.json(w, map[string]any{"@id": s.base() + "/registrations2-semver2/" + seg[1] + "/index.json", "count": 1, "items": []any{page}})
	case len(seg) == 3 && seg[0] == "registrations2-semver2" && seg[2] == "page.json":
		ps := s.versions(seg[1])
		if ps == nil {
			http.NotFound(w, r)
			return
		}
		s.json(w, s.page(seg[1], ps))
	case len(seg) == 3 && seg[0] == "catalog" && strings.HasSuffix(seg[2], ".json"):
		id, version, _ := strings.Cut(strings.TrimSuffix(seg[2], ".json"), "@")
		p := s.find(id, version)
		if p == nil {
			http.NotFound(w, r)
			return
		}
		sum := sha512.Sum512(p.content)
		s.json(w, map[string]any{"@id": s.catalogURL(p), "@type": []string{"PackageDetails", "catalog:Permalink"},
			"id": p.id, "version": p.version, "packageHash": base64.StdEncoding.EncodeToString(sum[:]),
			"packageHashAlgorithm": "SHA512", "packageSize": len(p.content)})
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return t == s.Token
	}
	if b, ok := strings.CutPrefix(h, "Basic "); ok {
		raw, err := base64.StdEncoding.DecodeString(b)
		_, pw, _ := strings.Cut(string(raw), ":")
		return err == nil && pw == s.Token
	}
	return false
}

func (s *Server) versions(lowerID string) []*pkg {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*pkg
	for _, p := range s.packages {
		if strings.ToLower(p.id) == lowerID {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *pkg) int { return strings.Compare(a.version, b.version) })
	return out
}

func (s *Server) find(id, version string) *pkg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.packages[key(id, version)]
}

func (s *Server) catalogURL(p *pkg) string {
	return s.base() + "/catalog/data/" + strings.ToLower(p.id) + "@" + strings.ToLower(p.version) + ".json"
}

func (s *Server) page(lowerID string, ps []*pkg) map[string]any {
	var items []any
	for _, p := range ps {
		content := s.base() + PackagePath(p.id, p.version)
		items = append(items, map[string]any{
			"@id":            s.base() + "/registrations2-semver2/" + lowerID + "/" + strings.ToLower(p.version) + ".json",
			"@type":          "Package",
			"catalogEntry":   map[string]any{"@id": s.catalogURL(p), "@type": "PackageDetails", "id": p.id, "version": p.version, "packageContent": content, "listed": true},
			"packageContent": content,
			"registration":   s.base() + "/registrations2-semver2/" + lowerID + "/index.json",
		})
	}
	return map[string]any{"@id": s.base() + "/registrations2-semver2/" + lowerID + "/page.json", "count": len(items),
		"items": items, "lower": strings.ToLower(ps[0].version), "upper": strings.ToLower(ps[len(ps)-1].version)}
}

func (s *Server) send(w http.ResponseWriter, r *http.Request, p *pkg) {
	s.mu.Lock()
	body, chunk, delay := p.served, p.chunk, p.delay
	sum := md5.Sum(p.content)
	s.mu.Unlock()
	if s.ContentMD5 {
		w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if chunk <= 0 {
		_, _ = w.Write(body)
		return
	}
	for i := 0; i < len(body); i += chunk {
		if _, err := w.Write(body[i:min(i+chunk, len(body))]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		if i == 0 {
			select {
			case s.Started <- struct{}{}:
			default:
			}
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(delay):
		}
	}
}

func (s *Server) json(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

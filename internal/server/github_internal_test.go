package server

import (
	"encoding/json"
	"testing"

	gh "github.com/google/go-github/v60/github"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseWithGoGitHub is parseGitHub as it was, on go-github's
// ParseWebHook: the reference the lean decoder is held to.
func parseWithGoGitHub(event string, payload []byte) (gitHubTarget, error) {
	parsed, err := gh.ParseWebHook(event, payload)
	if err != nil {
		return gitHubTarget{}, err
	}
	var t gitHubTarget
	var repo *gh.Repository
	switch e := parsed.(type) {
	case *gh.PullRequestEvent:
		repo, t.Numbers = e.GetRepo(), []int{e.GetPullRequest().GetNumber()}
	case *gh.PullRequestReviewEvent:
		repo, t.Numbers = e.GetRepo(), []int{e.GetPullRequest().GetNumber()}
	case *gh.CheckRunEvent:
		repo, t.SHA = e.GetRepo(), e.GetCheckRun().GetHeadSHA()
		for _, pr := range e.GetCheckRun().PullRequests {
			t.Numbers = append(t.Numbers, pr.GetNumber())
		}
	case *gh.CheckSuiteEvent:
		repo, t.SHA = e.GetRepo(), e.GetCheckSuite().GetHeadSHA()
		for _, pr := range e.GetCheckSuite().PullRequests {
			t.Numbers = append(t.Numbers, pr.GetNumber())
		}
	case *gh.StatusEvent:
		repo, t.SHA = e.GetRepo(), e.GetSHA()
	}
	t.Repository = repo.GetHTMLURL()
	return t, nil
}

// TestParseGitHubAsGoGitHub: for each event maestro re-checks on, the lean
// decoder finds the repository, numbers and commit go-github's event types
// find, in payloads go-github encodes, and refuses what go-github refuses
// in the fields it reads.
func TestParseGitHubAsGoGitHub(t *testing.T) {
	repo := &gh.Repository{HTMLURL: gh.String("https://github.com/dotnet/runtime"), Name: gh.String("runtime")}
	prs := []*gh.PullRequest{{Number: gh.Int(7)}, {Number: gh.Int(9)}}
	valid := map[string]any{
		"pull_request":        &gh.PullRequestEvent{Action: gh.String("synchronize"), Repo: repo, PullRequest: &gh.PullRequest{Number: gh.Int(7)}},
		"pull_request_review": &gh.PullRequestReviewEvent{Action: gh.String("submitted"), Repo: repo, PullRequest: &gh.PullRequest{Number: gh.Int(8)}},
		"check_run":           &gh.CheckRunEvent{Action: gh.String("completed"), Repo: repo, CheckRun: &gh.CheckRun{HeadSHA: gh.String("abc"), PullRequests: prs}},
		"check_suite":         &gh.CheckSuiteEvent{Action: gh.String("completed"), Repo: repo, CheckSuite: &gh.CheckSuite{HeadSHA: gh.String("def"), PullRequests: prs}},
		"status":              &gh.StatusEvent{SHA: gh.String("0123"), State: gh.String("success"), Repo: repo},
	}
	for event, v := range valid {
		t.Run(event, func(t *testing.T) {
			payload, err := json.Marshal(v)
			require.NoError(t, err)
			want, err := parseWithGoGitHub(event, payload)
			require.NoError(t, err)
			got, doc, err := parseGitHub(event, payload)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, string(payload), string(doc.Bytes()), "the checked payload intake records")
			assert.NotEmpty(t, got.Repository)
		})
	}
	broken := []struct{ event, payload string }{
		{"status", `{"repository": 5}`},
		{"status", `{"sha": 5, "repository": {"html_url": "https://github.com/dotnet/runtime"}}`},
		{"status", `{"repository": {"html_url": 5}}`},
		{"pull_request", `{"pull_request": {"number": "7"}, "repository": {"html_url": "https://github.com/dotnet/runtime"}}`},
		{"check_run", `{"check_run": {"pull_requests": {}}, "repository": {"html_url": "https://github.com/dotnet/runtime"}}`},
		{"check_suite", `{"check_suite": {"head_sha": []}, "repository": {"html_url": "https://github.com/dotnet/runtime"}}`},
		{"check_run", `{"check_run": `},
	}
	for _, c := range broken {
		t.Run("refuses "+c.payload, func(t *testing.T) {
			_, werr := parseWithGoGitHub(c.event, []byte(c.payload))
			require.Error(t, werr, "go-github refuses it")
			_, doc, err := parseGitHub(c.event, []byte(c.payload))
			assert.Error(t, err)
			assert.Nil(t, doc.Bytes(), "a refused payload is not vouched for")
		})
	}
	_, _, err := parseGitHub("status", []byte(`{"sha": "0123"}`))
	assert.ErrorContains(t, err, "no repository.html_url")
}

// FuzzDecodeGitHubPayload: decodeGitHubPayload reads what json.Unmarshal
// reads into gitHubPayload, and refuses what it refuses; it vouches for
// the payload as JSON exactly when json.Valid does.
func FuzzDecodeGitHubPayload(f *testing.F) {
	for _, seed := range []string{
		`{"sha":"0123","repository":{"html_url":"https://github.com/dotnet/runtime","owner":{"html_url":"x"}}}`,
		`{"pull_request":{"number":7},"repository":{"html_url":"https://github.com/dotnet/runtime"}}`,
		`{"check_run":{"head_sha":"abc","pull_requests":[{"number":7},{"number":9}]},"repository":{"html_url":"u"}}`,
		`{"check_suite":{"head_sha":null,"pull_requests":null},"repository":null}`,
		`{"pull_request":{"number":7.5}}`, `{"pull_request":{"number":"7"}}`, `{"SHA":"a"}`, `{"sha":"a","sha":"b"}`,
		`{"repository":{"html_url":"a"},"repository":{"id":1}}`, `{"s\u0068a":"x"}`, `[]`, `null`, `{"check_run":`,
		`{"repository":{"HTML_URL":"x"}}`, `{"check_run":{"pull_requests":[{"number":1,"Number":2}]}}`,
		`{"sha":"caf\u00e9 \"q\""}`, "{\"sha\":\"\xff\xfe\"}", `{"sha":"é"}`, `{"sha":null,"pull_request":{"number":null}}`,
		`{"pull_request":{"number":-0}}`, `{"pull_request":{"number":-12}}`, `{"pull_request":{"number":1e2}}`,
		`{"pull_request":{"number":99999999999999999999}}`, `{"pull_request":{"number":-9223372036854775808}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var want, got gitHubPayload
		werr := json.Unmarshal(payload, &want)
		doc, gerr := decodeGitHubPayload(payload, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: json.Unmarshal says %v, decodeGitHubPayload %v", payload, werr, gerr)
		}
		if json.Valid(payload) != (doc.Bytes() != nil) || doc.Bytes() != nil && string(doc.Bytes()) != string(payload) {
			t.Fatalf("%q: json.Valid says %v, decodeGitHubPayload checked %q", payload, json.Valid(payload), doc.Bytes())
		}
		if werr == nil {
			assert.Equal(t, want, got, "%q", payload)
		}
	})
}

// TestDecodeGitHubPayloadAllocations: the values of a status delivery (a
// plain string each) are read without encoding/json's decoder, which
// allocated 4 more times (and most of the decoding's CPU).
func TestDecodeGitHubPayloadAllocations(t *testing.T) {
	payload := []byte(`{"id":1,"sha":"9f1c6a8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a","state":"success","context":"ci/build",` +
		`"repository":{"id":2,"name":"runtime","html_url":"https://github.com/dotnet/runtime","owner":{"login":"dotnet"}}}`)
	var p gitHubPayload
	_, err := decodeGitHubPayload(payload, &p)
	require.NoError(t, err)
	require.Equal(t, "https://github.com/dotnet/runtime", *p.Repository.HTMLURL)
	allocs := testing.AllocsPerRun(200, func() {
		var p gitHubPayload
		_, _ = decodeGitHubPayload(payload, &p)
	})
	t.Logf("%.0f allocations", allocs)
	assert.LessOrEqual(t, allocs, 7.0)
}

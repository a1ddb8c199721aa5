package githubdouble_test

import (
	"testing"

	"github.com/google/go-github/v60/github"

	githubdouble "github.com/maestroplusplus/maestro/test/github"
)

func TestGetRef(t *testing.T) {
	f := newFixture(t)
	main := f.repo.Branch("main")
	feature := f.branch(t, "feature/x", "a.txt", "a\n")
	for _, tc := range []struct {
		name, ref, sha string
	}{
		{"branch", "heads/main", main},
		{"full name", "refs/heads/main", main},
		{"branch with slash", "heads/feature/x", feature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, _, err := f.client.Git.GetRef(t.Context(), "dotnet", "runtime", tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			if ref.GetObject().GetSHA() != tc.sha || ref.GetObject().GetType() != "commit" ||
				ref.GetRef() != "refs/"+trimRefs(tc.ref) || ref.GetURL() != f.srv.APIURL()+"repos/dotnet/runtime/git/"+"refs/"+trimRefs(tc.ref) {
				t.Fatalf("got %s", github.Stringify(ref))
			}
		})
	}
	for _, missing := range []string{"heads/nope", "heads/feature", "tags/v1", "pull/1/head"} {
		t.Run("missing "+missing, func(t *testing.T) {
			_, _, err := f.client.Git.GetRef(t.Context(), "dotnet", "runtime", missing)
			wantAPIError(t, err, 404, "Not Found")
		})
	}
}

func trimRefs(ref string) string {
	if len(ref) > 5 && ref[:5] == "refs/" {
		return ref[5:]
	}
	return ref
}

func TestMatchingRefs(t *testing.T) {
	f := newFixture(t)
	f.branch(t, "darc-main-1", "a.txt", "a\n")
	f.branch(t, "darc-main-2", "b.txt", "b\n")
	refs, _, err := f.client.Git.ListMatchingRefs(t.Context(), "dotnet", "runtime", &github.ReferenceListOptions{Ref: "heads/darc-"})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || refs[0].GetRef() != "refs/heads/darc-main-1" || refs[1].GetRef() != "refs/heads/darc-main-2" {
		t.Fatalf("got %s", github.Stringify(refs))
	}
	refs, _, err = f.client.Git.ListMatchingRefs(t.Context(), "dotnet", "runtime", &github.ReferenceListOptions{Ref: "heads/none"})
	if err != nil || len(refs) != 0 {
		t.Fatalf("got %v, %v; want no refs", refs, err)
	}
}

func TestEmptyRepository(t *testing.T) {
	f := newFixture(t, githubdouble.RepoSpec{Owner: "dotnet", Name: "empty"})
	_, _, err := f.client.Git.GetRef(t.Context(), "dotnet", "empty", "heads/main")
	wantAPIError(t, err, 409, "Git Repository is empty.")
}

func TestCreateRef(t *testing.T) {
	f := newFixture(t)
	main := f.repo.Branch("main")
	ref, resp, err := f.client.Git.CreateRef(t.Context(), "dotnet", "runtime", &github.Reference{
		Ref: github.String("refs/heads/darc-main-123"), Object: &github.GitObject{SHA: github.String(main)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || ref.GetRef() != "refs/heads/darc-main-123" || ref.GetObject().GetSHA() != main {
		t.Fatalf("got %d %s", resp.StatusCode, github.Stringify(ref))
	}
	if got := f.repo.Branch("darc-main-123"); got != main {
		t.Fatalf("branch in the bare repository is %q, want %s", got, main)
	}
	f.branch(t, "dir/sub", "a.txt", "a\n")
	for _, tc := range []struct {
		name, ref, sha, message string
	}{
		{"exists", "refs/heads/main", main, "Reference already exists"},
		{"two components", "refs/heads", main, "Reference name must contain at least three slash-separated components."},
		{"not under refs", "heads/x/y", main, "Reference name must contain at least three slash-separated components."},
		{"invalid name", "refs/heads/a..b", main, "refs/heads/a..b is not a valid ref name."},
		{"unknown object", "refs/heads/new", "1234567890123456789012345678901234567890", "Object does not exist"},
		{"short sha", "refs/heads/new", main[:7], "Object does not exist"},
		{"directory conflict", "refs/heads/dir", main, "Reference update failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := f.client.NewRequest("POST", "repos/dotnet/runtime/git/refs", map[string]string{"ref": tc.ref, "sha": tc.sha})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.client.Do(t.Context(), req, nil)
			wantAPIError(t, err, 422, tc.message)
		})
	}
}

func TestUpdateRef(t *testing.T) {
	f := newFixture(t)
	main := f.repo.Branch("main")
	first := f.branch(t, "darc", "a.txt", "1\n")
	second := f.repo.Commit(githubdouble.CommitSpec{Branch: "darc", Files: map[string]string{"a.txt": "2\n"}})
	other := f.branch(t, "other", "b.txt", "b\n")
	update := func(sha string, force bool) (*github.Reference, error) {
		ref, _, err := f.client.Git.UpdateRef(t.Context(), "dotnet", "runtime", &github.Reference{
			Ref: github.String("refs/heads/darc"), Object: &github.GitObject{SHA: github.String(sha)},
		}, force)
		return ref, err
	}
	_, err := update(first, false)
	wantAPIError(t, err, 422, "Update is not a fast forward")
	_, err = update(other, false)
	wantAPIError(t, err, 422, "Update is not a fast forward")
	ref, err := update(other, true)
	if err != nil || ref.GetObject().GetSHA() != other || f.repo.Branch("darc") != other {
		t.Fatalf("force update: %v, %s; branch at %s", err, github.Stringify(ref), f.repo.Branch("darc"))
	}
	if _, err := update(second, true); err != nil {
		t.Fatal(err)
	}
	f.repo.Commit(githubdouble.CommitSpec{Branch: "main", Files: map[string]string{"m.txt": "m\n"}})
	if ref, err = update(f.repo.Branch("main"), false); err == nil {
		t.Fatalf("moved darc to main's new tip without force: %s", github.Stringify(ref))
	}
	_, err = update("1234567890123456789012345678901234567890", true)
	wantAPIError(t, err, 422, "Object does not exist")
	_, _, err = f.client.Git.UpdateRef(t.Context(), "dotnet", "runtime", &github.Reference{
		Ref: github.String("heads/missing"), Object: &github.GitObject{SHA: github.String(main)},
	}, true)
	wantAPIError(t, err, 422, "Reference does not exist")
	// Fast-forward of main.
	child := f.repo.Commit(githubdouble.CommitSpec{Branch: "ff", From: "main", Files: map[string]string{"ff.txt": "ff\n"}})
	ref, _, err = f.client.Git.UpdateRef(t.Context(), "dotnet", "runtime", &github.Reference{
		Ref: github.String("heads/main"), Object: &github.GitObject{SHA: github.String(child)},
	}, false)
	if err != nil || ref.GetObject().GetSHA() != child {
		t.Fatalf("fast-forward: %v %s", err, github.Stringify(ref))
	}
}

func TestDeleteRef(t *testing.T) {
	f := newFixture(t)
	f.branch(t, "darc", "a.txt", "1\n")
	resp, err := f.client.Git.DeleteRef(t.Context(), "dotnet", "runtime", "heads/darc")
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("delete: %v %v", resp, err)
	}
	if f.repo.Branch("darc") != "" {
		t.Fatal("the branch is still in the bare repository")
	}
	_, err = f.client.Git.DeleteRef(t.Context(), "dotnet", "runtime", "heads/darc")
	wantAPIError(t, err, 422, "Reference does not exist")
	_, err = f.client.Git.DeleteRef(t.Context(), "dotnet", "runtime", "heads/main")
	wantAPIError(t, err, 422, "Cannot delete the default branch")
	if f.repo.Branch("main") == "" {
		t.Fatal("the default branch was deleted")
	}
}

func TestLegacyGetRefs(t *testing.T) {
	f := newFixture(t)
	main := f.repo.Branch("main")
	f.branch(t, "darc/one", "a.txt", "1\n")
	f.branch(t, "darc/two", "b.txt", "2\n")
	f.branch(t, "darcy", "c.txt", "3\n")
	get := func(path string, v any) error {
		req, err := f.client.NewRequest("GET", "repos/dotnet/runtime/git/refs/"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.client.Do(t.Context(), req, v)
		return err
	}
	var one github.Reference
	if err := get("heads/main", &one); err != nil || one.GetObject().GetSHA() != main {
		t.Fatalf("exact ref: %v %s", err, github.Stringify(one))
	}
	var many []*github.Reference
	if err := get("heads/darc", &many); err != nil || len(many) != 2 || many[0].GetRef() != "refs/heads/darc/one" {
		t.Fatalf("refs under heads/darc: %v %s", err, github.Stringify(many))
	}
	wantAPIError(t, get("heads/nope", &many), 404, "Not Found")
}

func TestRepoHandleLookup(t *testing.T) {
	f := newFixture(t)
	if h := f.srv.Repo("DOTNET", "Runtime"); h.FullName() != "dotnet/runtime" || h.Dir() != f.repo.Dir() {
		t.Fatalf("Repo found %s at %s", h.FullName(), h.Dir())
	}
}

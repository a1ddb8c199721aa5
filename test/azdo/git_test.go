package azdo_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/test/azdo"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
)

func TestGetRepository(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name       string
		project    *string
		repository string
		status     int
		typeKey    string
	}{
		{name: "by name", project: ptr("dnceng"), repository: "runtime"},
		{name: "by name, other case", project: ptr("DNCENG"), repository: "RUNTIME"},
		{name: "by ID", project: ptr("dnceng"), repository: e.repo.ID.String()},
		{name: "by ID without project", repository: e.repo.ID.String()},
		{name: "project by ID", project: ptr(e.project.ID.String()), repository: "runtime"},
		{name: "unknown repository", project: ptr("dnceng"), repository: "nope", status: http.StatusNotFound, typeKey: "GitRepositoryNotFoundException"},
		{name: "name without project", repository: "runtime", status: http.StatusNotFound, typeKey: "GitRepositoryNotFoundException"},
		{name: "unknown project", project: ptr("nope"), repository: "runtime", status: http.StatusNotFound, typeKey: "ProjectDoesNotExistWithNameException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.git.GetRepository(e.ctx, git.GetRepositoryArgs{Project: tt.project, RepositoryId: ptr(tt.repository)})
			if tt.status != 0 {
				wantError(t, err, tt.status, tt.typeKey)
				return
			}
			if err != nil {
				t.Fatalf("GetRepository: %v", err)
			}
			if *r.Id != e.repo.ID || *r.Name != "runtime" || *r.Project.Name != "dnceng" {
				t.Errorf("repository = %s %s in %s", r.Id, *r.Name, *r.Project.Name)
			}
			if deref(r.DefaultBranch) != "refs/heads/main" {
				t.Errorf("defaultBranch = %q, want refs/heads/main", deref(r.DefaultBranch))
			}
			if deref(r.RemoteUrl) != e.repo.RemoteURL() || !strings.Contains(deref(r.RemoteUrl), "maestro@") {
				t.Errorf("remoteUrl = %q, want %q (with the organization as user, as the service writes it)", deref(r.RemoteUrl), e.repo.RemoteURL())
			}
		})
	}
}

func TestGetRefs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	main := e.repo.Head("main")
	e.repo.Commit("main-2", map[string][]byte{"a.txt": []byte("a")}, "other")
	e.repo.Commit("release/1.0", map[string][]byte{"b.txt": []byte("b")}, "release")
	tests := []struct {
		name string
		args git.GetRefsArgs
		want []string
		cont string
	}{
		{name: "all", args: git.GetRefsArgs{}, want: []string{"refs/heads/main", "refs/heads/main-2", "refs/heads/release/1.0"}},
		// The filter is a prefix after refs/, as in the service: heads/main
		// also returns heads/main-2.
		{name: "filter is a prefix", args: git.GetRefsArgs{Filter: ptr("heads/main")}, want: []string{"refs/heads/main", "refs/heads/main-2"}},
		{name: "filter without match", args: git.GetRefsArgs{Filter: ptr("tags/")}, want: nil},
		{name: "filterContains", args: git.GetRefsArgs{FilterContains: ptr("release")}, want: []string{"refs/heads/release/1.0"}},
		{name: "first page", args: git.GetRefsArgs{Top: ptr(2)}, want: []string{"refs/heads/main", "refs/heads/main-2"}, cont: "refs/heads/release/1.0"},
		{name: "next page", args: git.GetRefsArgs{Top: ptr(2), ContinuationToken: ptr("refs/heads/release/1.0")}, want: []string{"refs/heads/release/1.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			args.Project, args.RepositoryId = ptr("dnceng"), ptr("runtime")
			got, err := e.git.GetRefs(e.ctx, args)
			if err != nil {
				t.Fatalf("GetRefs: %v", err)
			}
			var names []string
			for _, r := range got.Value {
				names = append(names, *r.Name)
				if *r.Name == "refs/heads/main" && *r.ObjectId != main {
					t.Errorf("refs/heads/main = %s, want %s", *r.ObjectId, main)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("refs = %v, want %v", names, tt.want)
			}
			if got.ContinuationToken != tt.cont {
				t.Errorf("continuation token = %q, want %q", got.ContinuationToken, tt.cont)
			}
		})
	}
	t.Run("unknown repository", func(t *testing.T) {
		_, err := e.git.GetRefs(e.ctx, git.GetRefsArgs{Project: ptr("dnceng"), RepositoryId: ptr("nope")})
		wantError(t, err, http.StatusNotFound, "GitRepositoryNotFoundException")
	})
}

func TestUpdateRefs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	main := e.repo.Head("main")
	other := e.repo.Commit("other", map[string][]byte{"x.txt": []byte("x")}, "other")
	const zero = "0000000000000000000000000000000000000000"
	tests := []struct {
		name       string
		update     git.GitRefUpdate
		wantStatus git.GitRefUpdateStatus
		wantHead   string // the ref's value afterwards ("" = absent)
	}{
		{name: "create", update: git.GitRefUpdate{Name: ptr("refs/heads/darc-main-1"), OldObjectId: ptr(zero), NewObjectId: ptr(main)},
			wantStatus: git.GitRefUpdateStatusValues.Succeeded, wantHead: main},
		{name: "create existing", update: git.GitRefUpdate{Name: ptr("refs/heads/darc-main-1"), OldObjectId: ptr(zero), NewObjectId: ptr(other)},
			wantStatus: git.GitRefUpdateStatusValues.StaleOldObjectId, wantHead: main},
		{name: "move", update: git.GitRefUpdate{Name: ptr("refs/heads/darc-main-1"), OldObjectId: ptr(main), NewObjectId: ptr(other)},
			wantStatus: git.GitRefUpdateStatusValues.Succeeded, wantHead: other},
		{name: "stale old object", update: git.GitRefUpdate{Name: ptr("refs/heads/darc-main-1"), OldObjectId: ptr(main), NewObjectId: ptr(main)},
			wantStatus: git.GitRefUpdateStatusValues.StaleOldObjectId, wantHead: other},
		{name: "unknown commit", update: git.GitRefUpdate{Name: ptr("refs/heads/darc-main-1"), OldObjectId: ptr(other), NewObjectId: ptr(strings.Repeat("ab", 20))},
			wantStatus: git.GitRefUpdateStatusValues.UnresolvableToCommit, wantHead: other},
		{name: "invalid name", update: git.GitRefUpdate{Name: ptr("refs/heads/bad..name"), OldObjectId: ptr(zero), NewObjectId: ptr(main)},
			wantStatus: git.GitRefUpdateStatusValues.InvalidRefName},
		{name: "delete", update: git.GitRefUpdate{Name: ptr("refs/heads/darc-main-1"), OldObjectId: ptr(other), NewObjectId: ptr(zero)},
			wantStatus: git.GitRefUpdateStatusValues.Succeeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.git.UpdateRefs(e.ctx, git.UpdateRefsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), RefUpdates: &[]git.GitRefUpdate{tt.update}})
			if err != nil {
				t.Fatalf("UpdateRefs: %v", err)
			}
			if len(*res) != 1 {
				t.Fatalf("got %d results, want 1", len(*res))
			}
			r := (*res)[0]
			if *r.UpdateStatus != tt.wantStatus || *r.Success != (tt.wantStatus == git.GitRefUpdateStatusValues.Succeeded) {
				t.Errorf("result = %s success=%v, want %s", *r.UpdateStatus, *r.Success, tt.wantStatus)
			}
			if *r.RepositoryId != e.repo.ID || *r.Name != *tt.update.Name {
				t.Errorf("result names %s in %s", *r.Name, r.RepositoryId)
			}
			if name := *tt.update.Name; name == "refs/heads/darc-main-1" {
				if got := e.repo.Head(name); got != tt.wantHead {
					t.Errorf("%s = %q, want %q", name, got, tt.wantHead)
				}
			}
		})
	}
	recorded := e.s.RefUpdates()
	if len(recorded) != len(tests) || recorded[0].Via != "refs" || recorded[1].Status != git.GitRefUpdateStatusValues.StaleOldObjectId {
		t.Errorf("recorded ref updates = %+v", recorded)
	}

	bad := []struct {
		name    string
		updates *[]git.GitRefUpdate
		typeKey string
	}{
		{name: "empty list", updates: &[]git.GitRefUpdate{}, typeKey: "ArgumentException"},
		{name: "short object ID", updates: &[]git.GitRefUpdate{{Name: ptr("refs/heads/x"), OldObjectId: ptr("abc"), NewObjectId: ptr(main)}}, typeKey: "ArgumentException"},
		{name: "missing old object ID", updates: &[]git.GitRefUpdate{{Name: ptr("refs/heads/x"), NewObjectId: ptr(main)}}, typeKey: "ArgumentException"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.git.UpdateRefs(e.ctx, git.UpdateRefsArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), RefUpdates: tt.updates})
			wantError(t, err, http.StatusBadRequest, tt.typeKey)
		})
	}
}

// change builds a GitChange as a client sends it.
func change(kind git.VersionControlChangeType, path, content string) git.GitChange {
	c := git.GitChange{ChangeType: &kind, Item: map[string]string{"path": path}}
	if content != "" || kind == git.VersionControlChangeTypeValues.Add || kind == git.VersionControlChangeTypeValues.Edit {
		c.NewContent = &git.ItemContent{Content: ptr(content), ContentType: ptr(git.ItemContentTypeValues.RawText)}
	}
	return c
}

func push(refName, oldObjectID, comment string, changes ...git.GitChange) *git.GitPush {
	var anyChanges []any
	for _, c := range changes {
		anyChanges = append(anyChanges, c)
	}
	return &git.GitPush{
		RefUpdates: &[]git.GitRefUpdate{{Name: ptr(refName), OldObjectId: ptr(oldObjectID)}},
		Commits:    &[]git.GitCommitRef{{Comment: ptr(comment), Changes: &anyChanges}},
	}
}

func TestCreatePush(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	main := e.repo.Head("main")
	rename := git.VersionControlChangeTypeValues.Rename
	binary := git.GitChange{
		ChangeType: ptr(git.VersionControlChangeTypeValues.Add),
		Item:       map[string]string{"path": "/eng/common/logo.bin"},
		NewContent: &git.ItemContent{Content: ptr(base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255})), ContentType: ptr(git.ItemContentTypeValues.Base64Encoded)},
	}
	p := push("refs/heads/darc-main-1234", main, "Update dependencies from dotnet/arcade build 20240101.1",
		change(git.VersionControlChangeTypeValues.Edit, "/eng/Version.Details.xml", "<Dependencies>\n</Dependencies>\n"),
		change(git.VersionControlChangeTypeValues.Add, "/global.json", "{}\n"),
		change(git.VersionControlChangeTypeValues.Delete, "/README.md", ""),
		binary,
		git.GitChange{ChangeType: &rename, SourceServerItem: ptr("/eng/pipelines/update.yml"), Item: map[string]string{"path": "/eng/pipelines/flow.yml"}},
	)
	got, err := e.git.CreatePush(e.ctx, git.CreatePushArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), Push: p})
	if err != nil {
		t.Fatalf("CreatePush: %v", err)
	}
	if st := statusOf(e.s, http.MethodPost, "/pushes"); st != http.StatusCreated {
		t.Errorf("status = %d, want 201", st)
	}
	commit := *(*got.Commits)[0].CommitId
	if (*got.RefUpdates)[0].NewObjectId == nil || *(*got.RefUpdates)[0].NewObjectId != commit || *(*got.RefUpdates)[0].OldObjectId != "0000000000000000000000000000000000000000" {
		t.Errorf("refUpdates = %+v", *got.RefUpdates)
	}
	if *got.PushId != 1 || deref(got.PushedBy.DisplayName) == "" || *got.Repository.Id != e.repo.ID {
		t.Errorf("push = id %v by %v in %v", *got.PushId, got.PushedBy.DisplayName, got.Repository.Id)
	}
	if e.repo.Head("darc-main-1234") != commit || e.repo.Head("main") != main {
		t.Errorf("branches: darc = %s main = %s, want %s and %s", e.repo.Head("darc-main-1234"), e.repo.Head("main"), commit, main)
	}
	// The commit is a real commit in the repository on disk.
	dir := e.repo.Dir()
	if parent := runGit(t, dir, "rev-parse", commit+"^"); parent != main {
		t.Errorf("parent = %s, want %s", parent, main)
	}
	if msg := runGit(t, dir, "log", "-1", "--format=%s", commit); msg != "Update dependencies from dotnet/arcade build 20240101.1" {
		t.Errorf("message = %q", msg)
	}
	files := runGit(t, dir, "ls-tree", "-r", "--name-only", commit)
	if files != "eng/Version.Details.xml\neng/common/logo.bin\neng/pipelines/flow.yml\nglobal.json" {
		t.Errorf("files = %q", files)
	}
	if data, _ := e.repo.ReadFile(commit, "eng/common/logo.bin"); string(data) != "\x00\x01\x02\xff" {
		t.Errorf("binary content = %q", data)
	}
	if data, _ := e.repo.ReadFile(commit, "eng/pipelines/flow.yml"); string(data) != updateYAML {
		t.Errorf("renamed content changed")
	}
	if pushes := e.s.Pushes(); len(pushes) != 1 || pushes[0].NewObjectID != commit || pushes[0].RefName != "refs/heads/darc-main-1234" {
		t.Errorf("recorded pushes = %+v", pushes)
	}

	// A second push on top of the first moves the branch.
	second, err := e.git.CreatePush(e.ctx, git.CreatePushArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"),
		Push: push("refs/heads/darc-main-1234", commit, "second", change(git.VersionControlChangeTypeValues.Edit, "/global.json", "{ }\n"))})
	if err != nil {
		t.Fatalf("second CreatePush: %v", err)
	}
	if head := e.repo.Head("darc-main-1234"); head != *(*second.Commits)[0].CommitId {
		t.Errorf("branch = %s after second push", head)
	}

	bad := []struct {
		name    string
		push    *git.GitPush
		status  int
		typeKey string
	}{
		// The branch moved on since main: pushing on top of main again is stale.
		{name: "stale base", push: push("refs/heads/darc-main-1234", main, "x", change(git.VersionControlChangeTypeValues.Edit, "/global.json", "1")),
			status: http.StatusConflict, typeKey: "GitReferenceStaleException"},
		{name: "create existing branch", push: push("refs/heads/main", "0000000000000000000000000000000000000000", "x", change(git.VersionControlChangeTypeValues.Add, "/new.txt", "1")),
			status: http.StatusConflict, typeKey: "GitReferenceStaleException"},
		{name: "edit of a missing file", push: push("refs/heads/main", main, "x", change(git.VersionControlChangeTypeValues.Edit, "/missing.txt", "1")),
			status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "add of an existing file", push: push("refs/heads/main", main, "x", change(git.VersionControlChangeTypeValues.Add, "/README.md", "1")),
			status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "no changes", push: push("refs/heads/main", main, "x"),
			status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "no comment", push: push("refs/heads/main", main, "", change(git.VersionControlChangeTypeValues.Add, "/n.txt", "1")),
			status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "no base commit", push: push("refs/heads/x", "", "x", change(git.VersionControlChangeTypeValues.Add, "/n.txt", "1")),
			status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "two commits", push: func() *git.GitPush {
			p := push("refs/heads/main", main, "x", change(git.VersionControlChangeTypeValues.Add, "/n.txt", "1"))
			*p.Commits = append(*p.Commits, (*p.Commits)[0])
			return p
		}(), status: http.StatusBadRequest, typeKey: "InvalidArgumentValueException"},
		{name: "unknown base commit", push: push("refs/heads/new", strings.Repeat("cd", 20), "x", change(git.VersionControlChangeTypeValues.Add, "/n.txt", "1")),
			status: http.StatusNotFound, typeKey: "GitCommitDoesNotExistException"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.git.CreatePush(e.ctx, git.CreatePushArgs{Project: ptr("dnceng"), RepositoryId: ptr("runtime"), Push: tt.push})
			wantError(t, err, tt.status, tt.typeKey)
		})
	}
	if e.repo.Head("main") != main {
		t.Errorf("a rejected push moved main")
	}
}

// TestFirstPushToEmptyRepository pushes a root commit into an empty
// repository with a given author, a token with a chosen identity and a fixed
// clock.
func TestFirstPushToEmptyRepository(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	s := azdo.NewServer(t, azdo.WithOrganization("dnceng"), azdo.WithClock(func() time.Time { return fixed }))
	bot := s.AddToken(azdo.Token{Value: "bot-token", Kind: azdo.PAT, Identity: azdo.Identity{DisplayName: "dotnet-maestro[bot]", UniqueName: "maestro@example.com"}})
	p := s.AddProject("internal")
	r := s.AddRepository(p, "dotnet-arcade")
	ctx := context.Background()
	gc, err := git.NewClient(ctx, azuredevops.NewPatConnection(s.OrganizationURL(), "bot-token"))
	if err != nil {
		t.Fatalf("git.NewClient: %v", err)
	}
	repo, err := gc.GetRepository(ctx, git.GetRepositoryArgs{Project: ptr("internal"), RepositoryId: ptr("dotnet-arcade")})
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	if repo.DefaultBranch != nil {
		t.Errorf("an empty repository has default branch %s", *repo.DefaultBranch)
	}
	p1 := push("refs/heads/master", "0000000000000000000000000000000000000000", "Initial commit",
		change(git.VersionControlChangeTypeValues.Add, "/README.md", "# arcade\n"))
	(*p1.Commits)[0].Author = &git.GitUserDate{Name: ptr("Release Engineer"), Email: ptr("re@example.com"), Date: &azuredevops.Time{Time: fixed.Add(-time.Hour)}}
	got, err := gc.CreatePush(ctx, git.CreatePushArgs{Project: ptr("internal"), RepositoryId: ptr("dotnet-arcade"), Push: p1})
	if err != nil {
		t.Fatalf("CreatePush: %v", err)
	}
	if !got.Date.Time.Equal(fixed) || *got.PushedBy.DisplayName != bot.DisplayName || *got.PushedBy.Id != bot.ID.String() {
		t.Errorf("push date %s by %s (%s)", got.Date.Time, *got.PushedBy.DisplayName, *got.PushedBy.Id)
	}
	c := (*got.Commits)[0]
	if *c.Author.Name != "Release Engineer" || !c.Author.Date.Time.Equal(fixed.Add(-time.Hour)) || *c.Committer.Name != "Release Engineer" || c.Parents != nil {
		t.Errorf("commit = author %s at %s, committer %s, parents %v", *c.Author.Name, c.Author.Date.Time, *c.Committer.Name, c.Parents)
	}
	repo, err = gc.GetRepository(ctx, git.GetRepositoryArgs{Project: ptr("internal"), RepositoryId: ptr("dotnet-arcade")})
	if err != nil || deref(repo.DefaultBranch) != "refs/heads/master" {
		t.Errorf("default branch after the first push = %q, %v", deref(repo.DefaultBranch), err)
	}
	repos, err := gc.GetRepositories(ctx, git.GetRepositoriesArgs{Project: ptr("internal")})
	if err != nil || len(*repos) != 1 || *(*repos)[0].Id != r.ID {
		t.Errorf("GetRepositories = %v, %v", repos, err)
	}
	if r.Head("master") != *c.CommitId {
		t.Errorf("master = %s", r.Head("master"))
	}
}

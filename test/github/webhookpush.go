package githubdouble

import (
	"maps"
	"slices"
	"strings"
)

// Push events come from comparing the repository's branches and tags with
// the tips they had when push events were last computed: after every API
// request on the repository, every git push and every Repo.Commit, so that
// pushes through git, the refs API, merges and test helpers all send one
// push event per changed ref, and create or delete for a ref that appeared
// or went, as GitHub does. Only repositories with a hook (or every
// repository, once an app has one) are compared.

// pushRefs lists the refs push events are about: branches and tags.
func (s *Server) pushRefs(r *repo) (map[string]string, error) {
	refs, err := s.git.refs(r.dir, "refs/")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, t := range refs {
		if strings.HasPrefix(t.Name, "refs/heads/") || strings.HasPrefix(t.Name, "refs/tags/") {
			out[t.Name] = t.SHA
		}
	}
	return out, nil
}

// trackHeads starts comparing r's refs, when it is not compared yet.
func (s *Server) trackHeads(r *repo) {
	if s.hooks.heads == nil {
		s.hooks.heads = map[*repo]map[string]string{}
	}
	if _, ok := s.hooks.heads[r]; ok {
		return
	}
	refs, err := s.pushRefs(r)
	if err != nil {
		s.tb.Errorf("github double: list the refs of %s: %v", r.fullName(), err)
		return
	}
	s.hooks.heads[r] = refs
}

// observePushes sends a push event for each branch or tag of r that
// changed since the last call, as pushed by pusher. Called with the server
// lock held.
func (s *Server) observePushes(r *repo, pusher *user) {
	old, ok := s.hooks.heads[r]
	if !ok {
		return
	}
	now, err := s.pushRefs(r)
	if err != nil {
		s.tb.Errorf("github double: list the refs of %s: %v", r.fullName(), err)
		return
	}
	s.hooks.heads[r] = now
	names := slices.Sorted(maps.Keys(now))
	for name := range old {
		if _, ok := now[name]; !ok {
			names = append(names, name)
		}
	}
	for _, name := range names {
		before, after := old[name], now[name]
		if before == after {
			continue
		}
		s.pushEvent(r, name, before, after, old, pusher)
		if before == "" || after == "" {
			s.refEvent(r, name, after == "", pusher)
		}
	}
}

// refEvent emits create (or delete) for a branch or tag that was created
// (or deleted), which GitHub sends beside the push event.
func (s *Server) refEvent(r *repo, ref string, deleted bool, pusher *user) {
	event := "create"
	if deleted {
		event = "delete"
	}
	s.emit(r, event, "", func() (object, error) {
		refType, short := "branch", strings.TrimPrefix(ref, "refs/heads/")
		if name, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
			refType, short = "tag", name
		}
		payload := object{
			"ref":         short,
			"ref_type":    refType,
			"pusher_type": "user",
			"repository":  s.repoHookJSON(r),
			"sender":      s.userHookJSON(pusher),
		}
		if !deleted {
			payload["master_branch"] = r.spec.DefaultBranch
			payload["description"] = nilIfEmpty(r.spec.Description)
		}
		return payload, nil
	})
}

// pushEvent emits push for one ref moving from before to after ("" for a
// ref created or deleted); others are the refs before the push, so that a
// new branch lists only the commits no other ref had.
func (s *Server) pushEvent(r *repo, ref, before, after string, others map[string]string, pusher *user) {
	s.emit(r, "push", "", func() (object, error) {
		created, deleted := before == "", after == ""
		forced := false
		var commits []commitInfo
		var err error
		switch {
		case deleted:
		case created:
			var exclude []string
			for name, sha := range others {
				if name != ref {
					exclude = append(exclude, sha)
				}
			}
			commits, err = s.commitsNotIn(r, after, exclude)
		default:
			ff, aerr := s.git.isAncestor(r.dir, before, after)
			if aerr != nil {
				return nil, aerr
			}
			forced = !ff
			commits, err = s.git.log(r.dir, before, after)
		}
		if err != nil {
			return nil, err
		}
		html := s.htmlURL(r.owner.Login, r.spec.Name)
		list := []any{}
		for _, ci := range commits {
			c, err := s.pushCommitJSON(r, ci)
			if err != nil {
				return nil, err
			}
			list = append(list, c)
		}
		var head any
		if !deleted {
			// An annotated tag points to a tag object: the head commit is
			// the commit it tags.
			peeled, err := s.git.run(r.dir, nil, nil, "rev-parse", "--verify", after+"^{commit}")
			if err != nil {
				return nil, err
			}
			ci, err := s.oneCommit(r, firstLine(peeled))
			if err != nil {
				return nil, err
			}
			if head, err = s.pushCommitJSON(r, ci); err != nil {
				return nil, err
			}
		}
		compare := html + "/compare/" + short(before) + "..." + short(after)
		if created {
			compare = html + "/commit/" + short(after)
		}
		if deleted {
			compare = html + "/compare/" + short(before) + "...000000000000"
		}
		repository := s.repoHookJSON(r)
		repository["created_at"] = r.createdAt.Unix()
		repository["pushed_at"] = s.now().Unix()
		repository["stargazers"] = 0
		repository["master_branch"] = r.spec.DefaultBranch
		return object{
			"ref":         ref,
			"before":      orZero(before),
			"after":       orZero(after),
			"created":     created,
			"deleted":     deleted,
			"forced":      forced,
			"base_ref":    nil,
			"compare":     compare,
			"commits":     list,
			"head_commit": head,
			"repository":  repository,
			"pusher":      object{"name": pusher.Login, "email": pusher.gitEmail()},
			"sender":      s.userHookJSON(pusher),
		}, nil
	})
}

func orZero(sha string) string {
	if sha == "" {
		return zeroSHA
	}
	return sha
}

func short(sha string) string { return sha[:min(len(sha), 12)] }

// commitsNotIn lists the commits reachable from head and from none of
// exclude, oldest first.
func (s *Server) commitsNotIn(r *repo, head string, exclude []string) ([]commitInfo, error) {
	if len(exclude) == 0 {
		return s.git.log(r.dir, "", head)
	}
	// git log ^a ^b head: log takes one base; fold the others in as extra bases.
	base := exclude[0]
	out, err := s.git.log(r.dir, base, head)
	if err != nil {
		return nil, err
	}
	for _, x := range exclude[1:] {
		out = slices.DeleteFunc(out, func(ci commitInfo) bool {
			in, err := s.git.isAncestor(r.dir, ci.SHA, x)
			return err == nil && in
		})
	}
	return out, nil
}

// pushCommitJSON is a commit as push events list it, with the files it
// added, removed and modified.
func (s *Server) pushCommitJSON(r *repo, ci commitInfo) (object, error) {
	args := []string{"diff-tree", "--no-commit-id", "--name-status", "-r", "-z", "--root", ci.SHA}
	out, err := s.git.run(r.dir, nil, nil, args...)
	if err != nil {
		return nil, err
	}
	added, removed, modified := []any{}, []any{}, []any{}
	fields := strings.Split(strings.TrimRight(out, "\x00"), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		switch fields[i][:1] {
		case "A":
			added = append(added, fields[i+1])
		case "D":
			removed = append(removed, fields[i+1])
		default:
			modified = append(modified, fields[i+1])
		}
	}
	person := func(id identity) object {
		m := object{"name": id.Name, "email": id.Email}
		if u := s.userByEmail(id.Email); u != nil {
			m["username"] = u.Login
		}
		return m
	}
	return object{
		"id":        ci.SHA,
		"tree_id":   ci.Tree,
		"distinct":  true,
		"message":   strings.TrimRight(ci.Message, "\n"),
		"timestamp": timeJSON(ci.Committer.When),
		"url":       s.htmlURL(r.owner.Login, r.spec.Name, "commit", ci.SHA),
		"author":    person(ci.Author),
		"committer": person(ci.Committer),
		"added":     added,
		"removed":   removed,
		"modified":  modified,
	}, nil
}

package azdo

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/build"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/redact"
	"github.com/maestroplusplus/maestro/internal/repourl"
)

// PullRequestBuild is what a pull request build (build reason pullRequest)
// says about its pull request, read back from the Builds API: what the
// build's job sees as SYSTEM_PULLREQUEST_* and what `maestro publish
// --speculative --pull-request URL` takes.
type PullRequestBuild struct {
	// URL is the pull request's web URL: https://{host}/{owner}/{repo}/pull/{n}
	// for a GitHub repository, {repository}/pullrequest/{n} for Azure Repos.
	URL    string
	Number int
	// HeadCommit is the pull request's head (source) commit the build was
	// made for; the build's sourceVersion is the merge commit of it into
	// the target branch.
	HeadCommit string
	// TargetBranch is the branch the pull request merges into, without
	// refs/heads/; "" when the build does not say.
	TargetBranch string
}

// IsPullRequestBuild reports whether b was started by a pull request.
func IsPullRequestBuild(b *build.Build) bool {
	return b.Reason != nil && *b.Reason == build.BuildReasonValues.PullRequest
}

// pullRef is the ref a pull request build builds: refs/pull/{n}/merge (or
// /head).
var pullRef = regexp.MustCompile(`^refs/pull/([1-9][0-9]*)/(merge|head)$`)

// PullRequestOf reads a pull request build's pull request from the build:
// the number from triggerInfo pr.number (else the parameters'
// system.pullRequest.pullRequestNumber, or for Azure Repos
// system.pullRequest.pullRequestId, else the refs/pull/{n}/merge source
// branch), the head commit from triggerInfo pr.sourceSha (else
// system.pullRequest.sourceCommitId), the target branch from
// system.pullRequest.targetBranch, and the URL from the build's repository
// (type GitHub, GitHubEnterprise or TfsGit) and the number. What it cannot
// read is a KindInvalid error naming the field.
func PullRequestOf(b *build.Build) (PullRequestBuild, error) {
	var pr PullRequestBuild
	info := map[string]string{}
	if b.TriggerInfo != nil {
		info = *b.TriggerInfo
	}
	params := map[string]string{}
	if b.Parameters != nil && strings.TrimSpace(*b.Parameters) != "" {
		// The parameters are a JSON object of strings; one that is not
		// (a value of another type) gives nothing from here.
		_ = json.Unmarshal([]byte(*b.Parameters), &params)
	}
	repoType := ""
	if b.Repository != nil {
		repoType = derefString(b.Repository.Type)
	}
	id := strconv.Itoa(derefInt(b.Id))
	number := func(field, v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return 0, maestro.Errorf(maestro.KindInvalid, "build %s: %s %q is not a pull request number", id, field, v)
		}
		return n, nil
	}
	var err error
	switch {
	case info["pr.number"] != "":
		pr.Number, err = number("triggerInfo pr.number", info["pr.number"])
	case params["system.pullRequest.pullRequestNumber"] != "":
		pr.Number, err = number("parameter system.pullRequest.pullRequestNumber", params["system.pullRequest.pullRequestNumber"])
	case strings.EqualFold(repoType, "TfsGit") && params["system.pullRequest.pullRequestId"] != "":
		// On GitHub this is the pull request's node id, not its number.
		pr.Number, err = number("parameter system.pullRequest.pullRequestId", params["system.pullRequest.pullRequestId"])
	}
	if err != nil {
		return pr, err
	}
	m := pullRef.FindStringSubmatch(derefString(b.SourceBranch))
	if m != nil {
		n, _ := strconv.Atoi(m[1])
		if pr.Number == 0 {
			pr.Number = n
		} else if n != pr.Number {
			return pr, maestro.Errorf(maestro.KindInvalid, "build %s: sourceBranch %s and pull request number %d disagree", id, derefString(b.SourceBranch), pr.Number)
		}
	}
	if pr.Number == 0 {
		return pr, maestro.Errorf(maestro.KindInvalid, "build %s names no pull request (triggerInfo pr.number, parameters system.pullRequest.pullRequestNumber, sourceBranch refs/pull/{n}/merge)", id)
	}
	pr.HeadCommit = strings.ToLower(strings.TrimSpace(info["pr.sourceSha"]))
	if pr.HeadCommit == "" {
		pr.HeadCommit = strings.ToLower(strings.TrimSpace(params["system.pullRequest.sourceCommitId"]))
	}
	if pr.HeadCommit == "" {
		return pr, maestro.Errorf(maestro.KindInvalid, "build %s of pull request %d names no head commit (triggerInfo pr.sourceSha, parameters system.pullRequest.sourceCommitId)", id, pr.Number)
	}
	pr.TargetBranch = strings.TrimPrefix(strings.TrimSpace(params["system.pullRequest.targetBranch"]), "refs/heads/")
	if pr.URL, err = pullRequestURL(b, repoType, pr.Number); err != nil {
		return pr, err
	}
	if _, _, err := repourl.PullRequest(pr.URL); err != nil {
		return pr, maestro.Errorf(maestro.KindInvalid, "build %s: %v", id, err)
	}
	return pr, nil
}

// pullRequestURL is the web URL of pull request n of b's repository.
func pullRequestURL(b *build.Build, repoType string, n int) (string, error) {
	id := strconv.Itoa(derefInt(b.Id))
	raw := ""
	if b.Repository != nil {
		raw = derefString(b.Repository.Url)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		if strings.EqualFold(repoType, "GitHub") && b.Repository != nil && strings.Count(derefString(b.Repository.Id), "/") == 1 {
			return "https://github.com/" + derefString(b.Repository.Id) + "/pull/" + strconv.Itoa(n), nil
		}
		return "", maestro.Errorf(maestro.KindInvalid, "build %s: repository.url %q is not the repository's http(s) URL", id, redact.String(raw))
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	if (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80") {
		u.Host = u.Hostname()
	}
	base := strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), ".git")
	switch strings.ToLower(repoType) {
	case "github", "githubenterprise":
		return base + "/pull/" + strconv.Itoa(n), nil
	case "tfsgit":
		return base + "/pullrequest/" + strconv.Itoa(n), nil
	}
	return "", maestro.Errorf(maestro.KindInvalid, "build %s: repository type %q: maestro knows the pull requests of GitHub and Azure Repos (TfsGit) repositories only", id, repoType)
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

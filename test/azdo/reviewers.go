package azdo

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/microsoft/azure-devops-go-api/azuredevops/v7/git"
)

// votes are the values a reviewer's vote may take: 10 approved, 5 approved
// with suggestions, 0 no vote, -5 waiting for author, -10 rejected.
var votes = map[int]bool{10: true, 5: true, 0: true, -5: true, -10: true}

// handleCreatePRReviewer serves PUT
// .../pullRequests/{pullRequestId}/reviewers/{reviewerId} (Pull Request
// Reviewers - Create Pull Request Reviewer): "Add a reviewer to a pull
// request or cast a vote." As the service documents, an ID in the body must
// match {reviewerId}, reviewers set their own vote with it, and a reviewer
// added by someone else gets no vote (a vote other than 0 is refused). The
// reviewer's entry is answered 200 and shows in the pull request's
// reviewers.
func handleCreatePRReviewer(c *call) (int, any, error) {
	var body git.IdentityRefWithVote
	if !c.decode(&body) {
		return 0, nil, argumentNull("reviewer")
	}
	pr, err := c.pullRequestOf()
	if err != nil {
		return 0, nil, err
	}
	id, err := uuid.Parse(c.values["reviewerId"])
	if err != nil {
		return 0, nil, badRequest("The identity '%s' is not valid.", c.values["reviewerId"])
	}
	if body.Id != nil && *body.Id != "" && !strings.EqualFold(*body.Id, id.String()) {
		return 0, nil, badRequest("The reviewer ID in the body must match the reviewer ID of the request.")
	}
	vote := 0
	if body.Vote != nil {
		vote = *body.Vote
	}
	if !votes[vote] {
		return 0, nil, badRequest("The vote %d is not valid; use 10, 5, 0, -5 or -10.", vote)
	}
	if id != c.who.Identity.ID && vote != 0 {
		return 0, nil, badRequest("When adding other reviewers, vote must be set to zero.")
	}
	if pr.status != git.PullRequestStatusValues.Active {
		return 0, nil, badRequest("The pull request %d is not active; its reviewers cannot change.", pr.id)
	}
	entry := git.IdentityRefWithVote{Id: ptr(id.String()), Vote: ptr(vote), IsRequired: ptr(body.IsRequired != nil && *body.IsRequired),
		HasDeclined: ptr(false), IsFlagged: ptr(false),
		ReviewerUrl: ptr(pr.repo.apiURL() + "/pullRequests/" + strconv.Itoa(pr.id) + "/reviewers/" + id.String())}
	if id == c.who.Identity.ID {
		ref := c.s.identityRef(c.who.Identity)
		entry.DisplayName, entry.UniqueName, entry.Url, entry.ImageUrl, entry.Descriptor = ref.DisplayName, ref.UniqueName, ref.Url, ref.ImageUrl, ref.Descriptor
	}
	for i, rv := range pr.reviewers {
		if strings.EqualFold(deref(rv.Id), id.String()) {
			if body.IsRequired == nil {
				entry.IsRequired = rv.IsRequired
			}
			if entry.DisplayName == nil {
				entry.DisplayName, entry.UniqueName, entry.Url, entry.ImageUrl, entry.Descriptor = rv.DisplayName, rv.UniqueName, rv.Url, rv.ImageUrl, rv.Descriptor
			}
			pr.reviewers[i] = entry
			return http.StatusOK, entry, nil
		}
	}
	pr.reviewers = append(pr.reviewers, entry)
	return http.StatusOK, entry, nil
}

package azdo

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is an error the service reports as a WrappedError body:
//
//	{"$id":"1","innerException":null,"message":"...","typeName":"...",
//	 "typeKey":"...","errorCode":0,"eventId":3000}
//
// which azuredevops.Client.UnwrapError decodes into azuredevops.WrappedError.
type apiError struct {
	status  int
	typeKey string
	message string
	custom  map[string]any
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.typeKey, e.message)
}

// typeNames are the assembly-qualified .NET type names the service reports
// next to each typeKey.
var typeNames = map[string]string{
	"ArgumentException":                            "System.ArgumentException, mscorlib",
	"ArgumentNullException":                        "System.ArgumentNullException, mscorlib",
	"NotSupportedException":                        "System.NotSupportedException, mscorlib",
	"HttpException":                                "System.Web.HttpException, System.Web",
	"UnauthorizedRequestException":                 "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server",
	"ProjectDoesNotExistWithNameException":         "Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistWithNameException, Microsoft.TeamFoundation.Core.WebApi",
	"ProjectDoesNotExistException":                 "Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistException, Microsoft.TeamFoundation.Core.WebApi",
	"VssVersionNotSpecifiedException":              "Microsoft.VisualStudio.Services.WebApi.VssVersionNotSpecifiedException, Microsoft.VisualStudio.Services.WebApi",
	"VssVersionOutOfRangeException":                "Microsoft.VisualStudio.Services.WebApi.VssVersionOutOfRangeException, Microsoft.VisualStudio.Services.WebApi",
	"VssInvalidPreviewVersionException":            "Microsoft.VisualStudio.Services.WebApi.VssInvalidPreviewVersionException, Microsoft.VisualStudio.Services.WebApi",
	"VssVersionNotParseableException":              "Microsoft.VisualStudio.Services.WebApi.VssVersionNotParseableException, Microsoft.VisualStudio.Services.WebApi",
	"InvalidArgumentValueException":                "Microsoft.TeamFoundation.SourceControl.WebServer.InvalidArgumentValueException, Microsoft.TeamFoundation.SourceControl.WebServer",
	"GitRepositoryNotFoundException":               "Microsoft.TeamFoundation.Git.Server.GitRepositoryNotFoundException, Microsoft.TeamFoundation.Git.Server",
	"GitPullRequestNotFoundException":              "Microsoft.TeamFoundation.Git.Server.GitPullRequestNotFoundException, Microsoft.TeamFoundation.Git.Server",
	"GitPullRequestExistsException":                "Microsoft.TeamFoundation.Git.Server.GitPullRequestExistsException, Microsoft.TeamFoundation.Git.Server",
	"GitPullRequestNotEditableException":           "Microsoft.TeamFoundation.Git.Server.GitPullRequestNotEditableException, Microsoft.TeamFoundation.Git.Server",
	"GitPullRequestStaleException":                 "Microsoft.TeamFoundation.Git.Server.GitPullRequestStaleException, Microsoft.TeamFoundation.Git.Server",
	"GitPullRequestCannotBeActivated":              "Microsoft.TeamFoundation.Git.Server.GitPullRequestCannotBeActivated, Microsoft.TeamFoundation.Git.Server",
	"GitPullRequestCommentThreadCreateIdException": "Microsoft.TeamFoundation.Git.Server.GitPullRequestCommentThreadCreateIdException, Microsoft.TeamFoundation.Git.Server",
	"GitPullRequestCommentThreadNotFoundException": "Microsoft.TeamFoundation.Git.Server.GitPullRequestCommentThreadNotFoundException, Microsoft.TeamFoundation.Git.Server",
	"GitPullRequestIterationNotFoundException":     "Microsoft.TeamFoundation.Git.Server.GitPullRequestIterationNotFoundException, Microsoft.TeamFoundation.Git.Server",
	"GitReferenceStaleException":                   "Microsoft.TeamFoundation.Git.Server.GitReferenceStaleException, Microsoft.TeamFoundation.Git.Server",
	"GitCommitDoesNotExistException":               "Microsoft.TeamFoundation.Git.Server.GitCommitDoesNotExistException, Microsoft.TeamFoundation.Git.Server",
	"PipelineNotFoundException":                    "Microsoft.Azure.Pipelines.WebApi.PipelineNotFoundException, Microsoft.Azure.Pipelines.WebApi",
	"PipelineValidationException":                  "Microsoft.Azure.Pipelines.WebApi.PipelineValidationException, Microsoft.Azure.Pipelines.WebApi",
	"PipelineRunNotFoundException":                 "Microsoft.Azure.Pipelines.WebApi.PipelineRunNotFoundException, Microsoft.Azure.Pipelines.WebApi",
	"DefinitionNotFoundException":                  "Microsoft.TeamFoundation.Build.WebApi.DefinitionNotFoundException, Microsoft.TeamFoundation.Build2.WebApi",
	"BuildNotFoundException":                       "Microsoft.TeamFoundation.Build.WebApi.BuildNotFoundException, Microsoft.TeamFoundation.Build2.WebApi",
	"ArtifactNotFoundException":                    "Microsoft.TeamFoundation.Build.WebApi.ArtifactNotFoundException, Microsoft.TeamFoundation.Build2.WebApi",
	"BuildRequestValidationFailedException":        "Microsoft.TeamFoundation.Build.WebApi.BuildRequestValidationFailedException, Microsoft.TeamFoundation.Build2.WebApi",
	"PolicyEvaluationNotFoundException":            "Microsoft.TeamFoundation.Policy.WebApi.PolicyEvaluationNotFoundException, Microsoft.TeamFoundation.Policy.WebApi",
}

func newError(status int, typeKey, format string, args ...any) *apiError {
	return &apiError{status: status, typeKey: typeKey, message: fmt.Sprintf(format, args...)}
}

// badRequest is the InvalidArgumentValueException the git controllers throw
// for a request that breaks one of their rules.
func badRequest(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "InvalidArgumentValueException", format, args...)
}

// argumentNull is .NET's ArgumentNullException, which the service reports
// with the CLR's own message.
func argumentNull(param string) *apiError {
	return newError(http.StatusBadRequest, "ArgumentNullException", "Value cannot be null.\r\nParameter name: %s", param)
}

func projectNotFound(name string) *apiError {
	return newError(http.StatusNotFound, "ProjectDoesNotExistWithNameException",
		"TF200016: The following project does not exist: %s. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.", name)
}

func repositoryNotFound(nameOrID string) *apiError {
	return newError(http.StatusNotFound, "GitRepositoryNotFoundException",
		"TF401019: The Git repository with name or identifier %s does not exist or you do not have permissions for the operation you are attempting.", nameOrID)
}

func pullRequestNotFound() *apiError {
	return newError(http.StatusNotFound, "GitPullRequestNotFoundException", "TF401180: The requested pull request was not found.")
}

// wrappedError is the body of an error response. innerException is always
// present (null), as the service writes it.
type wrappedError struct {
	ID               string         `json:"$id"`
	InnerException   *wrappedError  `json:"innerException"`
	Message          string         `json:"message"`
	TypeName         string         `json:"typeName"`
	TypeKey          string         `json:"typeKey"`
	ErrorCode        int            `json:"errorCode"`
	EventID          int            `json:"eventId"`
	CustomProperties map[string]any `json:"customProperties,omitempty"`
}

// writeError writes e as the service does: a WrappedError JSON body with the
// status code.
func writeError(w http.ResponseWriter, e *apiError) {
	body := wrappedError{
		ID:               "1",
		Message:          e.message,
		TypeName:         typeNames[e.typeKey],
		TypeKey:          e.typeKey,
		EventID:          3000,
		CustomProperties: e.custom,
	}
	data, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.status)
	w.Write(data)
}

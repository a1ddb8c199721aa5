package githubdouble

import (
	"net/http"
	"strconv"
)

// docsBase is where GitHub's error bodies point (documentation_url).
const docsBase = "https://docs.github.com/rest"

// apiError is an error response in GitHub's shape. It decodes into
// *github.ErrorResponse; it is a local type because github.Error has no
// omitempty tags, and GitHub leaves out the fields an error does not have.
type apiError struct {
	status  int
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
	DocURL  string       `json:"documentation_url,omitempty"`
	Status  string       `json:"status"`
}

// fieldError is one entry of an error's "errors" array.
type fieldError struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code,omitempty"`
	Message  string `json:"message,omitempty"`
	Value    any    `json:"value,omitempty"`
}

func newAPIError(status int, message, doc string) *apiError {
	return &apiError{status: status, Message: message, DocURL: doc, Status: strconv.Itoa(status)}
}

func notFound(doc string) *apiError { return newAPIError(http.StatusNotFound, "Not Found", doc) }

// stringErrors is the other 422 shape GitHub uses: "Unprocessable Entity"
// with plain strings in "errors" (go-github decodes them as Error.Message).
type stringErrors struct {
	Message string   `json:"message"`
	Errors  []string `json:"errors"`
	DocURL  string   `json:"documentation_url"`
	Status  string   `json:"status"`
}

func entityErrors(msg, doc string) stringErrors {
	return stringErrors{Message: "Unprocessable Entity", Errors: []string{msg}, DocURL: doc, Status: "422"}
}

// validationFailedSimple is the 422 of operations whose description gives
// validation_failed_simple: "Validation Failed" with plain strings in
// "errors" (branch protection, reviews).
func validationFailedSimple(msg, doc string) stringErrors {
	return stringErrors{Message: "Validation Failed", Errors: []string{msg}, DocURL: doc, Status: "422"}
}

// validationFailed is GitHub's 422 for a well-formed request that breaks a rule.
func validationFailed(doc string, errs ...fieldError) *apiError {
	e := newAPIError(http.StatusUnprocessableEntity, "Validation Failed", doc)
	e.Errors = errs
	return e
}

// unprocessable is a 422 whose message says it all ("Reference already exists").
func unprocessable(message, doc string) *apiError {
	return newAPIError(http.StatusUnprocessableEntity, message, doc)
}

// invalidRequest is GitHub's 422 for a body that does not match the
// operation's JSON schema.
func invalidRequest(detail, doc string) *apiError {
	return unprocessable("Invalid request.\n\n"+detail, doc)
}

// docURL is the documentation anchor of an operation, like
// "pulls/pulls#create-a-pull-request".
func docURL(anchor string) string { return docsBase + "/" + anchor }

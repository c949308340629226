package server

import (
	"fmt"
	"net/http"
)

// problem is an RFC 9457 problem detail. Handlers return it as an error for outcomes that
// the error handler renders; its text is meant for the client.
type problem struct {
	Status int          `json:"status"`
	Title  string       `json:"title"`
	Type   string       `json:"type"`
	Detail string       `json:"detail,omitempty"`
	Code   string       `json:"code,omitempty"`
	Errors []fieldError `json:"errors,omitempty"`
	// Header holds extra response headers (Retry-After).
	Header http.Header `json:"-"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Detail) }

func newProblem(status int, code, detail string) *problem {
	return &problem{Status: status, Title: http.StatusText(status), Type: "about:blank", Code: code, Detail: detail}
}

func notFound(what string) *problem {
	return newProblem(http.StatusNotFound, "not_found", what+" not found")
}

func conflict(detail string) *problem { return newProblem(http.StatusConflict, "conflict", detail) }

func unprocessable(code, detail string, fields ...fieldError) *problem {
	p := newProblem(http.StatusUnprocessableEntity, code, detail)
	p.Errors = fields
	return p
}

func forbidden(code, detail string) *problem { return newProblem(http.StatusForbidden, code, detail) }

// oauthError is an RFC 6749 §5.2 error. Its identity is the code; the description is for
// developers and never carries internals.
type oauthError struct {
	Status      int
	Code        string
	Description string
	// Header holds extra response headers (Retry-After, RateLimit-*).
	Header http.Header
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(status int, code, description string) *oauthError {
	return &oauthError{Status: status, Code: code, Description: description}
}

func invalidRequest(d string) *oauthError {
	return oauthErr(http.StatusBadRequest, "invalid_request", d)
}
func invalidScope(d string) *oauthError { return oauthErr(http.StatusBadRequest, "invalid_scope", d) }
func invalidClient() *oauthError {
	return oauthErr(http.StatusUnauthorized, "invalid_client", "client authentication failed")
}

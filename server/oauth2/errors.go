package oauth2

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Error is an RFC 6749 §5.2 error (and the RFC 6750 §3.1 codes of Bearer endpoints). Its
// identity is the code: errors.Is matches any two errors of one code. The values below are
// immutable; the With methods return changed copies. The description is for developers and
// never carries internals.
type Error struct {
	Status      int
	Code        string
	Description string
	// Header holds extra response headers (Retry-After, RateLimit-*, WWW-Authenticate).
	Header http.Header
}

// The errors of RFC 6749 §5.2, §4.1.2.1 and RFC 6750 §3.1 with their usual statuses.
var (
	ErrInvalidRequest         = &Error{Status: http.StatusBadRequest, Code: "invalid_request"}
	ErrInvalidClient          = &Error{Status: http.StatusUnauthorized, Code: "invalid_client", Description: "client authentication failed"}
	ErrInvalidGrant           = &Error{Status: http.StatusBadRequest, Code: "invalid_grant"}
	ErrUnauthorizedClient     = &Error{Status: http.StatusBadRequest, Code: "unauthorized_client"}
	ErrUnsupportedGrantType   = &Error{Status: http.StatusBadRequest, Code: "unsupported_grant_type"}
	ErrInvalidScope           = &Error{Status: http.StatusBadRequest, Code: "invalid_scope"}
	ErrTemporarilyUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable"}
	ErrServerError            = &Error{Status: http.StatusInternalServerError, Code: "server_error", Description: "internal error"}
	ErrInvalidToken           = &Error{Status: http.StatusUnauthorized, Code: "invalid_token"}
	ErrInsufficientScope      = &Error{Status: http.StatusForbidden, Code: "insufficient_scope"}
)

// RepeatedUnknown stands for a repeated parameter the document does not define: an error
// description names only the document's parameters, never a name the client made up.
const RepeatedUnknown = "\x00unknown"

func (e *Error) Error() string { return e.Code + ": " + e.Description }

// Is matches errors of the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func (e *Error) clone() *Error {
	c := *e
	if e.Header != nil {
		c.Header = e.Header.Clone()
	}
	return &c
}

// WithDescription returns a copy with the description.
func (e *Error) WithDescription(d string) *Error {
	c := e.clone()
	c.Description = d
	return c
}

// WithStatus returns a copy answering with status.
func (e *Error) WithStatus(status int) *Error {
	c := e.clone()
	c.Status = status
	return c
}

// WithHeader returns a copy that also sends the header.
func (e *Error) WithHeader(name, value string) *Error {
	c := e.clone()
	if c.Header == nil {
		c.Header = http.Header{}
	}
	c.Header.Set(name, value)
	return c
}

// WithHeaders returns a copy that also sends the headers.
func (e *Error) WithHeaders(h http.Header) *Error {
	c := e.clone()
	if c.Header == nil {
		c.Header = http.Header{}
	}
	for k, v := range h {
		c.Header[k] = v
	}
	return c
}

// InvalidRequest is ErrInvalidRequest with a description, the most common case.
func InvalidRequest(d string) *Error { return ErrInvalidRequest.WithDescription(d) }

// InvalidGrant is ErrInvalidGrant with a description.
func InvalidGrant(d string) *Error { return ErrInvalidGrant.WithDescription(d) }

// UnauthorizedClient is ErrUnauthorizedClient with a description.
func UnauthorizedClient(d string) *Error { return ErrUnauthorizedClient.WithDescription(d) }

// InvalidScope is ErrInvalidScope with a description.
func InvalidScope(d string) *Error { return ErrInvalidScope.WithDescription(d) }

// RetryLater is temporarily_unavailable with status (429 or 503) and Retry-After.
func RetryLater(status int, retryAfter, d string) *Error {
	return ErrTemporarilyUnavailable.WithStatus(status).WithDescription(d).WithHeader("Retry-After", retryAfter)
}

// Write sends e as RFC 6749 §5.2 JSON, never cached, in answer to r. A 401 carries the
// challenge e brings: the Bearer endpoints set theirs (RFC 6750 §3: the scheme the resource
// expects, with error="invalid_token"); any other 401 is a failed client authentication and
// gets the Basic challenge (RFC 6749 §5.2: required when the client used Basic) — except
// for a script in a browser (X-Requested-With: XMLHttpRequest, as Swagger UI's Authorize
// sends): a browser answers a Basic challenge with a login prompt of its own, and the script
// never sees the error it should show.
func Write(w http.ResponseWriter, r *http.Request, e *Error) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	for k, v := range e.Header {
		h[k] = v
	}
	if e.Status == http.StatusUnauthorized && e.Header.Get("WWW-Authenticate") == "" &&
		r.Header.Get("X-Requested-With") != "XMLHttpRequest" {
		h.Set("WWW-Authenticate", `Basic realm="twinid"`)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": e.Code, "error_description": CleanMessage(e.Description)})
}

// CleanMessage keeps only the characters RFC 6749 §5.2 allows in error_description
// (%x20-21 / %x23-5B / %x5D-7E: printable ASCII without '"' and '\'), dropping the rest.
func CleanMessage(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

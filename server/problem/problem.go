package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/twinid/twinid/server/passwords"
)

// Problem is an RFC 9457 problem detail. Handlers return it as an error for outcomes the
// error handler renders; its text is meant for the client.
type Problem struct {
	Status int          `json:"status"`
	Title  string       `json:"title"`
	Type   string       `json:"type"`
	Detail string       `json:"detail,omitempty"`
	Code   string       `json:"code,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
	// Header holds extra response headers (Retry-After).
	Header http.Header `json:"-"`
}

// FieldError names one field of the request and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Detail) }

// New returns a problem of status with a machine-readable code and a detail for people.
func New(status int, code, detail string) *Problem {
	return &Problem{Status: status, Title: http.StatusText(status), Type: "about:blank", Code: code, Detail: detail}
}

// NotFound: "<what> not found".
func NotFound(what string) *Problem {
	return New(http.StatusNotFound, "not_found", what+" not found")
}

// Conflict is a 409 with code conflict.
func Conflict(detail string) *Problem { return New(http.StatusConflict, "conflict", detail) }

// Unprocessable is a 422 with per-field messages.
func Unprocessable(code, detail string, fields ...FieldError) *Problem {
	p := New(http.StatusUnprocessableEntity, code, detail)
	p.Errors = fields
	return p
}

// Forbidden is a 403 with code.
func Forbidden(code, detail string) *Problem { return New(http.StatusForbidden, code, detail) }

// BadField is a 422 naming one field.
func BadField(code, field, msg string) *Problem {
	return Unprocessable(code, field+": "+msg, FieldError{Field: field, Message: msg})
}

// InUse is a problem of status naming the one field whose value is already taken.
func InUse(status int, code, detail, field string) *Problem {
	p := New(status, code, detail)
	p.Errors = []FieldError{{Field: field, Message: "already in use"}}
	return p
}

// InvalidToken is the 401 of a missing, malformed or rejected Bearer token (RFC 6750 §3.1).
func InvalidToken(detail string) *Problem {
	return New(http.StatusUnauthorized, "invalid_token", detail)
}

// BodyTooLarge is the 413 of a body over the limit.
func BodyTooLarge() *Problem {
	return New(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over 1 MiB")
}

// Write sends p as application/problem+json with its headers and the RFC 6750
// WWW-Authenticate challenge of 401 and insufficient_scope answers; a HEAD request gets the
// status and headers only.
func Write(w http.ResponseWriter, head bool, p *Problem) {
	h := w.Header()
	for k, v := range p.Header {
		h[k] = v
	}
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="twinid"`)
		if p.Code == "invalid_token" {
			h.Set("WWW-Authenticate", `Bearer realm="twinid", error="invalid_token"`)
		}
	}
	if p.Status == http.StatusForbidden && p.Code == "insufficient_scope" {
		h.Set("WWW-Authenticate", `Bearer realm="twinid", error="insufficient_scope"`)
	}
	if head {
		w.WriteHeader(p.Status)
		return
	}
	body, _ := json.Marshal(p)
	h.Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}

// Password words a refused password hash (passwords.Check, or the hashing pool) as the
// problem of field: the policy's message as a 422, a full pool as a 503 to retry; other
// errors pass through.
func Password(err error, field string) error {
	var pe *passwords.PolicyError
	switch {
	case errors.As(err, &pe):
		return BadField(pe.Code, field, pe.Message)
	case errors.Is(err, passwords.ErrBusy):
		p := New(http.StatusServiceUnavailable, "busy", "too many password operations at once; retry in a second")
		p.Header = http.Header{"Retry-After": {"1"}}
		return p
	}
	return err
}

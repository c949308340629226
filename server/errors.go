package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/store"
)

// retryAfterUnavailable is the Retry-After of a database outage: long enough not to hammer
// a database that is restarting, short enough for a failover.
const retryAfterUnavailable = "5"

// handleError is the one place errors become responses, in the dialect the document gives
// the endpoint: RFC 6749 JSON, an HTML page, or RFC 9457 problem+json. Internal errors are
// logged here, once, and never sent.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	switch s.dialects.of(c.Request().URL.Path) {
	case oauthDialect:
		oauth2.Write(c.Response(), c.Request(), s.toOAuthError(c, err))
	case pageDialect:
		s.writeErrorPage(c, err)
	default:
		problem.Write(c.Response(), c.Request().Method == http.MethodHead, s.toProblem(c, err))
	}
}

// unavailable reports a database outage (store.ErrUnavailable, wherever it is wrapped) or a
// request past its deadline (Config.RequestTimeout), and logs it once with its cause; the
// client hears only that it should retry.
func (s *Server) unavailable(c echo.Context, err error) bool {
	if !outOfService(err) {
		return false
	}
	cause := store.Cause(err)
	if cause == nil {
		cause = err
	}
	s.log.Warn("database unavailable", "err", cause, "path", c.Request().URL.Path,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	c.Response().Header().Set("Retry-After", retryAfterUnavailable)
	return true
}

// outOfService reports an error the client should retry later: the database is down or
// slow (store.ErrUnavailable), or the request's deadline passed in work that is not the
// store's (waiting for a password worker, say).
func outOfService(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// internal logs an unexpected error once, with the request id the client sees.
func (s *Server) internal(c echo.Context, err error) {
	s.log.Error("internal error", "err", err, "path", c.Request().URL.Path,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
}

func (s *Server) toProblem(c echo.Context, err error) *problem.Problem {
	if s.unavailable(c, err) {
		p := problem.New(http.StatusServiceUnavailable, "unavailable", "the service is temporarily unavailable; retry later")
		p.Header = http.Header{"Retry-After": {retryAfterUnavailable}}
		return p
	}
	var p *problem.Problem
	if errors.As(err, &p) {
		return p
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if errors.As(he.Internal, &p) {
			return p
		}
		if internalOf(he) {
			s.internal(c, err)
			return problem.New(http.StatusInternalServerError, "internal_error", "internal error; the request id is in X-Request-Id")
		}
		switch he.Code {
		case http.StatusBadRequest:
			return validationProblem(he)
		case http.StatusNotFound:
			return problem.New(http.StatusNotFound, "not_found", "no such endpoint")
		case http.StatusMethodNotAllowed:
			return problem.New(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this endpoint")
		case http.StatusRequestEntityTooLarge:
			return problem.New(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over 1 MiB")
		case http.StatusUnauthorized:
			return problem.New(http.StatusUnauthorized, "unauthorized", "a valid Bearer access token is required")
		case http.StatusForbidden:
			return problem.New(http.StatusForbidden, "forbidden", "forbidden")
		}
		if he.Code < 500 {
			return problem.New(he.Code, "error", http.StatusText(he.Code))
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return problem.New(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over 1 MiB")
	}
	s.internal(c, err)
	return problem.New(http.StatusInternalServerError, "internal_error", "internal error; the request id is in X-Request-Id")
}

// internalOf reports a server failure inside the validator's 400: authenticate words one as
// an *echo.HTTPError of 500, whose text must not become a field message.
func internalOf(he *echo.HTTPError) bool {
	var inner *echo.HTTPError
	return he.Code < 500 && errors.As(he.Internal, &inner) && inner.Code >= 500
}

// validationProblem turns the validator's errors into per-field messages.
func validationProblem(he *echo.HTTPError) *problem.Problem {
	p := problem.New(http.StatusBadRequest, "validation_failed", "the request does not match the API")
	var fields []problem.FieldError
	var walk func(err error)
	walk = func(err error) {
		// A parameter's error first: it wraps the MultiError of its schema's errors, whose
		// walk would word them as the body's.
		if re, ok := err.(*openapi3filter.RequestError); ok && re.Parameter != nil {
			fields = append(fields, problem.FieldError{Field: re.Parameter.Name, Message: messageOf(re)})
			return
		}
		var me openapi3.MultiError
		if errors.As(err, &me) {
			for _, e := range me {
				walk(e)
			}
			return
		}
		var re *openapi3filter.RequestError
		if errors.As(err, &re) {
			if strings.HasPrefix(re.Reason, "header Content-Type has unexpected value") {
				p.Status, p.Title, p.Code = http.StatusUnsupportedMediaType, http.StatusText(http.StatusUnsupportedMediaType), "unsupported_media_type"
				p.Detail = "the body must be application/json"
				return
			}
			if re.Parameter != nil {
				fields = append(fields, problem.FieldError{Field: re.Parameter.Name, Message: messageOf(re)})
				return
			}
			var se *openapi3.SchemaError
			if errors.As(re.Err, &se) {
				fields = append(fields, problem.FieldError{Field: pointerField(se.JSONPointer()), Message: se.Reason})
				return
			}
			if re.Err != nil {
				var inner openapi3.MultiError
				if errors.As(re.Err, &inner) {
					walk(inner)
					return
				}
			}
			fields = append(fields, problem.FieldError{Field: "body", Message: messageOf(re)})
			return
		}
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			fields = append(fields, problem.FieldError{Field: pointerField(se.JSONPointer()), Message: se.Reason})
			return
		}
		fields = append(fields, problem.FieldError{Field: "request", Message: firstLine(err.Error())})
	}
	if he.Internal != nil {
		walk(he.Internal)
	} else {
		fields = append(fields, problem.FieldError{Field: "request", Message: fmt.Sprint(he.Message)})
	}
	if p.Status == http.StatusBadRequest {
		p.Errors = fields
	}
	return p
}

func messageOf(re *openapi3filter.RequestError) string {
	if re.Err != nil {
		var se *openapi3.SchemaError
		if errors.As(re.Err, &se) {
			return se.Reason
		}
		return firstLine(re.Err.Error())
	}
	return re.Reason
}

func pointerField(ptr []string) string {
	if len(ptr) == 0 {
		return "body"
	}
	var b strings.Builder
	for i, p := range ptr {
		if p != "" && p[0] >= '0' && p[0] <= '9' {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// toOAuthError turns any error on a protocol endpoint into an RFC 6749 error.
func (s *Server) toOAuthError(c echo.Context, err error) *oauth2.Error {
	if s.unavailable(c, err) {
		return oauth2.RetryLater(http.StatusServiceUnavailable, retryAfterUnavailable,
			"the service is temporarily unavailable; retry later")
	}
	var oe *oauth2.Error
	if errors.As(err, &oe) {
		return oe
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if errors.As(he.Internal, &oe) {
			return oe
		}
		switch {
		case internalOf(he):
			// A server failure: server_error below.
		case he.Code == http.StatusNotFound:
			return oauth2.InvalidRequest("no such endpoint").WithStatus(http.StatusNotFound)
		case he.Code == http.StatusMethodNotAllowed:
			return oauth2.InvalidRequest("use POST").WithStatus(http.StatusMethodNotAllowed)
		case he.Code == http.StatusRequestEntityTooLarge:
			return oauth2.InvalidRequest("the request body is too large").WithStatus(http.StatusRequestEntityTooLarge)
		case he.Code < 500:
			// The description names a parameter only when the document defines it, and
			// never carries the binder's message: that can quote what the client sent, and
			// error_description is for the server's words (RFC 6749 §5.2).
			p := validationProblem(he)
			d := "the request is malformed"
			if len(p.Errors) > 0 {
				if _, known := s.dialects.paramLimits[p.Errors[0].Field]; known {
					d = "parameter " + p.Errors[0].Field + " is invalid"
				}
			} else if p.Detail != "" {
				d = p.Detail
			}
			return oauth2.InvalidRequest(d)
		}
	}
	s.internal(c, err)
	return oauth2.ErrServerError
}

// writeErrorPage answers a browser endpoint's error as a page: the message is escaped, and
// internal errors show only the request id.
func (s *Server) writeErrorPage(c echo.Context, err error) {
	status, msg := http.StatusBadRequest, "The request could not be processed."
	var pe *page.Error
	var he *echo.HTTPError
	switch {
	case s.unavailable(c, err):
		status, msg = http.StatusServiceUnavailable, "The service is temporarily unavailable. Try again in a moment."
	case errors.As(err, &pe):
		status, msg = pe.Status, pe.Message
	case errors.As(err, &he) && he.Code < 500:
		status = he.Code
		if he.Code == http.StatusNotFound {
			msg = "There is no such page."
		}
	default:
		s.internal(c, err)
		status, msg = http.StatusInternalServerError, "Something went wrong. Request id: "+c.Response().Header().Get(echo.HeaderXRequestID)
	}
	body, rerr := page.Render("message", page.Data{Title: "Sign-in problem", Account: "twinid", Message: dropControls(msg)})
	if rerr != nil {
		_ = c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	_ = c.HTMLBlob(status, body)
}

// dropControls removes control characters from a page's message (the template escapes the
// rest); error_description's narrower RFC 6749 §5.2 set is oauth2.CleanMessage's.
func dropControls(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

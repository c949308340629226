package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	echomw "github.com/oapi-codegen/echo-middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/openapi"
	swaggerui "github.com/twinid/twinid/swagger-ui"
)

const maxBodyBytes = 1 << 20

// routes wires Echo: middleware, the generated handlers behind the OpenAPI validator, and
// the non-API endpoints (OpenAPI document, Swagger UI, metrics) beside it.
func (s *Server) routes() (*echo.Echo, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	// The peer address only; X-Forwarded-For is trusted once trusted proxies are configured.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(s.cfg.TrustedProxies) > 0 {
		// Echo trusts loopback and private ranges by default; trust exactly the configured ones.
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range s.cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}

	spec, err := gen.GetSpec()
	if err != nil {
		return nil, err
	}
	// servers: [{url: /}] would make the validator check Host; drop it for validation only.
	spec.Servers = nil
	specJSON, err := gen.GetSpecJSON()
	if err != nil {
		return nil, err
	}

	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		Generator: newJTI,
	}))
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			return err
		},
	}))
	e.Use(secureHeaders)
	if s.paramLimits, err = protocolParamLimits(spec); err != nil {
		return nil, err
	}
	// The API group: what the document describes under /v1 passes the body limits, the
	// principal holder and the validator; /healthz, /readyz, Swagger UI and the document
	// itself stay outside it.
	v1 := e.Group("/v1", s.prepare, echomw.OapiRequestValidatorWithOptions(spec, &echomw.Options{
		Skipper:               skipValidation,
		SilenceServersWarning: true,
		ErrorHandler: func(c echo.Context, err *echo.HTTPError) error {
			return err
		},
		MultiErrorHandler: func(me openapi3.MultiError) *echo.HTTPError {
			return &echo.HTTPError{Code: http.StatusBadRequest, Message: "invalid request", Internal: me}
		},
		Options: openapi3filter.Options{
			AuthenticationFunc: s.authenticate,
			MultiError:         true,
			// The generated handlers bind the value the validator decoded: one decode per body.
			KeepValidatedValue: true,
		},
	}))
	gen.RegisterHandlers(splitRouter{root: e, v1: v1}, gen.NewStrictHandler(s, nil))

	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", openapi.YAML)
	})
	e.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, specJSON)
	})
	// Only the management scope is preselected: Swagger UI sends the preselected scopes with
	// every flow, and a service account holds no OpenID scopes.
	ui := echo.WrapHandler(swaggerui.Handler(swaggerui.Config{Scopes: []string{scopeManage}}))
	e.GET("/swagger", ui)
	e.GET("/swagger/*", ui)
	e.HEAD("/swagger/*", ui)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})))
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/swagger/") })
	return e, nil
}

// splitRouter registers the document's /v1 operations on the API group and the rest
// (/healthz, /readyz) on the root.
type splitRouter struct {
	root *echo.Echo
	v1   *echo.Group
}

func (r splitRouter) add(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	if rest, ok := strings.CutPrefix(path, "/v1/"); ok {
		return r.v1.Add(method, "/"+rest, h, m...)
	}
	return r.root.Add(method, path, h, m...)
}

func (r splitRouter) CONNECT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodConnect, p, h, m...)
}
func (r splitRouter) DELETE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodDelete, p, h, m...)
}
func (r splitRouter) GET(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodGet, p, h, m...)
}
func (r splitRouter) HEAD(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodHead, p, h, m...)
}
func (r splitRouter) OPTIONS(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodOptions, p, h, m...)
}
func (r splitRouter) PATCH(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPatch, p, h, m...)
}
func (r splitRouter) POST(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPost, p, h, m...)
}
func (r splitRouter) PUT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPut, p, h, m...)
}
func (r splitRouter) TRACE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodTrace, p, h, m...)
}

// skipValidation keeps the validator off everything that is not in the API document, and
// off the protocol endpoints: readOAuthParams checks their bodies against the same document
// (protocolParamLimits) and answers in RFC 6749 form, at a fraction of the cost on the
// hottest path.
func skipValidation(c echo.Context) bool {
	p := c.Request().URL.Path
	return !strings.HasPrefix(p, "/v1/") || isProtocolPath(p) || isPagePath(p)
}

// isPagePath: browser endpoints that answer with HTML pages or redirects, never JSON.
func isPagePath(p string) bool { return isAccountPath(p, pageSuffixes) }

// isAccountPath: p is /v1/accounts/{aid} followed by exactly one of suffixes.
func isAccountPath(p string, suffixes []string) bool {
	if !strings.HasPrefix(p, "/v1/accounts/") {
		return false
	}
	for _, suffix := range suffixes {
		if strings.HasSuffix(p, suffix) && strings.Count(p, "/") == 3+strings.Count(suffix, "/") {
			return true
		}
	}
	return false
}

var pageSuffixes = []string{"/auth/authorize", "/auth/login", "/auth/logout", "/auth/forgot-password", "/auth/reset-password", "/auth/accept-invitation", "/auth/oidc/authorize"}

// protocolParamLimits reads the maximum length of every protocol parameter from the OpenAPI
// document's request schemas of the protocol endpoints.
func protocolParamLimits(spec *openapi3.T) (map[string]int, error) {
	limits := map[string]int{}
	for _, schema := range []string{"TokenRequest", "RevokeRequest", "CustomerLoginRequest", "ChangePasswordRequest", "UpstreamLoginRequest"} {
		ref := spec.Components.Schemas[schema]
		if ref == nil || ref.Value == nil {
			return nil, errors.New("openapi: no " + schema + " schema")
		}
		for name, prop := range ref.Value.Properties {
			if prop.Value == nil || prop.Value.MaxLength == nil {
				return nil, fmt.Errorf("openapi: %s.%s has no maxLength", schema, name)
			}
			if l, ok := limits[name]; !ok || int(*prop.Value.MaxLength) > l {
				limits[name] = int(*prop.Value.MaxLength)
			}
		}
	}
	return limits, nil
}

// isProtocolPath: endpoints that speak RFC 6749 errors, never problem+json.
func isProtocolPath(p string) bool { return isAccountPath(p, protocolSuffixes) }

var protocolSuffixes = []string{"/auth/token", "/auth/revoke", "/auth/introspect", "/customers/login", "/customers/change_password", "/userinfo", "/auth/oidc/token"}

// observe logs one line per request (no query strings, no headers: they may carry secrets)
// and records metrics.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.metrics.observe(c, start)
		status := c.Response().Status
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if s.log.Enabled(c.Request().Context(), level) {
			s.log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", c.Request().Method),
				slog.String("path", c.Request().URL.Path),
				slog.Int("status", status),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			)
		}
		return nil
	}
}

func secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'")
		return next(c)
	}
}

// ctxKey types keep context values private to this package.
type ctxKey int

const (
	authKey ctxKey = iota
	paramsKey
	requestInfoKey
)

// requestInfo is what strict handlers need of the HTTP request beyond their typed input.
type requestInfo struct {
	authorization string
	remote        string
	// header is the response's header: handlers add cookies to it before answering.
	header  http.Header
	cookies func() []*http.Cookie
}

// cookie returns the request's cookie of that name, or "".
func (ri requestInfo) cookie(name string) string {
	if ri.cookies == nil {
		return ""
	}
	for _, c := range ri.cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func requestInfoFrom(ctx context.Context) requestInfo {
	ri, _ := ctx.Value(requestInfoKey).(requestInfo)
	return ri
}

// prepare runs before the validator: it enforces body limits, puts the principal holder in
// the request context (the validator's AuthenticationFunc fills it, strict handlers read
// it), and reads protocol parameters from the body.
func (s *Server) prepare(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			return next(c)
		}
		ctx := context.WithValue(r.Context(), authKey, &authHolder{})
		ctx = context.WithValue(ctx, requestInfoKey, requestInfo{
			authorization: r.Header.Get(echo.HeaderAuthorization),
			remote:        c.RealIP(),
			header:        c.Response().Header(),
			cookies:       r.Cookies,
		})
		if isProtocolPath(r.URL.Path) && r.Method == http.MethodGet {
			if r.URL.RawQuery != "" {
				return invalidRequest("parameters must be sent in the Authorization header or a POST body, not in the URL")
			}
			ctx = context.WithValue(ctx, paramsKey, &oauthParams{v: url.Values{}})
		} else if isProtocolPath(r.URL.Path) {
			params, err := readOAuthParams(r, s.paramLimits)
			if err != nil {
				return err
			}
			ctx = context.WithValue(ctx, paramsKey, params)
		} else if r.ContentLength > maxBodyBytes {
			return newProblem(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over 1 MiB")
		} else if r.Body != nil && r.Body != http.NoBody {
			// Read the body up front: no string may carry a NUL character (Postgres text
			// cannot hold one, and no identifier or name needs one).
			body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxBodyBytes))
			if err != nil {
				return newProblem(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over 1 MiB")
			}
			if bytes.Contains(body, []byte(`\u0000`)) || bytes.IndexByte(body, 0) >= 0 {
				p := newProblem(http.StatusBadRequest, "validation_failed", "strings must not contain NUL characters")
				p.Errors = []fieldError{{Field: "body", Message: "contains a NUL character"}}
				return p
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		c.SetRequest(r.WithContext(ctx))
		return next(c)
	}
}

// handleError is the one place errors become responses: RFC 6749 JSON on protocol
// endpoints, RFC 9457 problem+json everywhere else. Internal errors are logged here, once,
// and never sent.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if isProtocolPath(c.Request().URL.Path) {
		s.writeOAuthError(c, s.toOAuthError(c, err))
		return
	}
	if isPagePath(c.Request().URL.Path) {
		s.writeErrorPage(c, err)
		return
	}
	p := s.toProblem(c, err)
	h := c.Response().Header()
	for k, v := range p.Header {
		h[k] = v
	}
	if p.Status == http.StatusUnauthorized {
		h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="twinid"`)
		if p.Code == "invalid_token" {
			h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="twinid", error="invalid_token"`)
		}
	}
	if p.Status == http.StatusForbidden && p.Code == "insufficient_scope" {
		h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="twinid", error="insufficient_scope"`)
	}
	body, _ := json.Marshal(p)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	_ = c.Blob(p.Status, "application/problem+json", body)
}

func (s *Server) toProblem(c echo.Context, err error) *problem {
	var p *problem
	if errors.As(err, &p) {
		return p
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if errors.As(he.Internal, &p) {
			return p
		}
		switch he.Code {
		case http.StatusBadRequest:
			return validationProblem(he)
		case http.StatusNotFound:
			return newProblem(http.StatusNotFound, "not_found", "no such endpoint")
		case http.StatusMethodNotAllowed:
			return newProblem(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this endpoint")
		case http.StatusRequestEntityTooLarge:
			return newProblem(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over 1 MiB")
		case http.StatusUnauthorized:
			return newProblem(http.StatusUnauthorized, "unauthorized", "a valid Bearer access token is required")
		case http.StatusForbidden:
			return newProblem(http.StatusForbidden, "forbidden", "forbidden")
		}
		if he.Code < 500 {
			return newProblem(he.Code, "error", http.StatusText(he.Code))
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return newProblem(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is over 1 MiB")
	}
	s.log.Error("internal error", "err", err, "path", c.Request().URL.Path,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	return newProblem(http.StatusInternalServerError, "internal_error", "internal error; the request id is in X-Request-Id")
}

// validationProblem turns the validator's errors into per-field messages.
func validationProblem(he *echo.HTTPError) *problem {
	p := newProblem(http.StatusBadRequest, "validation_failed", "the request does not match the API")
	var fields []fieldError
	var walk func(err error)
	walk = func(err error) {
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
				fields = append(fields, fieldError{Field: re.Parameter.Name, Message: messageOf(re)})
				return
			}
			var se *openapi3.SchemaError
			if errors.As(re.Err, &se) {
				fields = append(fields, fieldError{Field: pointerField(se.JSONPointer()), Message: se.Reason})
				return
			}
			if re.Err != nil {
				var inner openapi3.MultiError
				if errors.As(re.Err, &inner) {
					walk(inner)
					return
				}
			}
			fields = append(fields, fieldError{Field: "body", Message: messageOf(re)})
			return
		}
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			fields = append(fields, fieldError{Field: pointerField(se.JSONPointer()), Message: se.Reason})
			return
		}
		fields = append(fields, fieldError{Field: "request", Message: firstLine(err.Error())})
	}
	if he.Internal != nil {
		walk(he.Internal)
	} else {
		fields = append(fields, fieldError{Field: "request", Message: fmt.Sprint(he.Message)})
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

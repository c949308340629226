package server

import (
	"bytes"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	echomw "github.com/oapi-codegen/echo-middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/twinid/twinid/console"
	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/openapi"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/server/reqctx"
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
		Generator: keys.NewJTI,
	}))
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "err", err, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
			return err
		},
	}))
	e.Use(secureHeaders)
	if s.dialects, err = dialectsOf(spec); err != nil {
		return nil, err
	}
	// Before the API group: a preflight is answered here, ahead of the validator, which
	// knows no OPTIONS operation.
	e.Use(s.cors)
	e.Use(s.shedLogins)
	// The API group: what the document describes under /v1 passes the body limits, the
	// principal holder and the validator; /healthz, /readyz, Swagger UI and the document
	// itself stay outside it.
	v1 := e.Group("/v1", s.prepare, echomw.OapiRequestValidatorWithOptions(spec, &echomw.Options{
		Skipper:               s.skipValidation,
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
	gen.RegisterHandlers(splitRouter{root: e, v1: v1}, tokenRoute{ServerInterface: gen.NewStrictHandler(s, nil), s: s})

	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", openapi.YAML)
	})
	e.GET(page.WebAuthnJSPath, func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", page.WebAuthnJS)
	})
	e.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, specJSON)
	})
	// Only the management scope is preselected: Swagger UI sends the preselected scopes with
	// every flow, and a service account holds no OpenID scopes.
	ui := echo.WrapHandler(swaggerui.Handler(swaggerui.Config{Scopes: []string{reqctx.ScopeManage}, Title: spec.Info.Title}))
	e.GET("/swagger", ui)
	e.GET("/swagger/*", ui)
	e.HEAD("/swagger/*", ui)
	// The admin console: its own files, the app's routes answered with its page.
	cons := echo.WrapHandler(console.Handler())
	e.GET("/console", cons)
	e.GET("/console/*", cons)
	e.HEAD("/console/*", cons)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{})))
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

// skipValidation keeps the validator off the protocol and page endpoints: oauth2.ReadParams
// checks protocol bodies against the same document (the dialect table's parameter limits)
// and answers in RFC 6749 form, at a fraction of the cost on the hottest path; pages answer
// their own errors as pages.
func (s *Server) skipValidation(c echo.Context) bool {
	return s.dialects.of(c.Request().URL.Path) != problemDialect
}

// observe logs one line per request (no query strings, no headers: they may carry secrets)
// and records metrics.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status, took := c.Response().Status, time.Since(start)
		s.metrics.Observe(c.Path(), c.Request().Method, status, took)
		if shed(c) {
			return nil // refused for overload: counted, and logged once per overload
		}
		// A 503 is a refusal the client retries (an outage or a full pool, each logged
		// once on its own); other 5xx are errors.
		level := slog.LevelInfo
		if status == http.StatusServiceUnavailable {
			level = slog.LevelWarn
		} else if status >= 500 {
			level = slog.LevelError
		}
		r := c.Request()
		if s.log.Enabled(r.Context(), level) {
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", c.Path()),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(took.Microseconds())/1000),
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("peer", r.RemoteAddr),
			}
			if ip := c.RealIP(); ip != peerHost(r.RemoteAddr) {
				attrs = append(attrs, slog.String("client_ip", ip))
			}
			if aid := c.Param("aid"); aid != "" {
				attrs = append(attrs, slog.String("account", aid))
			}
			if client := reqctx.ClientOf(r.Context()); client != "" {
				attrs = append(attrs, slog.String("client", client))
			}
			s.log.LogAttrs(r.Context(), level, "request", attrs...)
		}
		return nil
	}
}

// peerHost is the host of a RemoteAddr (host:port).
func peerHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// secureHeaders are set on every answer; the values are shared and the keys canonical, so
// setting them allocates nothing.
var secureHeaderValues = map[string][]string{
	"X-Content-Type-Options":  {"nosniff"},
	"X-Frame-Options":         {"DENY"},
	"Referrer-Policy":         {"no-referrer"},
	"Content-Security-Policy": {"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'"},
}

func secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		for k, v := range secureHeaderValues {
			h[k] = v
		}
		return next(c)
	}
}

// prepare runs before the validator: it refuses URLs whose decoded text no identifier
// holds, enforces body limits and one JSON value per body, puts the principal holder in
// the request context (the validator's AuthenticationFunc fills it, strict handlers read
// it), and reads protocol parameters from the body.
func (s *Server) prepare(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			return next(c)
		}
		// One deadline for the whole request: the store bounds each statement, and this
		// bounds a request that runs many of them (handleError answers 503 past it).
		ctx, cancel := reqctx.WithDeadline(r.Context(), time.Now().Add(s.cfg.RequestTimeout))
		defer cancel()
		ctx, _ = reqctx.WithAuth(ctx)
		ctx = reqctx.WithInfo(ctx, reqctx.Info{
			Authorization: r.Header.Get(echo.HeaderAuthorization),
			Remote:        c.RealIP(),
			RequestID:     c.Response().Header().Get(echo.HeaderXRequestID),
			Header:        c.Response().Header(),
			Cookies:       r.Cookies,
		})
		d := s.dialects.of(r.URL.Path)
		if bad := unusableText(r.URL); bad != "" {
			return badText(d, bad)
		}
		oauth := d == oauthDialect
		if oauth && r.Method == http.MethodGet {
			if r.URL.RawQuery != "" {
				return oauth2.InvalidRequest("parameters must be sent in the Authorization header or a POST body, not in the URL")
			}
			ctx = reqctx.WithParams(ctx, &reqctx.Params{Values: url.Values{}})
		} else if oauth {
			v, dup, err := oauth2.ReadParams(r, s.dialects.paramLimits)
			if err != nil {
				return err
			}
			ctx = reqctx.WithParams(ctx, &reqctx.Params{Values: v, Dup: dup})
		} else if d == pageDialect && r.Method == http.MethodPost {
			if err := readPageForm(c); err != nil {
				return err
			}
		} else if r.ContentLength > maxBodyBytes {
			return problem.BodyTooLarge()
		} else if r.Body != nil && r.Body != http.NoBody {
			// Read the body up front: no string may carry a NUL character (Postgres text
			// cannot hold one, and no identifier or name needs one).
			body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxBodyBytes))
			if err != nil {
				return problem.BodyTooLarge()
			}
			if bytes.Contains(body, []byte(`\u0000`)) || bytes.IndexByte(body, 0) >= 0 {
				p := problem.New(http.StatusBadRequest, "validation_failed", "strings must not contain NUL characters")
				p.Errors = []problem.FieldError{{Field: "body", Message: "contains a NUL character"}}
				return p
			}
			// One JSON value, each member name once per object (compared as encoding/json
			// matches fields: case-insensitively), nothing after it. The validator and the
			// binding would each keep one of two values, or ignore what follows the first.
			if len(body) > 0 && isJSON(r.Header.Get(echo.HeaderContentType)) {
				if err := oauth2.CheckJSON(body, true); err != nil {
					p := problem.New(http.StatusBadRequest, "validation_failed", "the body must be one JSON value")
					p.Errors = []problem.FieldError{{Field: "body", Message: err.Error()}}
					return p
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		c.SetRequest(r.WithContext(ctx))
		return next(c)
	}
}

// readPageForm reads the body of a page's POST, which is a form (the hosted forms, and the
// form-serialized authorization and logout requests of OpenID Connect Core §3.1.2.1 and
// RP-Initiated Logout 1.0 §2), as the request's only parameters: the generated binding reads
// r.Form, which would otherwise mix in the query string. Another content type, a malformed
// body, one over 1 MiB, or a NUL character or invalid UTF-8 in it is the 400 page: the
// validator is off here, and 400 is the error page the document gives these forms.
func readPageForm(c echo.Context) error {
	r := c.Request()
	if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationForm {
		return echo.NewHTTPError(http.StatusBadRequest, "the body must be application/x-www-form-urlencoded")
	}
	if r.ContentLength > maxBodyBytes {
		return echo.NewHTTPError(http.StatusBadRequest, "the body is over 1 MiB")
	}
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxBodyBytes)); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "the body is over 1 MiB")
		}
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "malformed form body")
	}
	for k, vs := range v {
		if unusableString(k) || slices.ContainsFunc(vs, unusableString) {
			return echo.NewHTTPError(http.StatusBadRequest, "the body contains a NUL character or invalid UTF-8")
		}
	}
	r.PostForm, r.Form = v, v
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// isJSON reports whether a Content-Type is JSON (application/json or a +json type).
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json"))
}

// unusableText names the part of a URL whose decoded path or query holds a NUL character or
// invalid UTF-8, "" when none does. No identifier or parameter needs either, and Postgres
// text cannot hold them (a lookup would fail as an internal error instead of a 404).
func unusableText(u *url.URL) string {
	if unusableString(u.Path) {
		return "path"
	}
	if u.RawQuery == "" {
		return ""
	}
	q, _ := url.ParseQuery(u.RawQuery)
	for k, vs := range q {
		if unusableString(k) || slices.ContainsFunc(vs, unusableString) {
			return "query"
		}
	}
	return ""
}

// badText refuses such a URL in the endpoint's dialect, before any handler runs.
func badText(d dialect, part string) error {
	const msg = "contains a NUL character or invalid UTF-8"
	switch d {
	case oauthDialect:
		return oauth2.InvalidRequest("the URL " + msg)
	case pageDialect:
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	p := problem.New(http.StatusBadRequest, "validation_failed", "the URL "+msg)
	p.Errors = []problem.FieldError{{Field: part, Message: msg}}
	return p
}

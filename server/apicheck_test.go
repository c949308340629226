package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"golang.org/x/oauth2"

	"github.com/twinid/twinid/gen"
)

// Every response the tests receive from twinid is checked against the OpenAPI document:
// status (an undocumented one fails), content type, body schema and the headers the
// document declares for that response. Requests to paths or methods that the document does
// not describe (/swagger/, /openapi.yaml, /metrics, /) are not checked.

// apiDoc is the router over the document, built once per test process.
var apiDoc struct {
	once   sync.Once
	router routers.Router
	err    error
}

func apiRouter() (routers.Router, error) {
	apiDoc.once.Do(func() {
		// Hosted pages answer text/html; kin-openapi decodes no HTML by itself. The body is a
		// string in the document, so it is read as plain text.
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
		spec, err := gen.GetSwagger()
		if err != nil {
			apiDoc.err = err
			return
		}
		// servers: [{url: /}]: route on the path alone, whatever port httptest picked.
		spec.Servers = nil
		apiDoc.router, apiDoc.err = gorillamux.NewRouter(spec)
	})
	return apiDoc.router, apiDoc.err
}

var apiCheckOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
}

// allowed is one known mismatch between the server and the document that the document
// cannot express. Each is reported; the match is as narrow as the case.
type allowed struct {
	// name says what is excused, in a word.
	name string
	// op is "METHOD /path/template" and status the response status.
	op     string
	status int
	// match picks the responses of op and status that are excused.
	match  func(header http.Header, body []byte) bool
	reason string
}

var responseAllowlist = []allowed{
	{
		name: "tokenEndpointRevocationIsAnEmpty200",
		op:   "POST /v1/accounts/{aid}/auth/token", status: http.StatusOK,
		match: func(h http.Header, body []byte) bool { return len(body) == 0 && h.Get("Content-Type") == "" },
		reason: "a body with `token` and no `grant_type` revokes (Dintero's form) and answers 200 with no " +
			"body and no Content-Type, as /auth/revoke does; the document says so in words, but OpenAPI 3.0 " +
			"cannot give one status both a TokenResponse body and an empty one",
	},
}

func allowlisted(op string, status int, header http.Header, body []byte) bool {
	for _, a := range responseAllowlist {
		if a.op == op && a.status == status && a.match(header, body) {
			return true
		}
	}
	return false
}

// checkResponse validates one response against the document. It returns nil for requests
// that the document does not describe.
func checkResponse(req *http.Request, status int, header http.Header, body []byte) error {
	router, err := apiRouter()
	if err != nil {
		return fmt.Errorf("openapi router: %w", err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		// Not in the document (path or method): /swagger/, /metrics, /openapi.yaml, /, and
		// requests that tests send on purpose to methods no operation has.
		return nil
	}
	if allowlisted(req.Method+" "+route.Path, status, header, body) {
		return nil
	}
	documented := route.Operation.Responses.Status(status)
	if documented == nil {
		documented = route.Operation.Responses.Default()
	}
	switch status {
	case http.StatusMovedPermanently, http.StatusNotModified, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// kin-openapi passes these without looking; their status must be documented all the same.
		if documented == nil {
			return fmt.Errorf("status %d is not documented", status)
		}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: apiCheckOptions,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: apiCheckOptions,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return err
	}
	// The validator checks nothing of a body that the document gives no content: a body
	// there is undocumented too (HEAD answers carry none).
	if documented != nil && documented.Value != nil && len(documented.Value.Content) == 0 && len(body) > 0 &&
		req.Method != http.MethodHead {
		return fmt.Errorf("response has a %q body of %d bytes; the document declares no content for %d",
			header.Get("Content-Type"), len(body), status)
	}
	return nil
}

// firstLines keeps a validator message readable: schema errors append the whole schema.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}

// checkingTransport validates every response that passes through it, redirects included
// (a client that follows redirects sees each hop here), and reports mismatches on t.
type checkingTransport struct {
	t    testing.TB
	base http.RoundTripper
}

func (ct checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := ct.base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	body, rerr := io.ReadAll(res.Body)
	_ = res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	if rerr != nil {
		// The caller reads the truncated body and decides; nothing to validate.
		return res, nil
	}
	if verr := checkResponse(req, res.StatusCode, res.Header, body); verr != nil {
		ct.t.Errorf("response does not match openapi/openapi.yaml: %s %s → %d:\n%s",
			req.Method, req.URL.Path, res.StatusCode, firstLines(verr.Error(), 4))
	}
	return res, nil
}

// checkedClient is an HTTP client whose every response is checked against the document;
// it follows redirects like http.DefaultClient.
func checkedClient(t testing.TB) *http.Client {
	return &http.Client{Transport: checkingTransport{t: t, base: http.DefaultTransport}}
}

// checkedContext carries checkedClient for libraries that take their client from the
// context (golang.org/x/oauth2, go-oidc).
func checkedContext(t testing.TB) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, checkedClient(t))
}

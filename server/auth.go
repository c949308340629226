package server

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	echomw "github.com/oapi-codegen/echo-middleware"

	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/server/tokens"
)

// authenticate is the validator's AuthenticationFunc. Client authentication at the token
// endpoint (clientBasic, clientBearer) happens in the protocol surface; Bearer schemes
// verify the token, its scope, and that it belongs to the account in the path (or to root).
// The caller lands in the request's reqctx.Auth, where the strict handlers find it.
//
// The validator turns any error that is not an *echo.HTTPError into a 400 whose message
// quotes it, so a failure of the server (the database down, say) leaves here as an
// *echo.HTTPError of 503 or 500 that the error handler words without its text.
func (s *Server) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	err := s.authenticateScheme(ctx, in)
	var he *echo.HTTPError
	switch {
	case err == nil, errors.As(err, &he):
		return err
	case outOfService(err):
		return &echo.HTTPError{Code: http.StatusServiceUnavailable, Internal: err}
	}
	return &echo.HTTPError{Code: http.StatusInternalServerError, Internal: err}
}

func (s *Server) authenticateScheme(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName == "clientBasic" || in.SecuritySchemeName == "clientBearer" {
		return nil
	}
	ec := echomw.GetEchoContext(ctx)
	if ec == nil {
		return errors.New("no echo context")
	}
	req := ec.Request()
	h := reqctx.AuthFrom(req.Context())
	if h == nil {
		return errors.New("no auth holder")
	}
	if in.SecuritySchemeName == "userBearer" {
		tok, ok := oauth2.BearerOf(req.Header.Get(echo.HeaderAuthorization))
		if !ok {
			return unauthorized("a Bearer access token is required")
		}
		c, err := s.verify(req.Context(), tok)
		if err != nil {
			return err
		}
		if c.IsClient() || c.AID != in.RequestValidationInput.PathParams["aid"] {
			return unauthorized("not a customer token of this account")
		}
		h.User = c
		return nil
	}
	if !h.Done {
		h.Done = true
		h.Principal, h.Err = s.verifyBearer(req.Context(), req.Header.Get(echo.HeaderAuthorization))
	}
	if h.Err != nil {
		return h.Err
	}
	if lacking := lackingScopes(in, h.Principal); lacking != nil {
		return &echo.HTTPError{Code: http.StatusForbidden, Internal: problem.Forbidden("insufficient_scope",
			"the token lacks the scope "+strings.Join(lacking, " or "))}
	}
	if aid, ok := in.RequestValidationInput.PathParams["aid"]; ok && aid != h.Principal.AID && !h.Principal.Root() {
		// Another account's resources are not revealed to exist.
		return &echo.HTTPError{Code: http.StatusNotFound, Internal: problem.NotFound("account")}
	}
	return nil
}

// lackingScopes is nil when the principal holds every scope of one of the operation's oauth2
// requirements (alternatives, OpenAPI 3.0 §4.7.30: a read-only operation accepts
// api://management/.default or api://management/read), else the first scope of each that
// it lacks. The bearerAuth alternative needs the same scopes.
func lackingScopes(in *openapi3filter.AuthenticationInput, p *reqctx.Principal) []string {
	op := in.RequestValidationInput.Route.Operation
	if op == nil || op.Security == nil {
		return nil
	}
	var lacking []string
	for _, req := range *op.Security {
		scopes, ok := req["oauth2"]
		if !ok {
			continue
		}
		i := slices.IndexFunc(scopes, func(s string) bool { return !p.Has(s) })
		if i < 0 {
			return nil
		}
		lacking = append(lacking, scopes[i])
	}
	return lacking
}

// unauthorized is the 401 of a missing or rejected Bearer token (RFC 6750 §3.1).
func unauthorized(detail string) error {
	return &echo.HTTPError{Code: http.StatusUnauthorized, Internal: problem.InvalidToken(detail)}
}

// verify checks an access token, wording a rejection as the 401 the API answers.
func (s *Server) verify(ctx context.Context, tok string) (*reqctx.Claims, error) {
	c, err := s.tokens.Verify(ctx, tok)
	if err != nil {
		return nil, refused(err)
	}
	return c, nil
}

// refused words a token the tokens package rejected as the API's 401; other errors pass.
func refused(err error) error {
	var inv *tokens.InvalidError
	if errors.As(err, &inv) {
		return unauthorized(inv.Detail)
	}
	return err
}

// verifyBearer checks a management access token: a valid access token for the management
// audience. A person's token (a customer of the account who signed in) also needs its
// customer to be active and its jti not revoked, as at introspection (RFC 7662 §2.2); its
// refresh family, if any, was checked by Verify. Client tokens cost no query here.
func (s *Server) verifyBearer(ctx context.Context, header string) (*reqctx.Principal, error) {
	tok, ok := oauth2.BearerOf(header)
	if !ok {
		return nil, &echo.HTTPError{Code: http.StatusUnauthorized, Internal: problem.New(http.StatusUnauthorized,
			"unauthorized", "a Bearer access token is required")}
	}
	c, err := s.verify(ctx, tok)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(c.Aud, reqctx.ManagementAudience) {
		return nil, unauthorized("the access token is not valid: wrong audience")
	}
	if !c.IsClient() {
		// A person's token stands only while its jti and its customer do.
		if _, err := s.tokens.Standing(ctx, c); err != nil {
			return nil, refused(err)
		}
	}
	return &reqctx.Principal{AID: c.AID, ClientID: c.ClientID, Sub: c.Sub, Scopes: c.Scopes}, nil
}

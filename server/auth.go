package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	echomw "github.com/oapi-codegen/echo-middleware"

	"github.com/twinid/twinid/store"
)

// principal is who called a management operation.
type principal struct {
	AID      string
	ClientID string
	Scopes   []string
}

// root reports whether the principal may manage every account.
func (p *principal) root() bool { return p.AID == RootAID }

func (p *principal) has(scope string) bool {
	if slices.Contains(p.Scopes, scope) {
		return true
	}
	// Full management includes reading.
	return scope == scopeRead && slices.Contains(p.Scopes, scopeManage)
}

// authHolder carries the principal from the validator's AuthenticationFunc to the strict
// handlers, which only see the request context.
type authHolder struct {
	done bool
	p    *principal
	err  error
	// user is set when a customer's token satisfied the userBearer scheme.
	user *tokenClaims
}

func principalFrom(ctx context.Context) *principal {
	if h, ok := ctx.Value(authKey).(*authHolder); ok {
		return h.p
	}
	return nil
}

// authenticate is the validator's AuthenticationFunc. Client authentication at the token
// endpoint (clientBasic) happens in the handler; Bearer schemes verify the management token,
// its scope, and that it belongs to the account in the path (or to root).
func (s *Server) authenticate(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName == "clientBasic" || in.SecuritySchemeName == "clientBearer" {
		return nil
	}
	ec := echomw.GetEchoContext(ctx)
	if ec == nil {
		return errors.New("no echo context")
	}
	req := ec.Request()
	h, _ := req.Context().Value(authKey).(*authHolder)
	if h == nil {
		return errors.New("no auth holder")
	}
	if in.SecuritySchemeName == "userBearer" {
		tok, ok := bearerOf(req.Header.Get(echo.HeaderAuthorization))
		if !ok {
			return unauthorized("a Bearer access token is required")
		}
		c, err := s.verifyAccessToken(req.Context(), tok)
		if err != nil {
			return err
		}
		if c.isClient() || c.AID != in.RequestValidationInput.PathParams["aid"] {
			return unauthorized("not a customer token of this account")
		}
		h.user = c
		return nil
	}
	if !h.done {
		h.done = true
		h.p, h.err = s.verifyBearer(req.Context(), req.Header.Get(echo.HeaderAuthorization))
	}
	if h.err != nil {
		return h.err
	}
	for _, want := range requiredScopes(in) {
		if !h.p.has(want) {
			return &echo.HTTPError{Code: http.StatusForbidden, Internal: forbidden("insufficient_scope",
				"the token lacks the scope "+want)}
		}
	}
	if aid, ok := in.RequestValidationInput.PathParams["aid"]; ok && aid != h.p.AID && !h.p.root() {
		// Another account's resources are not revealed to exist.
		return &echo.HTTPError{Code: http.StatusNotFound, Internal: notFound("account")}
	}
	return nil
}

// requiredScopes are the oauth2 scopes the operation lists; the bearerAuth alternative needs
// the same ones.
func requiredScopes(in *openapi3filter.AuthenticationInput) []string {
	op := in.RequestValidationInput.Route.Operation
	if op == nil || op.Security == nil {
		return nil
	}
	for _, req := range *op.Security {
		if scopes, ok := req["oauth2"]; ok {
			return scopes
		}
	}
	return nil
}

func unauthorized(detail string) error {
	return &echo.HTTPError{Code: http.StatusUnauthorized, Internal: newProblem(http.StatusUnauthorized, "invalid_token", detail)}
}

// tokenClaims are the verified claims of one of twinid's access tokens.
type tokenClaims struct {
	AID, Sub, ClientID, Jti string
	Aud                     []string
	Scopes                  []string
	Exp, Iat                time.Time
}

// isClient: a client token (client_credentials), not a customer's token.
func (c *tokenClaims) isClient() bool { return c.Sub == c.ClientID }

func (c *tokenClaims) has(scope string) bool { return slices.Contains(c.Scopes, scope) }

func bearerOf(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(header, " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// verifyAccessToken checks an access token of any of twinid's accounts and any audience: a
// JWT signed by a key in that account's JWKS, with typ at+jwt (RFC 9068 §4), the account's
// issuer, and not expired. Nothing is trusted before these checks pass.
func (s *Server) verifyAccessToken(ctx context.Context, tok string) (*tokenClaims, error) {
	// A token verified on this node is trusted again until the cache TTL or its expiry,
	// whichever comes first: the signature check dominates every authenticated request.
	sum := sha256.Sum256([]byte(tok))
	key := "atok\x00" + string(sum[:])
	if v, ok := s.cache.get(key); ok {
		if c := v.(*tokenClaims); time.Now().Before(c.Exp) {
			return c, nil
		}
	}
	epoch := s.cache.begin()
	c, err := s.verifyAccessTokenUncached(ctx, tok)
	if err != nil {
		return nil, err
	}
	s.cache.putUntil(key, c, c.Exp, epoch)
	return c, nil
}

func (s *Server) verifyAccessTokenUncached(ctx context.Context, tok string) (*tokenClaims, error) {
	aid, err := unverifiedAID(tok)
	if err != nil {
		return nil, unauthorized("the access token is malformed")
	}
	ks, err := s.accountKeys(ctx, aid)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, unauthorized("the access token is not valid")
		}
		return nil, err
	}
	if len(ks.rows) == 0 {
		return nil, unauthorized("the access token is not valid")
	}
	msg, err := jws.Parse([]byte(tok))
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, unauthorized("the access token is malformed")
	}
	if typ, _ := msg.Signatures()[0].ProtectedHeaders().Type(); typ != "at+jwt" {
		return nil, unauthorized("the token is not an access token (typ at+jwt)")
	}
	t, err := jwt.Parse([]byte(tok),
		jwt.WithKeySet(ks.verify),
		jwt.WithValidate(true),
		jwt.WithIssuer(s.issuer(aid)),
		jwt.WithAcceptableSkew(30*time.Second),
	)
	if err != nil {
		return nil, unauthorized("the access token is not valid: " + verifyReason(err))
	}
	c := &tokenClaims{AID: aid}
	c.Sub, _ = t.Subject()
	c.Aud, _ = t.Audience()
	c.Jti, _ = t.JwtID()
	c.Exp, _ = t.Expiration()
	c.Iat, _ = t.IssuedAt()
	_ = t.Get("client_id", &c.ClientID)
	var scope string
	_ = t.Get("scope", &scope)
	c.Scopes = strings.Fields(scope)
	return c, nil
}

// verifyBearer checks a management access token: verifyAccessToken plus the management
// audience.
func (s *Server) verifyBearer(ctx context.Context, header string) (*principal, error) {
	tok, ok := bearerOf(header)
	if !ok {
		return nil, &echo.HTTPError{Code: http.StatusUnauthorized, Internal: newProblem(http.StatusUnauthorized,
			"unauthorized", "a Bearer access token is required")}
	}
	c, err := s.verifyAccessToken(ctx, tok)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(c.Aud, ManagementAudience) {
		return nil, unauthorized("the access token is not valid: wrong audience")
	}
	return &principal{AID: c.AID, ClientID: c.ClientID, Scopes: c.Scopes}, nil
}

// userFrom is the customer token that authenticated a userBearer operation, if any.
func userFrom(ctx context.Context) *tokenClaims {
	if h, ok := ctx.Value(authKey).(*authHolder); ok {
		return h.user
	}
	return nil
}

func verifyReason(err error) string {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return "expired"
	case errors.Is(err, jwt.InvalidIssuerError()):
		return "wrong issuer"
	case errors.Is(err, jwt.InvalidAudienceError()):
		return "wrong audience"
	}
	return "signature or claims rejected"
}

// unverifiedAID reads the aid claim to know which account's keys verify the token. Nothing
// read here is trusted before the signature and the issuer check pass.
func unverifiedAID(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("not a JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c struct {
		AID string `json:"aid"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.AID == "" {
		return "", errors.New("no aid claim")
	}
	return c.AID, nil
}

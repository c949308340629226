package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

// Protocol endpoints for customers (RFC 6749 errors): login, password reset start,
// revocation and introspection; and the password setter (problem+json).

// protocolAccount loads the account of a protocol request, 404 in RFC 6749 form.
func (s *Server) protocolAccount(ctx context.Context, aid string) (*store.Account, *tokenRequest, error) {
	ri := requestInfoFrom(ctx)
	tr, err := parseTokenRequest(ctx, ri.authorization)
	if err != nil {
		return nil, nil, err
	}
	tr.remote = ri.remote
	acct, err := s.account(ctx, aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, oauthErr(http.StatusNotFound, "invalid_request", "unknown account")
	}
	return acct, tr, err
}

// loginClient checks the client token of /customers/* calls (RFC 6750 errors).
func (s *Server) loginClient(ctx context.Context, aid string, tr *tokenRequest) (*authedClient, error) {
	if tr.bearer == "" {
		e := oauthErr(http.StatusUnauthorized, "invalid_token", "a client access token is required (Authorization: Bearer)")
		e.Header = http.Header{echo.HeaderWWWAuthenticate: {`Bearer realm="twinid"`}}
		return nil, e
	}
	ac, err := s.clientFor(ctx, aid, tr)
	if err != nil {
		var oe *oauthError
		if errors.As(err, &oe) && oe.Code == "invalid_client" {
			e := oauthErr(http.StatusUnauthorized, "invalid_token", "the client access token is not valid for this account")
			e.Header = http.Header{echo.HeaderWWWAuthenticate: {`Bearer realm="twinid", error="invalid_token"`}}
			return nil, e
		}
		return nil, err
	}
	if !ac.token.has(scopeUsers) {
		e := oauthErr(http.StatusForbidden, "insufficient_scope", "the client token lacks the scope "+scopeUsers)
		e.Header = http.Header{echo.HeaderWWWAuthenticate: {`Bearer realm="twinid", error="insufficient_scope", scope="` + scopeUsers + `"`}}
		return nil, e
	}
	return ac, nil
}

// LoginCustomer implements POST .../customers/login.
func (s *Server) LoginCustomer(ctx context.Context, req gen.LoginCustomerRequestObject) (gen.LoginCustomerResponseObject, error) {
	acct, tr, err := s.protocolAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	ac, err := s.loginClient(ctx, acct.AID, tr)
	if err != nil {
		return nil, err
	}
	p := tr.params
	audience := p.get("audience")
	if audience == "" && len(ac.token.Aud) == 1 {
		audience = ac.token.Aud[0]
	}
	grants := ac.grantsFor(audience, "")
	if audience == "" || len(grants) == 0 {
		return nil, oauthErr(http.StatusBadRequest, "unauthorized_client", "the client holds no grant for audience "+audience)
	}
	lr := loginRequest{typ: p.get("type"), identType: p.get("ident_type"), ident: p.get("ident"),
		password: p.get("password"), remote: tr.remote}
	if email := p.get("email"); email != "" {
		if lr.identType != "" || lr.ident != "" {
			return nil, invalidRequest("give email, or ident_type and ident, not both")
		}
		lr.identType, lr.ident = "email", email
	}
	if lr.ident == "" {
		return nil, invalidRequest("email (or ident_type and ident) is required")
	}
	c, err := s.checkLogin(ctx, acct, lr)
	if err != nil {
		return nil, err
	}
	res, err := s.issueUserTokens(ctx, acct, c, ac.client.ClientID, audience, userScopes(grants, c), ac.token.has(scopeRefresh))
	if err != nil {
		return nil, err
	}
	s.metrics.tokens.WithLabelValues("login").Inc()
	r := res.response()
	return gen.LoginCustomer200JSONResponse{Body: r.Body,
		Headers: gen.LoginCustomer200ResponseHeaders{CacheControl: r.Headers.CacheControl, Pragma: r.Headers.Pragma}}, nil
}

// RequestPasswordChange implements POST .../customers/change_password: 202 whatever the
// email, so it reveals nothing; a code is mailed (at most one a minute) to a customer.
func (s *Server) RequestPasswordChange(ctx context.Context, req gen.RequestPasswordChangeRequestObject) (gen.RequestPasswordChangeResponseObject, error) {
	acct, tr, err := s.protocolAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if _, err := s.loginClient(ctx, acct.AID, tr); err != nil {
		return nil, err
	}
	email := tr.params.get("email")
	if email == "" {
		return nil, invalidRequest("email is required")
	}
	typ := tr.params.get("type")
	if typ == "" {
		typ = string(gen.CustomerTypeCustomer)
	}
	if err := s.sendResetCode(ctx, acct, email, typ); err != nil {
		return nil, err
	}
	return gen.RequestPasswordChange202Response{}, nil
}

// SetCustomerPassword implements PUT .../customers/users/{customerId}/password.
func (s *Server) SetCustomerPassword(ctx context.Context, req gen.SetCustomerPasswordRequestObject) (gen.SetCustomerPasswordResponseObject, error) {
	acct, err := s.accountOr404(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	c, err := s.customerOr404(ctx, req.Aid, req.CustomerID)
	if err != nil {
		return nil, err
	}
	viaCode := false
	if u := userFrom(ctx); u != nil {
		if u.Sub != c.ID {
			return nil, forbidden("not_your_account", "a customer token may set only its own customer's password")
		}
		switch {
		case u.has(scopeSetPassword):
			revoked, err := s.store.AccessTokenRevoked(ctx, u.Jti)
			if err != nil {
				return nil, err
			}
			if revoked {
				return nil, unauthorized("this password-reset token was used already")
			}
			viaCode = true
		case req.Body.CurrentPassword == nil:
			return nil, badField("current_password_required", "currentPassword", "required with a customer token")
		default:
			ident, typ := "", "email"
			if c.EmailNorm != nil {
				ident = *c.EmailNorm
			} else if c.PhoneNumber != nil {
				ident, typ = *c.PhoneNumber, "phone_number"
			}
			if _, err := s.checkLogin(ctx, acct, loginRequest{typ: c.Type, identType: typ, ident: ident,
				password: *req.Body.CurrentPassword, remote: requestInfoFrom(ctx).remote}); err != nil {
				var oe *oauthError
				if errors.As(err, &oe) {
					switch oe.Status {
					case http.StatusTooManyRequests, http.StatusServiceUnavailable:
						p := newProblem(oe.Status, "try_later", oe.Description)
						p.Header = oe.Header
						return nil, p
					}
					return nil, badField("wrong_password", "currentPassword", "the current password is wrong")
				}
				return nil, err
			}
		}
	} else if p := principalFrom(ctx); p == nil || !p.has(scopeManage) {
		return nil, forbidden("insufficient_scope", "the token lacks the scope "+scopeManage)
	}
	if c.Status == store.CustomerDisabled {
		return nil, conflict("the customer is disabled")
	}
	if req.Body.Password == nil {
		return nil, badField("missing_field", "password", "required")
	}
	hash, err := s.hashPassword(ctx, "password", *req.Body.Password)
	if err != nil {
		return nil, err
	}
	if err := s.store.SetPassword(ctx, c, hash, viaCode, time.Now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("customer")
		}
		return nil, err
	}
	if u := userFrom(ctx); viaCode && u != nil {
		// The reset token is single-use.
		if err := s.store.RevokeAccessToken(ctx, acct.AID, u.Jti, u.Exp); err != nil {
			return nil, err
		}
	}
	return gen.SetCustomerPassword204Response{}, nil
}

// revoke revokes a refresh token (its whole family) or an access token of the client.
// Anything else, including another client's token, is answered 200 without effect.
func (s *Server) revoke(ctx context.Context, acct *store.Account, tr *tokenRequest) error {
	ac, err := s.clientFor(ctx, acct.AID, tr)
	if err != nil {
		return err
	}
	value := tr.params.get("token")
	if value == "" {
		return invalidRequest("token is required")
	}
	now := time.Now()
	if strings.HasPrefix(value, refreshPrefix) {
		rt, err := s.store.RefreshTokenByHash(ctx, acct.AID, s.keyring.hashSecret(value))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if rt.ClientID == ac.client.ClientID {
			_, err = s.store.RevokeFamily(ctx, rt.FamilyID, now)
		}
		return err
	}
	c, err := s.verifyAccessToken(ctx, value)
	if err != nil || c.AID != acct.AID || c.ClientID != ac.client.ClientID || c.Jti == "" {
		return nil
	}
	return s.store.RevokeAccessToken(ctx, acct.AID, c.Jti, c.Exp)
}

// RevokeToken implements POST .../auth/revoke (RFC 7009).
func (s *Server) RevokeToken(ctx context.Context, req gen.RevokeTokenRequestObject) (gen.RevokeTokenResponseObject, error) {
	acct, tr, err := s.protocolAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if err := s.revoke(ctx, acct, tr); err != nil {
		return nil, err
	}
	return gen.RevokeToken200Response{}, nil
}

// IntrospectToken implements POST .../auth/introspect (RFC 7662) for confidential clients.
func (s *Server) IntrospectToken(ctx context.Context, req gen.IntrospectTokenRequestObject) (gen.IntrospectTokenResponseObject, error) {
	acct, tr, err := s.protocolAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if tr.bearer != "" || tr.clientSecret == "" {
		return nil, invalidClient()
	}
	if _, err := s.authenticateClient(ctx, acct.AID, tr); err != nil {
		return nil, err
	}
	value := tr.params.get("token")
	if value == "" {
		return nil, invalidRequest("token is required")
	}
	out, err := s.introspect(ctx, acct, value)
	if err != nil {
		return nil, err
	}
	noStore := "no-store"
	return gen.IntrospectToken200JSONResponse{Body: out, Headers: gen.IntrospectToken200ResponseHeaders{CacheControl: &noStore}}, nil
}

func (s *Server) introspect(ctx context.Context, acct *store.Account, value string) (gen.IntrospectionResponse, error) {
	inactive := gen.IntrospectionResponse{Active: false}
	now := time.Now()
	iss := s.issuer(acct.AID)
	if strings.HasPrefix(value, refreshPrefix) {
		rt, err := s.store.RefreshTokenByHash(ctx, acct.AID, s.keyring.hashSecret(value))
		if errors.Is(err, store.ErrNotFound) {
			return inactive, nil
		}
		if err != nil {
			return inactive, err
		}
		if rt.RevokedMS != 0 || rt.RotatedMS != 0 || now.UnixMilli() >= rt.IdleUntilMS || now.UnixMilli() >= rt.UntilMS {
			return inactive, nil
		}
		if ok, err := s.customerActive(ctx, acct.AID, rt.CustomerID); err != nil || !ok {
			return inactive, err
		}
		typ := gen.IntrospectionResponseTokenType("refresh_token")
		exp, iat := int(min(rt.IdleUntilMS, rt.UntilMS)/1000), int(rt.CreatedMS/1000)
		return gen.IntrospectionResponse{Active: true, TokenType: &typ, Scope: &rt.Scopes, ClientID: &rt.ClientID,
			Sub: &rt.CustomerID, Aud: &rt.Audience, Iss: &iss, Exp: &exp, Iat: &iat, Aid: &acct.AID}, nil
	}
	c, err := s.verifyAccessToken(ctx, value)
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return inactive, nil
		}
		return inactive, err
	}
	if c.AID != acct.AID {
		return inactive, nil
	}
	if revoked, err := s.store.AccessTokenRevoked(ctx, c.Jti); err != nil || revoked {
		return inactive, err
	}
	if !c.isClient() {
		if ok, err := s.customerActive(ctx, acct.AID, c.Sub); err != nil || !ok {
			return inactive, err
		}
	}
	typ := gen.IntrospectionResponseTokenType("access_token")
	scope, aud := strings.Join(c.Scopes, " "), strings.Join(c.Aud, " ")
	exp, iat := int(c.Exp.Unix()), int(c.Iat.Unix())
	return gen.IntrospectionResponse{Active: true, TokenType: &typ, Scope: &scope, ClientID: &c.ClientID, Sub: &c.Sub,
		Aud: &aud, Iss: &iss, Exp: &exp, Iat: &iat, Jti: &c.Jti, Aid: &acct.AID}, nil
}

func (s *Server) customerActive(ctx context.Context, aid, id string) (bool, error) {
	c, err := s.store.GetCustomer(ctx, aid, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return c.Status == store.CustomerActive, nil
}

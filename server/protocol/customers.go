package protocol

import (
	"context"
	"errors"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// The customer API of openapi/openapi.yaml: login and password reset start with a
// client token (RFC 6750 errors), and the password setter (problem+json).

// loginClient checks the client token of /customers/* calls (RFC 6750 §3.1 errors).
func (e *Endpoints) loginClient(ctx context.Context, aid string, r *oauth2.Request, remote string) (*authedClient, error) {
	if r.Bearer == "" {
		return nil, oauth2.ErrInvalidToken.WithDescription("a client access token is required (Authorization: Bearer)").
			WithHeader("WWW-Authenticate", `Bearer realm="twinid"`)
	}
	ac, err := e.clientFor(ctx, aid, r, remote)
	if err != nil {
		if errors.Is(err, oauth2.ErrInvalidClient) {
			return nil, oauth2.ErrInvalidToken.WithDescription("the client access token is not valid for this account").
				WithHeader("WWW-Authenticate", `Bearer realm="twinid", error="invalid_token"`)
		}
		return nil, err
	}
	if !ac.token.Has(scopeUsers) {
		return nil, oauth2.ErrInsufficientScope.WithDescription("the client token lacks the scope "+scopeUsers).
			WithHeader("WWW-Authenticate", `Bearer realm="twinid", error="insufficient_scope", scope="`+scopeUsers+`"`)
	}
	return ac, nil
}

// LoginCustomer implements POST .../customers/login.
func (e *Endpoints) LoginCustomer(ctx context.Context, req gen.LoginCustomerRequestObject) (_ gen.LoginCustomerResponseObject, err error) {
	defer mapped(&err)
	acct, r, remote, err := e.request(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	ac, err := e.loginClient(ctx, acct.AID, r, remote)
	if err != nil {
		return nil, err
	}
	audience := r.Get("audience")
	if audience == "" && len(ac.token.Aud) == 1 {
		audience = ac.token.Aud[0]
	}
	grants := ac.GrantsFor(audience, "")
	if audience == "" || len(grants) == 0 {
		return nil, oauth2.UnauthorizedClient("the client holds no grant for the requested audience")
	}
	lr := login.Request{Type: r.Get("type"), IdentType: r.Get("ident_type"), Ident: r.Get("ident"),
		Password: r.Get("password"), Remote: remote, ClientID: ac.ClientID}
	if email := r.Get("email"); email != "" {
		if lr.IdentType != "" || lr.Ident != "" {
			return nil, oauth2.InvalidRequest("give email, or ident_type and ident, not both")
		}
		lr.IdentType, lr.Ident = "email", email
	}
	if lr.Ident == "" {
		return nil, oauth2.InvalidRequest("email (or ident_type and ident) is required")
	}
	c, err := e.Login.Check(ctx, acct, lr)
	if err != nil {
		return nil, err
	}
	scopes, refresh := userScopes(grants, c), ac.token.Has(scopeRefresh)
	due, types, err := e.secondFactor(ctx, acct, ac.MFA, c)
	if err != nil {
		return nil, err
	}
	if due {
		tok, err := e.Login.StartMFA(ctx, pendingLogin(acct, ac.ClientID, c, audience, scopes, refresh))
		if err != nil {
			return nil, err
		}
		ft := make([]gen.MfaRequiredFactorTypes, len(types))
		for i, t := range types {
			ft[i] = gen.MfaRequiredFactorTypes(t)
		}
		desc, noStore := "a second factor is required", "no-store"
		if len(types) == 0 {
			desc = "a second factor is required and the customer has none yet: enrol one first"
		}
		return gen.LoginCustomer403JSONResponse{Headers: gen.LoginCustomer403ResponseHeaders{CacheControl: &noStore},
			Body: gen.MfaRequired{Error: gen.MfaRequiredErrorMfaRequired, ErrorDescription: &desc, MfaToken: &tok, FactorTypes: &ft}}, nil
	}
	res, err := e.userTokens(ctx, acct, c, ac.ClientID, audience, scopes, refresh, []string{login.AMRPassword})
	if err != nil {
		return nil, err
	}
	e.Metrics.Tokens.WithLabelValues("login").Inc()
	return res, nil
}

// RequestPasswordChange implements POST .../customers/change_password: 202 whatever the
// email, so it reveals nothing; a code is mailed (at most one a minute) to a customer. The
// lookup and the mail happen off the request path (login.RequestReset), so known and
// unknown emails cost the request the same.
func (e *Endpoints) RequestPasswordChange(ctx context.Context, req gen.RequestPasswordChangeRequestObject) (_ gen.RequestPasswordChangeResponseObject, err error) {
	defer mapped(&err)
	acct, r, remote, err := e.request(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if _, err := e.loginClient(ctx, acct.AID, r, remote); err != nil {
		return nil, err
	}
	email := r.Get("email")
	if email == "" {
		return nil, oauth2.InvalidRequest("email is required")
	}
	typ := r.Get("type")
	if typ == "" {
		typ = string(gen.CustomerTypeCustomer)
	}
	e.Login.RequestReset(acct, email, typ)
	return gen.RequestPasswordChange202Response{}, nil
}

// SetCustomerPassword implements PUT .../customers/users/{customerId}/password: with a
// management token, with the customer's own token and the current password, or with the
// single-use token of an emailed code. It answers in problem+json.
func (e *Endpoints) SetCustomerPassword(ctx context.Context, req gen.SetCustomerPasswordRequestObject) (gen.SetCustomerPasswordResponseObject, error) {
	acct, err := e.Accounts.Get(ctx, req.Aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("account")
	}
	if err != nil {
		return nil, err
	}
	c, err := e.Store.Customers().Get(ctx, req.Aid, req.CustomerID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("customer")
	}
	if err != nil {
		return nil, err
	}
	viaCode := false
	if u := reqctx.UserFrom(ctx); u != nil {
		if u.Sub != c.ID {
			return nil, problem.Forbidden("not_your_account", "a customer token may set only its own customer's password")
		}
		switch {
		case u.Has(scopeSetPassword):
			revoked, err := e.Store.Tokens().AccessRevoked(ctx, u.JTI)
			if err != nil {
				return nil, err
			}
			if revoked {
				return nil, problem.InvalidToken("this password-reset token was used already")
			}
			viaCode = true
		case req.Body.CurrentPassword == nil:
			return nil, problem.BadField("current_password_required", "currentPassword", "required with a customer token")
		default:
			if err := e.checkCurrent(ctx, acct, c, *req.Body.CurrentPassword); err != nil {
				return nil, err
			}
		}
	} else if p := reqctx.PrincipalFrom(ctx); p == nil || !p.Has(reqctx.ScopeManage) {
		return nil, problem.Forbidden("insufficient_scope", "the token lacks the scope "+reqctx.ScopeManage)
	}
	if c.Status == store.CustomerDisabled {
		return nil, problem.Conflict("the customer is disabled")
	}
	if req.Body.Password == nil {
		return nil, problem.BadField("missing_field", "password", "required")
	}
	hash, err := e.Login.Hash(ctx, *req.Body.Password)
	if err != nil {
		return nil, problem.Password(err, "password")
	}
	invited := c.Status == store.CustomerInvited
	if u := reqctx.UserFrom(ctx); viaCode && u != nil {
		// The reset token is single-use (RFC 6750 §3.1 invalid_token once spent): spending it
		// and setting the password are one conditional write, so of racing requests exactly
		// one wins; the check above only spares the losers the hashing.
		err = e.Store.Customers().SetPasswordOnce(ctx, c, hash, u.JTI, u.Exp, e.Now())
	} else {
		err = e.Store.Customers().SetPassword(ctx, c, hash, false, e.Now())
	}
	switch {
	case errors.Is(err, store.ErrUsed):
		return nil, problem.InvalidToken("this password-reset token was used already")
	case errors.Is(err, store.ErrNotFound):
		return nil, problem.NotFound("customer")
	case err != nil:
		return nil, err
	}
	// A customer's own token (reset code or current password) acts as the customer; a
	// management token as its admin.
	ev := audit.Event{AID: acct.AID, Type: gen.CustomerPasswordChanged, SubjectType: "customer", SubjectID: c.ID}
	if u := reqctx.UserFrom(ctx); u != nil {
		ev.Actor, ev.ClientID = audit.Customer(c.ID), u.ClientID
		switch {
		case viaCode && invited:
			ev.Type = gen.InvitationAccepted
		case viaCode:
			ev.Reason = "reset by emailed code"
		}
	} else if invited {
		ev.Reason = "set by an admin; the invited customer is active"
	}
	e.Audit.Record(ctx, ev)
	return gen.SetCustomerPassword204Response{}, nil
}

// checkCurrent checks a customer's current password as a login would (same throttles), in
// problem+json words.
func (e *Endpoints) checkCurrent(ctx context.Context, acct *store.Account, c *store.Customer, current string) error {
	ident, typ := "", "email"
	if c.EmailNorm != nil {
		ident = *c.EmailNorm
	} else if c.PhoneNumber != nil {
		ident, typ = *c.PhoneNumber, "phone_number"
	}
	_, err := e.Login.Check(ctx, acct, login.Request{Type: c.Type, IdentType: typ, Ident: ident,
		Password: current, Remote: reqctx.InfoFrom(ctx).Remote})
	var lo *login.LockedOut
	var re *login.RequestError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &lo), errors.Is(err, login.ErrBusy):
		oe := oauthError(err).(*oauth2.Error)
		p := problem.New(oe.Status, "try_later", oe.Description)
		p.Header = oe.Header
		return p
	case errors.Is(err, login.ErrBadCredentials), errors.As(err, &re):
		return problem.BadField("wrong_password", "currentPassword", "the current password is wrong")
	}
	return err
}

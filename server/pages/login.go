package pages

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

// loginPage renders the hosted login page with a fresh CSRF cookie.
func (p *Pages) loginPage(acct *store.Account, ar *authzRequest, ri reqctx.Info, msg, email string) ([]byte, error) {
	csrf := csrfValue(ri, csrfCookie)
	ar.CSRF, ar.Exp = csrf, p.Now().Add(loginFormTTL).Unix()
	arText, err := p.Keyring.SealJSON(ar, "authz:"+acct.AID)
	if err != nil {
		return nil, err
	}
	p.setCookie(ri, acct.AID, csrfCookie, csrf, int(loginFormTTL/time.Second))
	forgot := p.Accounts.Issuer(acct.AID) + "/auth/forgot-password?" + url.Values{"ar": {arText}, "email": {email}}.Encode()
	return page.Render("login", page.Data{Title: "Sign in", Account: account.Effective(acct).EmailSenderName, Message: msg,
		Action: p.Accounts.Issuer(acct.AID) + "/auth/login", AR: arText, Email: email, Link: forgot})
}

// currentSession finds the browser's live session and its active customer.
func (p *Pages) currentSession(ctx context.Context, aid string, ri reqctx.Info) (*store.Session, *store.Customer) {
	v := ri.Cookie(sessionCookie)
	if v == "" || len(v) > 200 {
		return nil, nil
	}
	now := p.Now()
	se, err := p.Store.Sessions().ByHash(ctx, aid, p.Keyring.HashSecret("session\x00"+v), now)
	if err != nil {
		return nil, nil
	}
	c, err := p.Store.Customers().Get(ctx, aid, se.CustomerID)
	if err != nil || c.Status != store.CustomerActive {
		return nil, nil
	}
	// Extend the idle lifetime at most once a minute: SSO stays a read on the hot path.
	acct, err := p.Accounts.Get(ctx, aid)
	if err != nil {
		return nil, nil
	}
	sessionIdle := time.Duration(account.Effective(acct).SessionIdleLifetime) * time.Second
	if idle := min(now.Add(sessionIdle).UnixMilli(), se.UntilMS); idle-se.IdleUntilMS > time.Minute.Milliseconds() {
		_ = p.Store.Sessions().Touch(ctx, se.ID, idle)
	}
	return se, c
}

// issueAuthCode stores a code for the request and returns the redirect back to the client.
func (p *Pages) issueAuthCode(ctx context.Context, acct *store.Account, ar *authzRequest, c *store.Customer, se *store.Session) (string, error) {
	value := keys.NewJTI() + keys.NewJTI()
	now := p.Now()
	scopes := []string{}
	for _, sc := range ar.Scopes {
		// OpenID scopes always; API scopes only when the customer holds them.
		if tokens.IsOIDCScope(sc) || slices.Contains(c.Scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	code := &store.AuthCode{
		ID: keys.NewID(), AID: acct.AID, Hash: p.Keyring.HashSecret("code\x00" + value), ClientID: ar.ClientID,
		RedirectURI: ar.RedirectURI, CustomerID: c.ID, SessionID: se.ID, Scopes: strings.Join(scopes, " "),
		Audience: ar.Audience, Nonce: ar.Nonce, CodeChallenge: ar.Challenge, AuthTimeMS: se.AuthTimeMS, AMR: se.AMR,
		ExpiresMS: now.Add(codeTTL).UnixMilli(),
	}
	if err := p.Store.AuthCodes().Create(ctx, code); err != nil {
		return "", err
	}
	v := url.Values{"code": {value}}
	if ar.State != "" {
		v.Set("state", ar.State)
	}
	return p.redirectBack(acct.AID, ar.RedirectURI, v), nil
}

// SubmitLogin implements POST .../auth/login, the hosted login form.
func (p *Pages) SubmitLogin(ctx context.Context, req gen.SubmitLoginRequestObject) (gen.SubmitLoginResponseObject, error) {
	acct, err := p.account(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if req.Body == nil || req.Body.Ar == nil {
		return nil, page.Fail(http.StatusBadRequest, "The sign-in form is incomplete. Start again from the application.")
	}
	ri := reqctx.InfoFrom(ctx)
	expired := page.Fail(http.StatusBadRequest, "The sign-in form has expired or was not sent by this browser. Start again from the application.")
	var ar authzRequest
	if err := p.Keyring.OpenJSON(*req.Body.Ar, "authz:"+acct.AID, &ar); err != nil || p.Now().Unix() > ar.Exp {
		return nil, expired
	}
	if cookie := ri.Cookie(csrfCookie); cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(ar.CSRF)) != 1 {
		return nil, expired
	}
	// The client may have changed since the form was shown.
	cc, err := p.Clients.Get(ctx, acct.AID, ar.ClientID)
	if err != nil {
		return nil, err
	}
	if cc == nil || !slices.Contains(cc.RedirectURIs, ar.RedirectURI) {
		return nil, page.Fail(http.StatusBadRequest, "The application is no longer registered for this sign-in.")
	}
	email, password := page.Str(req.Body.Email), page.Str(req.Body.Password)
	again := func(status int, msg string) (gen.SubmitLoginResponseObject, error) {
		body, err := p.loginPage(acct, &ar, ri, msg, email)
		if err != nil {
			return nil, err
		}
		return page.HTML{Status: status, Body: body}, nil
	}
	if email == "" || password == "" {
		return again(http.StatusBadRequest, "Enter your email and password.")
	}
	c, err := p.Login.Check(ctx, acct, login.Request{IdentType: "email", Ident: email, Password: password, Remote: ri.Remote,
		ClientID: ar.ClientID})
	if err != nil {
		status, msg, ok := failure(err)
		if !ok {
			return nil, err
		}
		return again(status, msg)
	}
	// A new session every time: an id planted before login is never promoted (no fixation).
	value := keys.NewJTI() + keys.NewJTI()
	now := p.Now()
	set := account.Effective(acct)
	sessionIdle := time.Duration(set.SessionIdleLifetime) * time.Second
	sessionAbsolute := time.Duration(set.SessionAbsoluteLifetime) * time.Second
	se := &store.Session{ID: keys.NewID(), AID: acct.AID, Hash: p.Keyring.HashSecret("session\x00" + value), CustomerID: c.ID,
		AuthTimeMS: now.UnixMilli(), IdleUntilMS: now.Add(sessionIdle).UnixMilli(), UntilMS: now.Add(sessionAbsolute).UnixMilli()}
	if err := p.Store.Sessions().Create(ctx, se); err != nil {
		return nil, err
	}
	loc, err := p.issueAuthCode(ctx, acct, &ar, c, se)
	if err != nil {
		return nil, err
	}
	p.setCookie(ri, acct.AID, sessionCookie, value, int(sessionAbsolute/time.Second))
	p.setCookie(ri, acct.AID, csrfCookie, "", -1)
	return gen.SubmitLogin303Response{Headers: gen.SubmitLogin303ResponseHeaders{Location: &loc}}, nil
}

// idTokenSubject reads the subject of an ID token this account issued (expired ones too,
// as OpenID Connect allows for id_token_hint).
func (p *Pages) idTokenSubject(ctx context.Context, aid, tok string) (string, error) {
	t, err := p.Tokens.VerifyIDToken(ctx, aid, tok)
	if err != nil {
		return "", err
	}
	sub, _ := t["sub"].(string)
	return sub, nil
}

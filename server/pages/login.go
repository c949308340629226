package pages

import (
	"context"
	"crypto/subtle"
	"errors"
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
func (p *Pages) loginPage(ctx context.Context, acct *store.Account, ar *authzRequest, ri reqctx.Info, msg, email string) ([]byte, error) {
	csrf := csrfValue(ri, csrfCookie)
	ar.CSRF, ar.Exp = csrf, p.Now().Add(loginFormTTL).Unix()
	arText, err := p.Keyring.SealJSON(ar, "authz:"+acct.AID)
	if err != nil {
		return nil, err
	}
	p.setCookie(ri, acct.AID, csrfCookie, csrf, int(loginFormTTL/time.Second))
	forgot := p.Accounts.Issuer(acct.AID) + "/auth/forgot-password?" + url.Values{"ar": {arText}, "email": {email}}.Encode()
	d := page.Data{Title: "Sign in", Account: account.Effective(acct).EmailSenderName, Message: msg,
		Action: p.Accounts.Issuer(acct.AID) + "/auth/login", AR: arText, Email: email, Link: forgot}
	// Passwordless: any discoverable passkey of the account (none when passkeys are off).
	if cer, err := p.Login.BeginPasskeyLogin(ctx, acct, nil); err == nil {
		d.Passkey = &page.Passkey{Mode: "get", Options: cer.Options, State: cer.State, Label: "Sign in with a passkey"}
	}
	return page.Render("login", d)
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
	answer := passkeyAnswer{state: page.Str(req.Body.Passkey), credential: page.Str(req.Body.Credential)}
	if st := page.Str(req.Body.Mfa); st != "" {
		return p.secondStep(ctx, acct, &ar, *req.Body.Ar, ri, st, page.Str(req.Body.Otp), answer)
	}
	email, password := page.Str(req.Body.Email), page.Str(req.Body.Password)
	again := func(status int, msg string) (gen.SubmitLoginResponseObject, error) {
		body, err := p.loginPage(ctx, acct, &ar, ri, msg, email)
		if err != nil {
			return nil, err
		}
		return page.HTML{Status: status, Body: body}, nil
	}
	if answer.given() {
		// Passwordless: the passkey (with user verification) is the whole sign-in.
		c, amr, err := p.Login.FinishPasskeyLogin(ctx, acct, nil, answer.state, answer.credential)
		if err != nil {
			if errors.Is(err, login.ErrPasskey) || errors.Is(err, login.ErrPasskeyCloned) || errors.Is(err, login.ErrBadCredentials) {
				return again(http.StatusUnauthorized, "The passkey could not be used. Sign in with your password.")
			}
			return nil, err
		}
		loc, err := p.signIn(ctx, acct, &ar, ri, c, amr)
		if err != nil {
			return nil, err
		}
		return gen.SubmitLogin303Response{Headers: gen.SubmitLogin303ResponseHeaders{Location: &loc}}, nil
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
	if st, err := p.secondStepDue(ctx, acct, &ar, cc.MFA, c); err != nil || st != nil {
		if err != nil {
			return nil, err
		}
		return p.secondStepPage(ctx, acct, c, *req.Body.Ar, st, http.StatusOK, "")
	}
	loc, err := p.signIn(ctx, acct, &ar, ri, c, []string{login.AMRPassword})
	if err != nil {
		return nil, err
	}
	return gen.SubmitLogin303Response{Headers: gen.SubmitLogin303ResponseHeaders{Location: &loc}}, nil
}

// passkeyAnswer is a passkey form's post: the sealed ceremony and the authenticator's answer.
type passkeyAnswer struct{ state, credential string }

func (a passkeyAnswer) given() bool { return a.state != "" && a.credential != "" }

// mfaState is the second step of a hosted sign-in, sealed into its form: the customer who
// gave the password, for an enrolment the pending factor and its key URI (to show again
// after a wrong code), bound to the login form's CSRF value, with an expiry.
type mfaState struct {
	CustomerID string `json:"c"`
	FactorID   string `json:"f,omitempty"`
	URI        string `json:"u,omitempty"`
	CSRF       string `json:"x"`
	Exp        int64  `json:"e"`
}

// secondStepDue answers the second step a sign-in of c through a client with the mfa
// override clientMFA still needs (nil: none): when the policy is not off and c has a
// factor, the policy requires one, or the request asked for a multi-factor sign-in. A
// customer who owes one and has none enrols a pending TOTP factor.
func (p *Pages) secondStepDue(ctx context.Context, acct *store.Account, ar *authzRequest, clientMFA string, c *store.Customer) (*mfaState, error) {
	policy := login.Policy(acct, clientMFA)
	if policy == login.MFAOff {
		return nil, nil
	}
	types, err := p.Login.FactorTypes(ctx, acct, c)
	if err != nil {
		return nil, err
	}
	if len(types) == 0 && policy != login.MFARequired && !ar.MFA {
		return nil, nil
	}
	st := &mfaState{CustomerID: c.ID, CSRF: ar.CSRF, Exp: p.Now().Add(login.MFATokenLifetime).Unix()}
	if len(types) == 0 {
		en, err := p.Login.EnrolTOTP(ctx, acct, c, "")
		if err != nil {
			return nil, err
		}
		st.FactorID, st.URI = en.Factor.ID, en.URI
	}
	return st, nil
}

// secondStepPage renders the code page of c, or for an enrolment the QR code page, with st
// sealed into the form beside the authorization request arText.
func (p *Pages) secondStepPage(ctx context.Context, acct *store.Account, c *store.Customer, arText string, st *mfaState, status int, msg string) (gen.SubmitLoginResponseObject, error) {
	stText, err := p.Keyring.SealJSON(st, "mfa:"+acct.AID)
	if err != nil {
		return nil, err
	}
	d := page.Data{Title: "Second step", Account: account.Effective(acct).EmailSenderName, Message: msg,
		Action: p.Accounts.Issuer(acct.AID) + "/auth/login", AR: arText, MFA: stText}
	name := "mfa"
	if st.FactorID == "" {
		// The customer's passkeys, as the second factor.
		if cer, err := p.Login.BeginPasskeyLogin(ctx, acct, c); err == nil && cer != nil {
			d.Passkey = &page.Passkey{Mode: "get", Options: cer.Options, State: cer.State, Label: "Use your passkey"}
		}
	} else {
		name, d.Title = "enrol", "Set up a second factor"
		if d.Image, d.Secret, err = totpImage(st.URI); err != nil {
			return nil, err
		}
	}
	body, err := page.Render(name, d)
	if err != nil {
		return nil, err
	}
	return page.HTML{Status: status, Body: body}, nil
}

// secondStep checks the second step's code: a TOTP or recovery code of the customer (for an
// enrolment, the first code of the pending factor, which confirms it, and then the
// recovery codes are shown once), throttled like passwords. It then signs in with amr
// pwd otp mfa.
func (p *Pages) secondStep(ctx context.Context, acct *store.Account, ar *authzRequest, arText string, ri reqctx.Info, stText, otp string, answer passkeyAnswer) (gen.SubmitLoginResponseObject, error) {
	expired := page.Fail(http.StatusBadRequest, "The sign-in has expired. Start again from the application.")
	var st mfaState
	if err := p.Keyring.OpenJSON(stText, "mfa:"+acct.AID, &st); err != nil || p.Now().Unix() > st.Exp ||
		subtle.ConstantTimeCompare([]byte(st.CSRF), []byte(ar.CSRF)) != 1 {
		return nil, expired
	}
	c, err := p.Store.Customers().Get(ctx, acct.AID, st.CustomerID)
	if err != nil || c.Status != store.CustomerActive {
		return nil, expired
	}
	if answer.given() && st.FactorID == "" {
		_, amr, err := p.Login.FinishPasskeyLogin(ctx, acct, c, answer.state, answer.credential)
		if err != nil {
			if errors.Is(err, login.ErrPasskey) || errors.Is(err, login.ErrPasskeyCloned) {
				return p.secondStepPage(ctx, acct, c, arText, &st, http.StatusUnauthorized, "The passkey could not be used.")
			}
			return nil, err
		}
		loc, err := p.signIn(ctx, acct, ar, ri, c, login.WithMFA([]string{login.AMRPassword}, amr...))
		if err != nil {
			return nil, err
		}
		return gen.SubmitLogin303Response{Headers: gen.SubmitLogin303ResponseHeaders{Location: &loc}}, nil
	}
	if strings.TrimSpace(otp) == "" {
		return p.secondStepPage(ctx, acct, c, arText, &st, http.StatusBadRequest, "Enter the code.")
	}
	if _, err := p.Login.CheckOTP(ctx, acct, c, otp, st.FactorID); err != nil {
		if errors.Is(err, login.ErrBadOTP) {
			return p.secondStepPage(ctx, acct, c, arText, &st, http.StatusUnauthorized, "That code is wrong or was used already.")
		}
		status, msg, ok := failure(err)
		if !ok {
			return nil, err
		}
		return p.secondStepPage(ctx, acct, c, arText, &st, status, msg)
	}
	loc, err := p.signIn(ctx, acct, ar, ri, c, []string{login.AMRPassword, login.AMROTP, login.AMRMFA})
	if err != nil {
		return nil, err
	}
	if st.FactorID != "" {
		codes, err := p.Login.NewRecoveryCodes(ctx, acct, c)
		if err != nil {
			return nil, err
		}
		body, err := page.Render("recovery", page.Data{Title: "Your recovery codes", Account: account.Effective(acct).EmailSenderName,
			Codes: codes, Link: loc, LinkText: "Continue to the application"})
		if err != nil {
			return nil, err
		}
		return page.HTML{Status: http.StatusOK, Body: body}, nil
	}
	return gen.SubmitLogin303Response{Headers: gen.SubmitLogin303ResponseHeaders{Location: &loc}}, nil
}

// signIn starts a session of c signed in with amr and answers the redirect back to the
// client with a code.
func (p *Pages) signIn(ctx context.Context, acct *store.Account, ar *authzRequest, ri reqctx.Info, c *store.Customer, amr []string) (string, error) {
	// A new session every time: an id planted before login is never promoted (no fixation).
	value := keys.NewJTI() + keys.NewJTI()
	now := p.Now()
	set := account.Effective(acct)
	sessionIdle := time.Duration(set.SessionIdleLifetime) * time.Second
	sessionAbsolute := time.Duration(set.SessionAbsoluteLifetime) * time.Second
	se := &store.Session{ID: keys.NewID(), AID: acct.AID, Hash: p.Keyring.HashSecret("session\x00" + value), CustomerID: c.ID,
		AuthTimeMS: now.UnixMilli(), IdleUntilMS: now.Add(sessionIdle).UnixMilli(), UntilMS: now.Add(sessionAbsolute).UnixMilli(),
		AMR: strings.Join(amr, " ")}
	if err := p.Store.Sessions().Create(ctx, se); err != nil {
		return "", err
	}
	loc, err := p.issueAuthCode(ctx, acct, ar, c, se)
	if err != nil {
		return "", err
	}
	p.setCookie(ri, acct.AID, sessionCookie, value, int(sessionAbsolute/time.Second))
	p.setCookie(ri, acct.AID, csrfCookie, "", -1)
	return loc, nil
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

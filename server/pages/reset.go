package pages

// Hosted pages of the password reset and invitation flows (the customer API's reset, in
// the browser).

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// pwForm renders the forgot or reset form with a fresh CSRF cookie.
func (p *Pages) pwForm(ctx context.Context, acct *store.Account, name string, status int, d page.Data) (page.HTML, error) {
	d.CSRF = csrfValue(reqctx.InfoFrom(ctx), pwCSRFCookie)
	d.Account = account.Effective(acct).EmailSenderName
	p.setCookie(reqctx.InfoFrom(ctx), acct.AID, pwCSRFCookie, d.CSRF, int(loginFormTTL/time.Second))
	body, err := page.Render(name, d)
	return page.HTML{Status: status, Body: body}, err
}

// checkPwCSRF compares the form's CSRF field with the reset forms' own cookie.
func (p *Pages) checkPwCSRF(ctx context.Context, sent *string) error {
	cookie := reqctx.InfoFrom(ctx).Cookie(pwCSRFCookie)
	if sent == nil || cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(*sent)) != 1 {
		return page.Fail(http.StatusBadRequest, "The form has expired or was not sent by this browser. Open the page again.")
	}
	return nil
}

// resetData is what the reset form shows; ar carries the sign-in to resume afterwards.
func (p *Pages) resetData(acct *store.Account, title, email, code, ar string) page.Data {
	return page.Data{Title: title, Action: p.Accounts.Issuer(acct.AID) + "/auth/reset-password", Email: email, Code: code, AR: ar}
}

// ForgotPasswordPage implements GET .../auth/forgot-password.
func (p *Pages) ForgotPasswordPage(ctx context.Context, req gen.ForgotPasswordPageRequestObject) (gen.ForgotPasswordPageResponseObject, error) {
	acct, err := p.account(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	return p.pwForm(ctx, acct, "forgot", http.StatusOK, page.Data{Title: "Forgot password",
		Action: p.Accounts.Issuer(acct.AID) + "/auth/forgot-password", Email: page.Str(req.Params.Email), AR: page.Str(req.Params.Ar)})
}

// SubmitForgotPassword implements POST .../auth/forgot-password: the same answer, in the
// same time, whether or not the email belongs to a customer (login.RequestReset).
func (p *Pages) SubmitForgotPassword(ctx context.Context, req gen.SubmitForgotPasswordRequestObject) (gen.SubmitForgotPasswordResponseObject, error) {
	acct, err := p.account(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, page.Fail(http.StatusBadRequest, "The form is incomplete.")
	}
	if err := p.checkPwCSRF(ctx, req.Body.Csrf); err != nil {
		return nil, err
	}
	email := page.Str(req.Body.Email)
	p.Login.RequestReset(acct, email, string(gen.CustomerTypeCustomer))
	d := p.resetData(acct, "Choose a new password", email, "", page.Str(req.Body.Ar))
	d.Message = "If this email belongs to an account, a code is on its way. It is valid for 15 minutes."
	return p.pwForm(ctx, acct, "reset", http.StatusOK, d)
}

// ResetPasswordPage implements GET .../auth/reset-password (the reset email's link).
func (p *Pages) ResetPasswordPage(ctx context.Context, req gen.ResetPasswordPageRequestObject) (gen.ResetPasswordPageResponseObject, error) {
	acct, err := p.account(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	q := req.Params
	return p.pwForm(ctx, acct, "reset", http.StatusOK, p.resetData(acct, "Choose a new password", page.Str(q.Email), page.Str(q.Code), page.Str(q.Ar)))
}

// AcceptInvitationPage implements GET .../auth/accept-invitation (the invitation's link).
func (p *Pages) AcceptInvitationPage(ctx context.Context, req gen.AcceptInvitationPageRequestObject) (gen.AcceptInvitationPageResponseObject, error) {
	acct, err := p.account(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	q := req.Params
	return p.pwForm(ctx, acct, "reset", http.StatusOK, p.resetData(acct, "Accept your invitation", page.Str(q.Email), page.Str(q.Code), ""))
}

// SubmitResetPassword implements POST .../auth/reset-password: the password is checked and
// hashed first, so a weak password does not use the code up.
func (p *Pages) SubmitResetPassword(ctx context.Context, req gen.SubmitResetPasswordRequestObject) (gen.SubmitResetPasswordResponseObject, error) {
	acct, err := p.account(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	b := req.Body
	if b == nil {
		return nil, page.Fail(http.StatusBadRequest, "The form is incomplete.")
	}
	if err := p.checkPwCSRF(ctx, b.Csrf); err != nil {
		return nil, err
	}
	email, code, ar := page.Str(b.Email), page.Str(b.Code), page.Str(b.Ar)
	again := func(status int, msg string) (gen.SubmitResetPasswordResponseObject, error) {
		d := p.resetData(acct, "Choose a new password", email, code, ar)
		d.Message = msg
		return p.pwForm(ctx, acct, "reset", status, d)
	}
	hash, err := p.Login.Hash(ctx, page.Str(b.Password))
	var pe *passwords.PolicyError
	switch {
	case errors.As(err, &pe):
		return again(http.StatusBadRequest, pe.Message)
	case errors.Is(err, login.ErrBusy):
		return again(http.StatusServiceUnavailable, "Too many requests right now. Try again in a moment.")
	case err != nil:
		return nil, err
	}
	c, err := p.Login.Redeem(ctx, acct, email, "", code, reqctx.InfoFrom(ctx).Remote)
	if err != nil {
		status, msg, ok := failure(err)
		if !ok {
			return nil, err
		}
		return again(status, msg)
	}
	invited := c.Status == store.CustomerInvited
	if err := p.Store.Customers().SetPassword(ctx, c, hash, true, p.Now()); err != nil {
		return nil, err
	}
	typ, reason := gen.CustomerPasswordChanged, "reset by emailed code"
	if invited {
		typ, reason = gen.InvitationAccepted, ""
	}
	p.Audit.Record(ctx, audit.Event{AID: acct.AID, Type: typ, Actor: audit.Customer(c.ID), SubjectType: "customer",
		SubjectID: c.ID, Reason: reason})
	done := page.Data{Title: "Password set", Account: account.Effective(acct).EmailSenderName, Message: "Your password is set. You can sign in now."}
	if link := p.resumeLink(acct, ar, email); link != "" {
		done.Link, done.LinkText = link, "Continue to sign in"
	}
	body, err := page.Render("message", done)
	if err != nil {
		return nil, err
	}
	p.setCookie(reqctx.InfoFrom(ctx), acct.AID, pwCSRFCookie, "", -1)
	return page.HTML{Status: http.StatusOK, Body: body}, nil
}

// resumeLink rebuilds the authorization request a reset started from, so the customer can
// sign in to the application they came from.
func (p *Pages) resumeLink(acct *store.Account, ar, email string) string {
	if ar == "" {
		return ""
	}
	var r authzRequest
	if p.Keyring.OpenJSON(ar, "authz:"+acct.AID, &r) != nil {
		return ""
	}
	v := url.Values{"response_type": {"code"}, "client_id": {r.ClientID}, "redirect_uri": {r.RedirectURI},
		"scope": {strings.Join(r.Scopes, " ")}, "login_hint": {email}}
	if r.State != "" {
		v.Set("state", r.State)
	}
	if r.Nonce != "" {
		v.Set("nonce", r.Nonce)
	}
	if r.Challenge != "" {
		v.Set("code_challenge", r.Challenge)
		v.Set("code_challenge_method", "S256")
	}
	if r.Audience != "" {
		v.Set("audience", r.Audience)
	}
	return p.Accounts.Issuer(acct.AID) + "/auth/authorize?" + v.Encode()
}

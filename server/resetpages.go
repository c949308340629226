package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/store"
)

// Hosted pages of the password reset and invitation flows (the customers API's reset, in
// the browser). Forms are CSRF-protected by a cookie of their own, so a reset started from
// the login page does not spoil that page's form.

const pwCSRFCookie = "twinid_csrf_pw"

func (s *Server) pageAccount(ctx context.Context, aid string) (*store.Account, error) {
	acct, err := s.account(ctx, aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorPage(http.StatusNotFound, "There is no such account.")
	}
	return acct, err
}

// pwForm renders the forgot or reset form with a fresh CSRF cookie.
func (s *Server) pwForm(ctx context.Context, acct *store.Account, name string, status int, d pageData) (htmlPage, error) {
	d.CSRF = csrfValue(requestInfoFrom(ctx), pwCSRFCookie)
	d.Account = s.settings(acct).EmailSenderName
	s.setCookie(requestInfoFrom(ctx), acct.AID, pwCSRFCookie, d.CSRF, int(loginFormTTL/time.Second))
	body, err := renderPage(name, d)
	return htmlPage{status: status, body: body}, err
}

// csrfValue keeps the browser's CSRF token when it has one, so that two open forms (tabs,
// the back button) both stay valid; else it draws a new one.
func csrfValue(ri requestInfo, cookie string) string {
	if v := ri.cookie(cookie); len(v) >= 22 && len(v) <= 64 {
		return v
	}
	return newJTI()
}

func (s *Server) checkPwCSRF(ctx context.Context, sent *string) error {
	cookie := requestInfoFrom(ctx).cookie(pwCSRFCookie)
	if sent == nil || cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(*sent)) != 1 {
		return errorPage(http.StatusBadRequest, "The form has expired or was not sent by this browser. Open the page again.")
	}
	return nil
}

func (s *Server) resetData(acct *store.Account, title, email, code, ar string) pageData {
	return pageData{Title: title, Action: s.issuer(acct.AID) + "/auth/reset-password", Email: email, Code: code, AR: ar}
}

// ForgotPasswordPage implements GET .../auth/forgot-password.
func (s *Server) ForgotPasswordPage(ctx context.Context, req gen.ForgotPasswordPageRequestObject) (gen.ForgotPasswordPageResponseObject, error) {
	acct, err := s.pageAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	return s.pwForm(ctx, acct, "forgot", http.StatusOK, pageData{Title: "Forgot password",
		Action: s.issuer(acct.AID) + "/auth/forgot-password", Email: str(req.Params.Email), AR: str(req.Params.Ar)})
}

// SubmitForgotPassword implements POST .../auth/forgot-password: the same answer whether or
// not the email belongs to a customer.
func (s *Server) SubmitForgotPassword(ctx context.Context, req gen.SubmitForgotPasswordRequestObject) (gen.SubmitForgotPasswordResponseObject, error) {
	acct, err := s.pageAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if req.Body == nil {
		return nil, errorPage(http.StatusBadRequest, "The form is incomplete.")
	}
	if err := s.checkPwCSRF(ctx, req.Body.Csrf); err != nil {
		return nil, err
	}
	email := str(req.Body.Email)
	if err := s.sendResetCode(ctx, acct, email, string(gen.CustomerTypeCustomer)); err != nil {
		return nil, err
	}
	d := s.resetData(acct, "Choose a new password", email, "", str(req.Body.Ar))
	d.Message = "If this email belongs to an account, a code is on its way. It is valid for 15 minutes."
	return s.pwForm(ctx, acct, "reset", http.StatusOK, d)
}

// sendResetCode mails a reset code (an invitation code to an invited customer) when the
// email belongs to a customer who may sign in, at most once a minute. It reveals nothing.
func (s *Server) sendResetCode(ctx context.Context, acct *store.Account, email, typ string) error {
	_, key, ok := normEmail(email)
	if !ok {
		return nil
	}
	c, err := s.store.FindCustomer(ctx, acct.AID, typ, key, "")
	if errors.Is(err, store.ErrNotFound) || (c != nil && c.Status == store.CustomerDisabled) {
		return nil
	}
	if err != nil {
		return err
	}
	if last, err := s.store.LatestCode(ctx, c.ID); err == nil && time.Since(time.UnixMilli(last.CreatedMS)) < codeResendGap {
		return nil
	}
	purpose := store.PurposeReset
	if c.Status == store.CustomerInvited {
		purpose = store.PurposeInvitation
	}
	return s.issueCode(ctx, acct, c, purpose)
}

// ResetPasswordPage implements GET .../auth/reset-password (the reset email's link).
func (s *Server) ResetPasswordPage(ctx context.Context, req gen.ResetPasswordPageRequestObject) (gen.ResetPasswordPageResponseObject, error) {
	acct, err := s.pageAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	p := req.Params
	return s.pwForm(ctx, acct, "reset", http.StatusOK, s.resetData(acct, "Choose a new password", str(p.Email), str(p.Code), str(p.Ar)))
}

// AcceptInvitationPage implements GET .../auth/accept-invitation (the invitation's link).
func (s *Server) AcceptInvitationPage(ctx context.Context, req gen.AcceptInvitationPageRequestObject) (gen.AcceptInvitationPageResponseObject, error) {
	acct, err := s.pageAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	p := req.Params
	return s.pwForm(ctx, acct, "reset", http.StatusOK, s.resetData(acct, "Accept your invitation", str(p.Email), str(p.Code), ""))
}

// SubmitResetPassword implements POST .../auth/reset-password: the password is checked and
// hashed first, so a weak password does not use the code up.
func (s *Server) SubmitResetPassword(ctx context.Context, req gen.SubmitResetPasswordRequestObject) (gen.SubmitResetPasswordResponseObject, error) {
	acct, err := s.pageAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	b := req.Body
	if b == nil {
		return nil, errorPage(http.StatusBadRequest, "The form is incomplete.")
	}
	if err := s.checkPwCSRF(ctx, b.Csrf); err != nil {
		return nil, err
	}
	email, code, ar := str(b.Email), str(b.Code), str(b.Ar)
	again := func(status int, msg string) (gen.SubmitResetPasswordResponseObject, error) {
		d := s.resetData(acct, "Choose a new password", email, code, ar)
		d.Message = msg
		return s.pwForm(ctx, acct, "reset", status, d)
	}
	pw := str(b.Password)
	if err := passwords.Check(pw); err != nil {
		var pe *passwords.PolicyError
		if errors.As(err, &pe) {
			return again(http.StatusBadRequest, pe.Message)
		}
		return nil, err
	}
	hash, err := s.pwpool.Hash(ctx, pw)
	if errors.Is(err, passwords.ErrBusy) {
		return again(http.StatusServiceUnavailable, "Too many requests right now. Try again in a moment.")
	}
	if err != nil {
		return nil, err
	}
	c, err := s.redeemCode(ctx, acct, email, "", code, requestInfoFrom(ctx).remote)
	if err != nil {
		var oe *oauthError
		if errors.As(err, &oe) && oe.Status == http.StatusTooManyRequests {
			return again(http.StatusTooManyRequests, "Too many wrong codes. Try again in "+oe.Header.Get("Retry-After")+" seconds.")
		}
		if errors.As(err, &oe) {
			return again(http.StatusBadRequest, "The code is wrong, used or expired. Ask for a new one if needed.")
		}
		return nil, err
	}
	if err := s.store.SetPassword(ctx, c, hash, true, time.Now()); err != nil {
		return nil, err
	}
	done := pageData{Title: "Password set", Account: s.settings(acct).EmailSenderName, Message: "Your password is set. You can sign in now."}
	if link := s.resumeLink(acct, ar, email); link != "" {
		done.Link, done.LinkText = link, "Continue to sign in"
	}
	body, err := renderPage("message", done)
	if err != nil {
		return nil, err
	}
	s.setCookie(requestInfoFrom(ctx), acct.AID, pwCSRFCookie, "", -1)
	return htmlPage{status: http.StatusOK, body: body}, nil
}

// resumeLink rebuilds the authorization request a reset started from, so the customer can
// sign in to the application they came from.
func (s *Server) resumeLink(acct *store.Account, ar, email string) string {
	if ar == "" {
		return ""
	}
	var r authzRequest
	if s.keyring.openJSON(ar, "authz:"+acct.AID, &r) != nil {
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
	return s.issuer(acct.AID) + "/auth/authorize?" + v.Encode()
}

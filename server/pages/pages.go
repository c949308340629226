package pages

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

// Cookies and lifetimes of the hosted sign-in.
const (
	sessionCookie = "twinid_session"
	csrfCookie    = "twinid_csrf"
	// pwCSRFCookie protects the reset forms on their own, so a reset started from the login
	// page does not spoil that page's form.
	pwCSRFCookie = "twinid_csrf_pw"
	codeTTL      = 60 * time.Second
	loginFormTTL = 30 * time.Minute
)

// Deps are what the hosted pages work with.
type Deps struct {
	Store    *store.Store
	Accounts *account.Accounts
	Keyring  *keys.Keyring
	Tokens   *tokens.Tokens
	Clients  *clients.Clients
	Login    *login.Login
	// Audit records accepted invitations and reset passwords.
	Audit *audit.Recorder
	Now   func() time.Time
}

// Pages implements the browser operations of the generated strict interface.
type Pages struct{ Deps }

// New returns the hosted pages.
func New(d Deps) *Pages { return &Pages{Deps: d} }

// account loads the account of a page, a 404 page when unknown.
func (p *Pages) account(ctx context.Context, aid string) (*store.Account, error) {
	acct, err := p.Accounts.Get(ctx, aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, page.Fail(http.StatusNotFound, "There is no such account.")
	}
	return acct, err
}

// setCookie adds a cookie scoped to the account's paths; maxAge < 0 deletes it.
func (p *Pages) setCookie(ri reqctx.Info, aid, name, value string, maxAge int) {
	page.SetCookie(ri.Header, p.Accounts.HTTPS(), "/v1/accounts/"+aid+"/", name, value, maxAge)
}

// csrfValue keeps the browser's CSRF token when it has one, so that two open forms (tabs,
// the back button) both stay valid; else it draws a new one.
func csrfValue(ri reqctx.Info, cookie string) string {
	if v := ri.Cookie(cookie); len(v) >= 22 && len(v) <= 64 {
		return v
	}
	return keys.NewJTI()
}

// redirectBack builds the client's redirect with parameters (RFC 6749 §4.1.2, RFC 9207 iss).
func (p *Pages) redirectBack(aid, redirectURI string, v url.Values) string {
	v.Set("iss", p.Accounts.Issuer(aid))
	return page.WithQuery(redirectURI, v)
}

// failure is the one place the pages word a refused sign-in or code for the person: the
// status and message of the form shown again. ok is false for errors that are not refusals.
func failure(err error) (status int, msg string, ok bool) {
	var lo *login.LockedOut
	var re *login.RequestError
	switch {
	case errors.As(err, &lo) && lo.Codes:
		return http.StatusTooManyRequests, "Too many wrong codes. Try again in " + strconv.Itoa(lo.Seconds()) + " seconds.", true
	case errors.As(err, &lo):
		return http.StatusTooManyRequests, "Too many failed attempts. Try again in " + strconv.Itoa(lo.Seconds()) + " seconds.", true
	case errors.Is(err, login.ErrBusy):
		return http.StatusServiceUnavailable, "Too many sign-ins right now. Try again in a moment.", true
	case errors.Is(err, login.ErrBadCode):
		return http.StatusBadRequest, "The code is wrong, used or expired. Ask for a new one if needed.", true
	case errors.Is(err, login.ErrBadCredentials), errors.As(err, &re):
		return http.StatusUnauthorized, "Wrong email or password.", true
	}
	return 0, "", false
}

// authzRequest is a validated authorization request. The login form carries it sealed
// (AES-GCM with the master key), bound to the CSRF cookie and with an expiry.
type authzRequest struct {
	ClientID    string   `json:"c"`
	RedirectURI string   `json:"r"`
	State       string   `json:"s,omitempty"`
	Nonce       string   `json:"n,omitempty"`
	Challenge   string   `json:"p,omitempty"`
	Scopes      []string `json:"sc"`
	Audience    string   `json:"a,omitempty"`
	LoginHint   string   `json:"h,omitempty"`
	// MFA: acr_values asked for a multi-factor sign-in.
	MFA  bool   `json:"m,omitempty"`
	CSRF string `json:"x"`
	Exp  int64  `json:"e"`
}

// totpImage is an otpauth key URI as a QR code (a data: URI, which the pages' CSP allows for
// images) and the key in it, for typing in.
func totpImage(uri string) (template.URL, string, error) {
	png, err := qrcode.Encode(uri, qrcode.Medium, 256)
	if err != nil {
		return "", "", err
	}
	secret := ""
	if u, err := url.Parse(uri); err == nil {
		secret = u.Query().Get("secret")
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), secret, nil
}

package page

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// Hosted pages: server-rendered, labelled fields, escaped by html/template. The only script
// is WebAuthnJS, for the passkey forms, served from twinid itself (the CSP allows no inline
// script).

// WebAuthnJS is the passkey forms' script, served at WebAuthnJSPath.
//
//go:embed webauthn.js
var WebAuthnJS []byte

// WebAuthnJSPath is where the pages load WebAuthnJS from.
const WebAuthnJSPath = "/assets/webauthn.js"

// passkeyForm is a passkey ceremony's form: its options for the script, the sealed
// ceremony state and the field the script fills with the authenticator's answer.
const passkeyForm = `{{define "passkey"}}<form method="post" action="{{.Action}}" data-webauthn="{{.Passkey.Mode}}" data-options="{{.Passkey.Options}}">
{{if .CSRF}}<input type="hidden" name="csrf" value="{{.CSRF}}">{{end}}{{if .AR}}<input type="hidden" name="ar" value="{{.AR}}">{{end}}
{{if .MFA}}<input type="hidden" name="mfa" value="{{.MFA}}">{{end}}{{if .Passkey.Action}}<input type="hidden" name="action" value="{{.Passkey.Action}}">{{end}}
<input type="hidden" name="passkey" value="{{.Passkey.State}}"><input type="hidden" name="credential" value="">
<button type="submit" id="passkey-button">{{.Passkey.Label}}</button><p class="error" data-webauthn-error role="status"></p>
</form><script src="` + WebAuthnJSPath + `"></script>{{end}}`

const pageLayout = `{{define "layout"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} · {{.Account}}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f5f7;margin:0;color:#1d2330}
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.3rem;margin:0 0 .25rem}p.account{color:#5b6372;margin:0 0 1.5rem}
label{display:block;font-weight:600;margin:1rem 0 .3rem}input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;border:1px solid #b8bfcc;border-radius:.3rem}
button{margin-top:1.5rem;width:100%;padding:.7rem;font-size:1rem;background:#2457d6;color:#fff;border:0;border-radius:.3rem;cursor:pointer}
.error{background:#fde8e8;color:#8a1c1c;padding:.7rem;border-radius:.3rem}.links{margin-top:1rem;font-size:.9rem}
</style></head><body><main>
<h1>{{.Title}}</h1><p class="account">{{.Account}}</p>
{{if .Message}}<p class="error" role="alert">{{.Message}}</p>{{end}}
{{template "body" .}}
</main></body></html>{{end}}`

var templates = map[string]*template.Template{
	"login": pageTemplate(`{{define "body"}}{{if .Passkey}}{{template "passkey" .}}<p>or</p>{{end}}<form method="post" action="{{.Action}}">
<input type="hidden" name="ar" value="{{.AR}}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="{{.Email}}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p class="links"><a href="{{.Link}}">Forgot your password?</a></p>{{end}}`),
	"forgot": pageTemplate(`{{define "body"}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="ar" value="{{.AR}}">
<p>Enter your email. If it belongs to an account, we send you a code to choose a new password.</p>
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="{{.Email}}">
<button type="submit">Send the code</button>
</form>{{end}}`),
	"reset": pageTemplate(`{{define "body"}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="ar" value="{{.AR}}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="{{.Email}}">
<label for="code">Code from the email</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required value="{{.Code}}">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required>
<button type="submit">Set the password</button>
</form>{{end}}`),
	"mfa": pageTemplate(`{{define "body"}}<form method="post" action="{{.Action}}">
<input type="hidden" name="ar" value="{{.AR}}"><input type="hidden" name="mfa" value="{{.MFA}}">
<p>Enter the code from your authenticator app, or one of your recovery codes.</p>
<label for="otp">Code</label>
<input id="otp" name="otp" autocomplete="one-time-code" autocapitalize="none" autofocus required>
<button type="submit">Continue</button>
</form>{{if .Passkey}}<p>or</p>{{template "passkey" .}}{{end}}{{end}}`),
	"enrol": pageTemplate(`{{define "body"}}<form method="post" action="{{.Action}}">
<input type="hidden" name="ar" value="{{.AR}}"><input type="hidden" name="mfa" value="{{.MFA}}">
<p>This account needs a second factor. Scan the code with an authenticator app, then enter the 6-digit code it shows.</p>
<p><img src="{{.Image}}" alt="QR code of the authenticator key" width="256" height="256"></p>
<p>Or type in the key: <code id="secret">{{.Secret}}</code></p>
<label for="otp">Code from the app</label>
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Turn on</button>
</form>{{end}}`),
	"recovery": pageTemplate(`{{define "body"}}<p>Keep these recovery codes somewhere safe. Each signs you in once if you lose your authenticator; they are shown only now.</p>
<ul id="recovery-codes">{{range .Codes}}<li><code>{{.}}</code></li>{{end}}</ul>
<p class="links"><a href="{{.Link}}">{{.LinkText}}</a></p>{{end}}`),
	"factors": pageTemplate(`{{define "body"}}<table id="factors">{{range .Factors}}<tr><td>{{.Name}}</td><td>{{.Type}}</td>
<td>added {{.Created}}</td><td>{{if .LastUsed}}last used {{.LastUsed}}{{else}}never used{{end}}</td>
<td><form method="post" action="{{$.Action}}"><input type="hidden" name="csrf" value="{{$.CSRF}}">
<input type="hidden" name="action" value="remove"><input type="hidden" name="factor" value="{{.ID}}">
<button type="submit" aria-label="Remove {{.Name}}">Remove</button></form></td></tr>{{else}}<tr><td>No second factor yet.</td></tr>{{end}}</table>
<form method="post" action="{{.Action}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="action" value="enrol"><button type="submit">Add an authenticator app</button></form>
<form method="post" action="{{.Action}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="action" value="recovery"><button type="submit">New recovery codes</button></form>
{{if .Passkey}}{{template "passkey" .}}{{else}}<form method="post" action="{{.Action}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<input type="hidden" name="action" value="passkey"><button type="submit">Add a passkey</button></form>{{end}}{{end}}`),
	"factor-enrol": pageTemplate(`{{define "body"}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="action" value="confirm">
<input type="hidden" name="factor" value="{{.Code}}">
<p>Scan the code with an authenticator app, then enter the 6-digit code it shows.</p>
<p><img src="{{.Image}}" alt="QR code of the authenticator key" width="256" height="256"></p>
<p>Or type in the key: <code id="secret">{{.Secret}}</code></p>
<label for="otp">Code from the app</label>
<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit">Turn on</button>
</form>{{end}}`),
	"message": pageTemplate(`{{define "body"}}{{if .Link}}<p class="links"><a href="{{.Link}}">{{.LinkText}}</a></p>{{end}}{{end}}`),
}

func pageTemplate(body string) *template.Template {
	return template.Must(template.Must(template.Must(template.New("layout").Parse(pageLayout)).Parse(passkeyForm)).Parse(body))
}

// Data is what the templates show; every field is escaped by html/template.
type Data struct {
	Title, Account, Message string
	Action, AR, Email, CSRF string
	Code                    string
	Link, LinkText          string
	// MFA is the sealed state of a second step; Image a QR code (a data: URI twinid made);
	// Secret a TOTP key to type in; Codes recovery codes to show once.
	MFA, Secret string
	Image       template.URL
	Codes       []string
	// Factors are the rows of the factors page.
	Factors []FactorRow
	// Passkey, when set, adds a passkey ceremony's form.
	Passkey *Passkey
}

// Passkey is a WebAuthn ceremony on a page: Mode create or get, the options (JSON), the
// sealed state, the button's label, and for the factors page the form's action.
type Passkey struct{ Mode, Options, State, Label, Action string }

// FactorRow is one factor as the factors page lists it.
type FactorRow struct{ ID, Name, Type, Created, LastUsed string }

// Render renders the page template name: login, forgot, reset, mfa, enrol, recovery,
// factors, factor-enrol or message.
func Render(name string, d Data) ([]byte, error) {
	var b bytes.Buffer
	if err := templates[name].ExecuteTemplate(&b, "layout", d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// HTML is a rendered page with its status (UTF-8, never cached), answering any of the
// generated browser operations.
type HTML struct {
	Status int
	Body   []byte
}

func (p HTML) write(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, err := w.Write(p.Body)
	return err
}

func (p HTML) VisitAuthorizeResponse(w http.ResponseWriter) error            { return p.write(w) }
func (p HTML) VisitSubmitLoginResponse(w http.ResponseWriter) error          { return p.write(w) }
func (p HTML) VisitLogoutResponse(w http.ResponseWriter) error               { return p.write(w) }
func (p HTML) VisitForgotPasswordPageResponse(w http.ResponseWriter) error   { return p.write(w) }
func (p HTML) VisitSubmitForgotPasswordResponse(w http.ResponseWriter) error { return p.write(w) }
func (p HTML) VisitResetPasswordPageResponse(w http.ResponseWriter) error    { return p.write(w) }
func (p HTML) VisitSubmitResetPasswordResponse(w http.ResponseWriter) error  { return p.write(w) }
func (p HTML) VisitAcceptInvitationPageResponse(w http.ResponseWriter) error { return p.write(w) }
func (p HTML) VisitFactorsPageResponse(w http.ResponseWriter) error          { return p.write(w) }
func (p HTML) VisitSubmitFactorsPageResponse(w http.ResponseWriter) error    { return p.write(w) }

// Error is an error shown as an HTML page with its status; the message is for the person.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// Fail returns the error page of status with msg.
func Fail(status int, msg string) *Error { return &Error{Status: status, Message: msg} }

// SetCookie adds an HttpOnly, SameSite=Lax cookie for path to the response header h
// (Secure when twinid is reached over https); maxAge < 0 deletes it.
func SetCookie(h http.Header, secure bool, path, name, value string, maxAge int) {
	setCookie(h, secure, http.SameSiteLaxMode, path, name, value, maxAge)
}

// SetCrossSiteCookie is SetCookie for a cookie that a browser app on another site sends back
// with fetch (credentials "include", allowed by CORS): SameSite=None, which browsers accept
// only with Secure, so over http it stays Lax (same-site apps, such as loopback ports).
func SetCrossSiteCookie(h http.Header, secure bool, path, name, value string, maxAge int) {
	same := http.SameSiteLaxMode
	if secure {
		same = http.SameSiteNoneMode
	}
	setCookie(h, secure, same, path, name, value, maxAge)
}

func setCookie(h http.Header, secure bool, same http.SameSite, path, name, value string, maxAge int) {
	if h == nil {
		return
	}
	c := &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true, SameSite: same, Secure: secure}
	h.Add("Set-Cookie", c.String())
}

// WithQuery appends parameters to a URL that may have a query already.
func WithQuery(u string, v url.Values) string {
	if len(v) == 0 {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + v.Encode()
}

// Str is the value of an optional parameter, "" when absent.
func Str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Unregistered is the page of a browser flow whose client_id ("client_id") or redirect_uri
// (any other param) is not registered: an error page, since redirecting to an unchecked URI
// would make twinid an open redirector.
func Unregistered(param string) *Error {
	if param == "client_id" {
		return Fail(http.StatusBadRequest, "The application (client_id) is not known to this account.")
	}
	return Fail(http.StatusBadRequest, "The redirect_uri is not registered for this application.")
}

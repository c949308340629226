package server

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"
)

// Hosted pages: server-rendered, no JavaScript, labelled fields, escaped by html/template.

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

var pages = map[string]*template.Template{
	"login": pageTemplate(`{{define "body"}}<form method="post" action="{{.Action}}">
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
	"message": pageTemplate(`{{define "body"}}{{if .Link}}<p class="links"><a href="{{.Link}}">{{.LinkText}}</a></p>{{end}}{{end}}`),
}

func pageTemplate(body string) *template.Template {
	return template.Must(template.Must(template.New("layout").Parse(pageLayout)).Parse(body))
}

// pageData is what the templates show; every field is escaped by html/template.
type pageData struct {
	Title, Account, Message string
	Action, AR, Email, CSRF string
	Code                    string
	Link, LinkText          string
}

func renderPage(name string, d pageData) ([]byte, error) {
	var b bytes.Buffer
	if err := pages[name].ExecuteTemplate(&b, "layout", d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// htmlPage is a rendered page with its status (UTF-8, never cached), answering any of the
// generated browser operations.
type htmlPage struct {
	status int
	body   []byte
}

func (p htmlPage) write(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.status)
	_, err := w.Write(p.body)
	return err
}

func (p htmlPage) VisitAuthorizeResponse(w http.ResponseWriter) error            { return p.write(w) }
func (p htmlPage) VisitSubmitLoginResponse(w http.ResponseWriter) error          { return p.write(w) }
func (p htmlPage) VisitLogoutResponse(w http.ResponseWriter) error               { return p.write(w) }
func (p htmlPage) VisitForgotPasswordPageResponse(w http.ResponseWriter) error   { return p.write(w) }
func (p htmlPage) VisitSubmitForgotPasswordResponse(w http.ResponseWriter) error { return p.write(w) }
func (p htmlPage) VisitResetPasswordPageResponse(w http.ResponseWriter) error    { return p.write(w) }
func (p htmlPage) VisitSubmitResetPasswordResponse(w http.ResponseWriter) error  { return p.write(w) }
func (p htmlPage) VisitAcceptInvitationPageResponse(w http.ResponseWriter) error { return p.write(w) }

// pageError is an error shown as an HTML page with its status.
type pageError struct {
	Status  int
	Message string
}

func (e *pageError) Error() string { return e.Message }

func errorPage(status int, msg string) *pageError { return &pageError{Status: status, Message: msg} }

// writeErrorPage answers a browser endpoint's error as a page: the message is escaped, and
// internal errors show only the request id.
func (s *Server) writeErrorPage(c echo.Context, err error) {
	status, msg := http.StatusBadRequest, "The request could not be processed."
	var pe *pageError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &pe):
		status, msg = pe.Status, pe.Message
	case errors.As(err, &he) && he.Code < 500:
		status = he.Code
		if he.Code == http.StatusNotFound {
			msg = "There is no such page."
		}
	default:
		s.log.Error("internal error", "err", err, "path", c.Request().URL.Path,
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		status, msg = http.StatusInternalServerError, "Something went wrong. Request id: "+c.Response().Header().Get(echo.HeaderXRequestID)
	}
	body, rerr := renderPage("message", pageData{Title: "Sign-in problem", Account: "twinid", Message: cleanMessage(msg)})
	if rerr != nil {
		_ = c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	_ = c.HTMLBlob(status, body)
}

// cleanMessage drops control characters (error descriptions must not carry them).
func cleanMessage(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

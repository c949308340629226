package pages

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43,128}$`)

// authzError redirects an error back to the client (RFC 6749 §4.1.2.1), once client and
// redirect_uri are known good.
func (p *Pages) authzError(aid, redirectURI, state, code, desc string) gen.AuthorizeResponseObject {
	v := url.Values{"error": {code}, "error_description": {oauth2.CleanMessage(desc)}}
	if state != "" {
		v.Set("state", state)
	}
	loc := p.redirectBack(aid, redirectURI, v)
	return gen.Authorize303Response{Headers: gen.Authorize303ResponseHeaders{Location: &loc}}
}

// Authorize implements GET .../auth/authorize.
func (p *Pages) Authorize(ctx context.Context, req gen.AuthorizeRequestObject) (gen.AuthorizeResponseObject, error) {
	return p.authorize(ctx, req.Aid, req.Params)
}

// AuthorizeForm implements POST .../auth/authorize: the same request, form-serialized
// (OpenID Connect Core §3.1.2.1), answered by the same code. Only the body is read; the
// server's prepare step refuses any other content type with the 400 page.
func (p *Pages) AuthorizeForm(ctx context.Context, req gen.AuthorizeFormRequestObject) (gen.AuthorizeFormResponseObject, error) {
	var b gen.AuthorizeForm
	if req.Body != nil {
		b = *req.Body
	}
	res, err := p.authorize(ctx, req.Aid, gen.AuthorizeParams{
		ResponseType: b.ResponseType, ClientID: b.ClientID, RedirectURI: b.RedirectURI, Scope: b.Scope,
		State: b.State, Nonce: b.Nonce, CodeChallenge: b.CodeChallenge, CodeChallengeMethod: b.CodeChallengeMethod,
		Prompt: b.Prompt, LoginHint: b.LoginHint, MaxAge: b.MaxAge, IDTokenHint: b.IDTokenHint, AcrValues: b.AcrValues,
		Audience: b.Audience, ResponseMode: b.ResponseMode, Request: b.Request, RequestURI: b.RequestURI,
		TwinidSession: req.Params.TwinidSession,
	})
	if err != nil {
		return nil, err
	}
	return authorizeFormResponse{res}, nil
}

// authorizeFormResponse answers the POST exactly as the GET: the document gives both the
// same responses.
type authorizeFormResponse struct{ gen.AuthorizeResponseObject }

func (r authorizeFormResponse) VisitAuthorizeFormResponse(w http.ResponseWriter) error {
	return r.VisitAuthorizeResponse(w)
}

// authorize is the authorization endpoint for both methods (RFC 6749 §4.1.1, OpenID Connect
// Core §3.1.2.1).
func (p *Pages) authorize(ctx context.Context, aid string, q gen.AuthorizeParams) (gen.AuthorizeResponseObject, error) {
	acct, err := p.account(ctx, aid)
	if err != nil {
		return nil, err
	}
	// Client and redirect URI first: until both are known good, errors are pages, never
	// redirects (no open redirector).
	redirect := page.Str(q.RedirectURI)
	cc, err := p.Clients.ForRedirect(ctx, acct.AID, page.Str(q.ClientID), redirect)
	var re *clients.RedirectError
	if errors.As(err, &re) {
		return nil, page.Unregistered(re.Param)
	}
	if err != nil {
		return nil, err
	}
	state := page.Str(q.State)
	fail := func(code, desc string) (gen.AuthorizeResponseObject, error) {
		return p.authzError(acct.AID, redirect, state, code, desc), nil
	}
	if q.Request != nil || q.RequestURI != nil {
		return fail("request_not_supported", "request objects are not supported")
	}
	if page.Str(q.ResponseType) != "code" {
		return fail("unsupported_response_type", "only response_type=code is supported")
	}
	if m := page.Str(q.ResponseMode); m != "" && m != "query" {
		return fail("invalid_request", "only response_mode=query is supported")
	}
	ar := authzRequest{ClientID: cc.ClientID, RedirectURI: redirect, State: state, Nonce: page.Str(q.Nonce),
		LoginHint: page.Str(q.LoginHint), MFA: slices.Contains(strings.Fields(page.Str(q.AcrValues)), tokens.ACRMFA)}
	if ch := page.Str(q.CodeChallenge); ch != "" {
		if page.Str(q.CodeChallengeMethod) != "S256" {
			return fail("invalid_request", "code_challenge_method must be S256")
		}
		if !pkceChallenge.MatchString(ch) {
			return fail("invalid_request", "code_challenge is malformed")
		}
		ar.Challenge = ch
	} else if cc.Kind == store.KindPublic {
		return fail("invalid_request", "public clients must use PKCE (code_challenge with S256)")
	}
	scopes, audience, err := authzScopes(cc, page.Str(q.Scope), page.Str(q.Audience))
	if err != nil {
		return fail("invalid_scope", err.Error())
	}
	ar.Scopes, ar.Audience = scopes, audience
	prompt := strings.Fields(page.Str(q.Prompt))
	if slices.Contains(prompt, "none") && len(prompt) > 1 {
		return fail("invalid_request", "prompt=none cannot be combined with other values")
	}
	maxAge := -1
	if v := page.Str(q.MaxAge); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fail("invalid_request", "max_age must be a non-negative integer")
		}
		maxAge = n
	}
	hintSub := ""
	if hint := page.Str(q.IDTokenHint); hint != "" {
		if hintSub, err = p.idTokenSubject(ctx, acct.AID, hint); err != nil {
			return fail("invalid_request", "id_token_hint is not an ID token of this account")
		}
	}
	ri := reqctx.InfoFrom(ctx)
	if !slices.Contains(prompt, "login") {
		se, c := p.currentSession(ctx, acct.AID, ri)
		fresh := se != nil && (maxAge < 0 || p.Now().Sub(time.UnixMilli(se.AuthTimeMS)) <= time.Duration(maxAge)*time.Second)
		// Step-up: a request for a multi-factor sign-in does not ride on a password-only session.
		fresh = fresh && (!ar.MFA || slices.Contains(strings.Fields(se.AMR), login.AMRMFA))
		if fresh && (hintSub == "" || hintSub == c.ID) {
			loc, err := p.issueAuthCode(ctx, acct, &ar, c, se)
			if err != nil {
				return nil, err
			}
			return gen.Authorize303Response{Headers: gen.Authorize303ResponseHeaders{Location: &loc}}, nil
		}
	}
	if slices.Contains(prompt, "none") {
		return fail("login_required", "the user is not signed in")
	}
	body, err := p.loginPage(ctx, acct, &ar, ri, "", ar.LoginHint)
	if err != nil {
		return nil, err
	}
	return page.HTML{Status: http.StatusOK, Body: body}, nil
}

// authzScopes splits the requested scopes into OpenID scopes and API scopes; API scopes
// come from the client's authorization_code grants, one audience per request. An error is an
// invalid_scope, its text the description.
func authzScopes(cc *clients.Client, scope, audience string) ([]string, string, error) {
	var oidc, api []string
	for _, sc := range strings.Fields(scope) {
		switch {
		case tokens.IsOIDCScope(sc):
			if !slices.Contains(oidc, sc) {
				oidc = append(oidc, sc)
			}
		default:
			api = append(api, sc)
		}
	}
	if len(api) == 0 && audience == "" {
		return oidc, "", nil
	}
	held := cc.Granted[store.GrantAuthorizationCode]
	if len(held) == 0 {
		return nil, "", errors.New("the client holds no authorization_code grant for API scopes")
	}
	aud, scopes, err := clients.ResolveScopes(held, strings.Join(api, " "), audience)
	if err != nil {
		return nil, "", err
	}
	return append(oidc, scopes...), aud, nil
}

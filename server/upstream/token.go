package upstream

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

// upstreamFailed is the 502 of an answer from the provider that twinid cannot trust.
func upstreamFailed(desc string) *oauth2.Error {
	return oauth2.ErrServerError.WithStatus(http.StatusBadGateway).WithDescription(desc)
}

// UpstreamToken implements POST .../auth/oidc/token.
func (u *Login) UpstreamToken(ctx context.Context, req gen.UpstreamTokenRequestObject) (gen.UpstreamTokenResponseObject, error) {
	acct, r, err := u.request(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if r.Get("grant_type") != "authorization_code" {
		return nil, oauth2.ErrUnsupportedGrantType.WithDescription("grant_type must be authorization_code")
	}
	code, clientID, redirect, audience := r.Get("code"), r.Get("client_id"), r.Get("redirect_uri"), r.Get("audience")
	if code == "" || clientID == "" || redirect == "" {
		return nil, oauth2.InvalidRequest("code, client_id and redirect_uri are required")
	}
	cc, err := u.Clients.Get(ctx, acct.AID, clientID)
	if err != nil {
		return nil, err
	}
	if cc == nil || cc.Kind == store.KindServiceAccount {
		return nil, oauth2.ErrInvalidClient
	}
	g := upstreamGrant(cc, audience)
	if g == nil {
		return nil, oauth2.UnauthorizedClient("the client has no upstream login for this audience")
	}
	// The login must come from the browser that started it.
	var st upstreamLogin
	ri := reqctx.InfoFrom(ctx)
	err = u.Keyring.OpenJSON(ri.Cookie(upstreamCookie), "upstream:"+acct.AID, &st)
	if err != nil || u.Now().Unix() > st.Exp || st.ClientID != clientID || st.RedirectURI != redirect || st.Audience != g.Audience {
		return nil, oauth2.InvalidGrant("this login was not started in this browser, or it expired; start again")
	}
	meta, err := u.provider(ctx, g.OIDCAuthority)
	if err != nil {
		u.Log.Warn("upstream login: provider unavailable", "authority", g.OIDCAuthority, "err", err)
		return nil, oauth2.ErrTemporarilyUnavailable.WithDescription("the identity provider cannot be reached")
	}
	secret, err := u.Keyring.Open(g.OIDCClientSecret, "grant-oidc:"+g.ID)
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {st.Verifier}}
	treq, _ := http.NewRequest(http.MethodPost, meta.TokenEndpoint, strings.NewReader(form.Encode()))
	treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	treq.SetBasicAuth(url.QueryEscape(g.OIDCClientID), url.QueryEscape(string(secret)))
	var up struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
	}
	if err := fetchJSON(ctx, treq, &up); err != nil || up.IDToken == "" {
		u.Log.Warn("upstream login: code exchange failed", "authority", g.OIDCAuthority, "err", err)
		return nil, oauth2.InvalidGrant("the identity provider refused the code")
	}
	claims, err := u.verifyIDToken(ctx, meta, g.OIDCClientID, up.IDToken, st.Nonce)
	if err != nil {
		u.Log.Warn("upstream login: ID token rejected", "authority", g.OIDCAuthority, "err", err)
		return nil, upstreamFailed("the identity provider's ID token could not be verified")
	}
	if up.AccessToken != "" && meta.UserinfoEndpoint != "" {
		ureq, _ := http.NewRequest(http.MethodGet, meta.UserinfoEndpoint, nil)
		ureq.Header.Set("Authorization", "Bearer "+up.AccessToken)
		var info map[string]any
		if err := fetchJSON(ctx, ureq, &info); err == nil && info["sub"] == claims["sub"] {
			for k, v := range info {
				if _, ok := claims[k]; !ok {
					claims[k] = v
				}
			}
		}
	}
	c, err := u.link(ctx, acct, g, meta.Issuer, claims)
	if err != nil {
		return nil, err
	}
	u.Audit.Record(ctx, audit.Event{AID: acct.AID, Type: gen.LoginSucceeded, Actor: audit.Customer(c.ID), ClientID: g.ClientID,
		SubjectType: "customer", SubjectID: c.ID, Reason: "upstream " + meta.Issuer})
	page.SetCrossSiteCookie(ri.Header, u.Accounts.HTTPS(), upstreamCookiePath(acct.AID), upstreamCookie, "", -1)
	var scopes []string
	for _, sc := range g.Scopes {
		if !strings.HasPrefix(sc, upstreamScopeStart) {
			scopes = append(scopes, sc)
		}
	}
	if scopes == nil {
		scopes = []string{}
	}
	set := account.Effective(acct)
	tok, err := u.Tokens.Issue(ctx, acct, set, tokens.Access{Sub: c.ID, ClientID: clientID, Audience: g.Audience, Scopes: scopes})
	if err != nil {
		return nil, err
	}
	value := map[string]any{}
	for _, k := range []string{"sub", "name", "given_name", "family_name", "email", "email_verified", "phone_number", "phone_number_verified", "birthdate", "address"} {
		if v, ok := claims[k]; ok {
			value[k] = v
		}
	}
	out := gen.UpstreamLoginResult{AccessToken: tok.Token, TokenType: gen.UpstreamLoginResultTokenTypeBearer, ExpiresIn: set.AccessTokenLifetime}
	sc := strings.Join(scopes, " ")
	out.Scope = &sc
	out.UserInfo.Authority, out.UserInfo.Value = meta.Issuer, value
	noStore := "no-store"
	return gen.UpstreamToken200JSONResponse{Body: out, Headers: gen.UpstreamToken200ResponseHeaders{CacheControl: &noStore}}, nil
}

package upstream

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

// Upstream OIDC login ("Login with Vipps"): twinid is the upstream provider's client.

const (
	upstreamCookie     = "twinid_oidc"
	upstreamTTL        = 10 * time.Minute
	upstreamTimeout    = 10 * time.Second
	upstreamMaxBody    = 1 << 20
	upstreamDiscovery  = 10 * time.Minute
	matchEmailScope    = "user:customers:/users?type=customer&email"
	matchPhoneScope    = "user:customers:/users?type=customer&phone_number"
	upstreamScopeStart = "user:customers"
)

// upstreamLogin is what the browser's cookie keeps between the two steps, sealed.
type upstreamLogin struct {
	ClientID    string `json:"c"`
	RedirectURI string `json:"r"`
	Audience    string `json:"a"`
	Verifier    string `json:"v"`
	Nonce       string `json:"n"`
	Exp         int64  `json:"e"`
}

var upstreamHTTP = &http.Client{Timeout: upstreamTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// fetchJSON GETs or POSTs and decodes a bounded JSON answer.
func fetchJSON(ctx context.Context, req *http.Request, out any) error {
	req = req.WithContext(ctx)
	req.Header.Set("Accept", "application/json")
	res, err := upstreamHTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, upstreamMaxBody+1))
	if err != nil {
		return err
	}
	if len(body) > upstreamMaxBody {
		return errors.New("answer too large")
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return json.Unmarshal(body, out)
}

// discoveryURL accepts an issuer or the URL of its discovery document.
func discoveryURL(authority string) string {
	if strings.HasSuffix(authority, "/.well-known/openid-configuration") {
		return authority
	}
	return strings.TrimRight(authority, "/") + "/.well-known/openid-configuration"
}

// provider loads an upstream discovery document through the node cache.
func (u *Login) provider(ctx context.Context, authority string) (*providerMeta, error) {
	return u.providers.Load(authority, func() (*providerMeta, time.Time, error) {
		m, err := discover(ctx, authority)
		return m, u.Now().Add(upstreamDiscovery), err
	})
}

// discover fetches and checks an upstream discovery document.
func discover(ctx context.Context, authority string) (*providerMeta, error) {
	req, _ := http.NewRequest(http.MethodGet, discoveryURL(authority), nil)
	var m providerMeta
	if err := fetchJSON(ctx, req, &m); err != nil {
		return nil, fmt.Errorf("upstream discovery: %w", err)
	}
	for _, u := range []string{m.AuthorizationEndpoint, m.TokenEndpoint, m.JWKSURI} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && !(p.Scheme == "http" && isLoopbackHost(p.Hostname()))) {
			return nil, errors.New("upstream discovery: endpoints must be https URLs")
		}
	}
	if m.Issuer == "" {
		return nil, errors.New("upstream discovery: no issuer")
	}
	return &m, nil
}

// upstreamGrant finds the client's grant with an oidc block for the audience.
func upstreamGrant(cc *clients.Client, audience string) *store.Grant {
	for i, g := range cc.Grants {
		if g.OIDCAuthority != "" && (audience == "" || g.Audience == audience) {
			return &cc.Grants[i]
		}
	}
	return nil
}

// UpstreamAuthorize implements GET .../auth/oidc/authorize.
func (u *Login) UpstreamAuthorize(ctx context.Context, req gen.UpstreamAuthorizeRequestObject) (gen.UpstreamAuthorizeResponseObject, error) {
	acct, err := u.account(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	q := req.Params
	redirect := page.Str(q.RedirectURI)
	cc, err := u.Clients.ForRedirect(ctx, acct.AID, page.Str(q.ClientID), redirect)
	var re *clients.RedirectError
	if errors.As(err, &re) {
		return nil, page.Unregistered(re.Param)
	}
	if err != nil {
		return nil, err
	}
	if page.Str(q.ResponseType) != "code" {
		return nil, page.Fail(http.StatusBadRequest, "Only response_type=code is supported.")
	}
	g := upstreamGrant(cc, page.Str(q.Audience))
	if g == nil {
		return nil, page.Fail(http.StatusBadRequest, "The application has no upstream login for this audience.")
	}
	meta, err := u.provider(ctx, g.OIDCAuthority)
	if err != nil {
		u.Log.Warn("upstream login: provider unavailable", "authority", g.OIDCAuthority, "err", err)
		return nil, page.Fail(http.StatusBadGateway, "The identity provider cannot be reached. Try again later.")
	}
	verifier := keys.NewJTI() + keys.NewJTI()
	st := upstreamLogin{ClientID: cc.ClientID, RedirectURI: redirect, Audience: g.Audience, Verifier: verifier,
		Nonce: keys.NewJTI(), Exp: u.Now().Add(upstreamTTL).Unix()}
	sealed, err := u.Keyring.SealJSON(st, "upstream:"+acct.AID)
	if err != nil {
		return nil, err
	}
	page.SetCookie(reqctx.InfoFrom(ctx).Header, u.Accounts.HTTPS(), upstreamCookiePath(acct.AID), upstreamCookie, sealed, int(upstreamTTL/time.Second))
	scopes := strings.Fields(page.Str(q.Scope))
	if !slices.Contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	sum := sha256.Sum256([]byte(verifier))
	v := url.Values{"response_type": {"code"}, "client_id": {g.OIDCClientID}, "redirect_uri": {redirect},
		"scope": {strings.Join(scopes, " ")}, "nonce": {st.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	if state := page.Str(q.State); state != "" {
		v.Set("state", state)
	}
	loc := page.WithQuery(meta.AuthorizationEndpoint, v)
	return gen.UpstreamAuthorize303Response{Headers: gen.UpstreamAuthorize303ResponseHeaders{Location: &loc}}, nil
}

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
	page.SetCookie(ri.Header, u.Accounts.HTTPS(), upstreamCookiePath(acct.AID), upstreamCookie, "", -1)
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

// upstreamCookiePath limits the upstream login cookie to the upstream endpoints.
func upstreamCookiePath(aid string) string { return "/v1/accounts/" + aid + "/auth/oidc" }

// verifyIDToken checks signature (upstream JWKS), iss, aud, exp and nonce.
func (u *Login) verifyIDToken(ctx context.Context, meta *providerMeta, clientID, tok, nonce string) (map[string]any, error) {
	req, _ := http.NewRequest(http.MethodGet, meta.JWKSURI, nil)
	var raw json.RawMessage
	if err := fetchJSON(ctx, req, &raw); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	set, err := jwk.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	t, err := jwt.Parse([]byte(tok), jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true)), jwt.WithValidate(true),
		jwt.WithIssuer(meta.Issuer), jwt.WithAudience(clientID), jwt.WithAcceptableSkew(time.Minute), jwt.WithClock(jwt.ClockFunc(u.Now)))
	if err != nil {
		return nil, err
	}
	var got string
	if err := t.Get("nonce", &got); err != nil || subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return nil, errors.New("nonce mismatch")
	}
	payload := strings.Split(tok, ".")[1]
	body, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&claims); err != nil {
		return nil, err
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return nil, errors.New("no sub")
	}
	return claims, nil
}

// link finds or creates the customer of an upstream identity. A stored link wins;
// else a verified email or phone number matches an existing customer when the grant allows
// it (several matches are an error); else a new customer is created.
func (u *Login) link(ctx context.Context, acct *store.Account, g *store.Grant, authority string, claims map[string]any) (*store.Customer, error) {
	sub := claims["sub"].(string)
	c, err := u.Store.Customers().ByIdentity(ctx, acct.AID, authority, sub)
	if err == nil {
		if c.Status != store.CustomerActive {
			return nil, oauth2.InvalidGrant("the customer can no longer sign in")
		}
		return c, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	typ := string(gen.CustomerTypeCustomer)
	email, _ := claims["email"].(string)
	phone, _ := claims["phone_number"].(string)
	_, emailKey, emailOK := login.NormEmail(email)
	phoneE164, phoneOK := login.NormPhone(phone)
	// Email and phone are each unique per account and type, so each matches at most one
	// customer; the two may match different ones.
	found := map[string]store.Customer{}
	match := func(allowed, verified bool, emailNorm, phone string) error {
		if !allowed || !verified {
			return nil
		}
		c, err := u.Store.Customers().Find(ctx, acct.AID, typ, emailNorm, phone)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err == nil {
			found[c.ID] = *c
		}
		return err
	}
	if err := match(slices.Contains(g.Scopes, matchEmailScope), emailOK && claims["email_verified"] == true, emailKey, ""); err != nil {
		return nil, err
	}
	if err := match(slices.Contains(g.Scopes, matchPhoneScope), phoneOK && claims["phone_number_verified"] == true, "", phoneE164); err != nil {
		return nil, err
	}
	x := &store.ExternalIdentity{AID: acct.AID, Authority: authority, Subject: sub, CreatedAt: u.Now().UTC()}
	switch len(found) {
	case 0:
	case 1:
		for _, c := range found {
			if c.Status != store.CustomerActive {
				return nil, oauth2.InvalidGrant("the matching customer can no longer sign in")
			}
			x.CustomerID = c.ID
			if err := u.Store.Customers().LinkIdentity(ctx, x, nil); err != nil && !errors.Is(err, store.ErrConflict) {
				return nil, err
			}
			return &c, nil
		}
	default:
		return nil, oauth2.InvalidGrant("the upstream identity matches several customers; an administrator must resolve it")
	}
	now := u.Now().UTC()
	nc := &store.Customer{ID: keys.NewID(), AID: acct.AID, Type: typ, Status: store.CustomerActive, Scopes: []string{},
		Metadata: map[string]any{}, CreatedAt: now, UpdatedAt: now}
	if name, ok := claims["name"].(string); ok {
		nc.Name, _ = login.CleanText(name)
	}
	// Identifiers are taken over only when free: an unverified or unmatched email never
	// lands on (or collides with) another customer.
	if emailOK {
		if _, err := u.Store.Customers().Find(ctx, acct.AID, typ, emailKey, ""); errors.Is(err, store.ErrNotFound) {
			display, key, _ := login.NormEmail(email)
			nc.Email, nc.EmailNorm = &display, &key
			nc.EmailVerified = claims["email_verified"] == true
		}
	}
	if phoneOK {
		if _, err := u.Store.Customers().Find(ctx, acct.AID, typ, "", phoneE164); errors.Is(err, store.ErrNotFound) {
			nc.PhoneNumber = &phoneE164
		}
	}
	x.CustomerID = nc.ID
	if err := u.Store.Customers().LinkIdentity(ctx, x, nc); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// A parallel login of the same identity created it first.
			return u.Store.Customers().ByIdentity(ctx, acct.AID, authority, sub)
		}
		return nil, err
	}
	return nc, nil
}

// isLoopbackHost: http is allowed only for these hosts (RFC 8252 §7.3; tests).
func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

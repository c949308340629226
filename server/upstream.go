package server

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

// providerMeta is the part of an upstream discovery document twinid uses.
type providerMeta struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
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
func (s *Server) provider(ctx context.Context, authority string) (*providerMeta, error) {
	key := "upstream\x00" + authority
	if v, ok := s.cache.get(key); ok {
		return v.(*providerMeta), nil
	}
	epoch := s.cache.begin()
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
	s.cache.putUntil(key, &m, time.Now().Add(upstreamDiscovery), epoch)
	return &m, nil
}

// upstreamGrant finds the client's grant with an oidc block for the audience.
func upstreamGrant(cc *cachedClient, audience string) *store.Grant {
	for i, g := range cc.grants {
		if g.OIDCAuthority != "" && (audience == "" || g.Audience == audience) {
			return &cc.grants[i]
		}
	}
	return nil
}

// UpstreamAuthorize implements GET .../auth/oidc/authorize.
func (s *Server) UpstreamAuthorize(ctx context.Context, req gen.UpstreamAuthorizeRequestObject) (gen.UpstreamAuthorizeResponseObject, error) {
	acct, err := s.pageAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	p := req.Params
	cc, err := s.tokenClient(ctx, acct.AID, str(p.ClientID))
	if err != nil {
		return nil, err
	}
	if cc == nil || cc.client.Kind == store.KindServiceAccount {
		return nil, errorPage(http.StatusBadRequest, "The application (client_id) is not known to this account.")
	}
	redirect := str(p.RedirectURI)
	if redirect == "" || !slices.Contains(cc.client.RedirectURIs, redirect) {
		return nil, errorPage(http.StatusBadRequest, "The redirect_uri is not registered for this application.")
	}
	if str(p.ResponseType) != "code" {
		return nil, errorPage(http.StatusBadRequest, "Only response_type=code is supported.")
	}
	g := upstreamGrant(cc, str(p.Audience))
	if g == nil {
		return nil, errorPage(http.StatusBadRequest, "The application has no upstream login for this audience.")
	}
	meta, err := s.provider(ctx, g.OIDCAuthority)
	if err != nil {
		s.log.Warn("upstream login: provider unavailable", "authority", g.OIDCAuthority, "err", err)
		return nil, errorPage(http.StatusBadGateway, "The identity provider cannot be reached. Try again later.")
	}
	verifier := newJTI() + newJTI()
	st := upstreamLogin{ClientID: cc.client.ClientID, RedirectURI: redirect, Audience: g.Audience, Verifier: verifier,
		Nonce: newJTI(), Exp: time.Now().Add(upstreamTTL).Unix()}
	sealed, err := s.keyring.sealJSON(st, "upstream:"+acct.AID)
	if err != nil {
		return nil, err
	}
	s.setCookieAt(requestInfoFrom(ctx), upstreamCookiePath(acct.AID), upstreamCookie, sealed, int(upstreamTTL/time.Second))
	scopes := strings.Fields(str(p.Scope))
	if !slices.Contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	sum := sha256.Sum256([]byte(verifier))
	v := url.Values{"response_type": {"code"}, "client_id": {g.OIDCClientID}, "redirect_uri": {redirect},
		"scope": {strings.Join(scopes, " ")}, "nonce": {st.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	if state := str(p.State); state != "" {
		v.Set("state", state)
	}
	loc := withQuery(meta.AuthorizationEndpoint, v)
	return gen.UpstreamAuthorize303Response{Headers: gen.UpstreamAuthorize303ResponseHeaders{Location: &loc}}, nil
}

func upstreamFailed(desc string) *oauthError {
	return oauthErr(http.StatusBadGateway, "server_error", desc)
}

// UpstreamToken implements POST .../auth/oidc/token.
func (s *Server) UpstreamToken(ctx context.Context, req gen.UpstreamTokenRequestObject) (gen.UpstreamTokenResponseObject, error) {
	acct, tr, err := s.protocolAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	p := tr.params
	if p.get("grant_type") != "authorization_code" {
		return nil, oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code")
	}
	code, clientID, redirect, audience := p.get("code"), p.get("client_id"), p.get("redirect_uri"), p.get("audience")
	if code == "" || clientID == "" || redirect == "" {
		return nil, invalidRequest("code, client_id and redirect_uri are required")
	}
	cc, err := s.tokenClient(ctx, acct.AID, clientID)
	if err != nil {
		return nil, err
	}
	if cc == nil || cc.client.Kind == store.KindServiceAccount {
		return nil, invalidClient()
	}
	g := upstreamGrant(cc, audience)
	if g == nil {
		return nil, oauthErr(http.StatusBadRequest, "unauthorized_client", "the client has no upstream login for this audience")
	}
	// The login must come from the browser that started it.
	var st upstreamLogin
	ri := requestInfoFrom(ctx)
	err = s.keyring.openJSON(ri.cookie(upstreamCookie), "upstream:"+acct.AID, &st)
	if err != nil || time.Now().Unix() > st.Exp || st.ClientID != clientID || st.RedirectURI != redirect || st.Audience != g.Audience {
		return nil, invalidGrant("this login was not started in this browser, or it expired; start again")
	}
	meta, err := s.provider(ctx, g.OIDCAuthority)
	if err != nil {
		s.log.Warn("upstream login: provider unavailable", "authority", g.OIDCAuthority, "err", err)
		return nil, oauthErr(http.StatusServiceUnavailable, "temporarily_unavailable", "the identity provider cannot be reached")
	}
	secret, err := s.keyring.open(g.OIDCClientSecret, "grant-oidc:"+g.ID)
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
		s.log.Warn("upstream login: code exchange failed", "authority", g.OIDCAuthority, "err", err)
		return nil, invalidGrant("the identity provider refused the code")
	}
	claims, err := s.verifyUpstreamIDToken(ctx, meta, g.OIDCClientID, up.IDToken, st.Nonce)
	if err != nil {
		s.log.Warn("upstream login: ID token rejected", "authority", g.OIDCAuthority, "err", err)
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
	c, err := s.linkUpstream(ctx, acct, g, meta.Issuer, claims)
	if err != nil {
		return nil, err
	}
	s.setCookieAt(ri, upstreamCookiePath(acct.AID), upstreamCookie, "", -1)
	var scopes []string
	for _, sc := range g.Scopes {
		if !strings.HasPrefix(sc, upstreamScopeStart) {
			scopes = append(scopes, sc)
		}
	}
	set := s.settings(acct)
	tok, err := s.issueAccessToken(ctx, acct, set, c.ID, clientID, g.Audience, nonNil(scopes), 0)
	if err != nil {
		return nil, err
	}
	value := map[string]any{}
	for _, k := range []string{"sub", "name", "given_name", "family_name", "email", "email_verified", "phone_number", "phone_number_verified", "birthdate", "address"} {
		if v, ok := claims[k]; ok {
			value[k] = v
		}
	}
	out := gen.UpstreamLoginResult{AccessToken: tok, TokenType: gen.UpstreamLoginResultTokenTypeBearer, ExpiresIn: set.AccessTokenLifetime}
	sc := strings.Join(scopes, " ")
	out.Scope = &sc
	out.UserInfo.Authority, out.UserInfo.Value = meta.Issuer, value
	noStore := "no-store"
	return gen.UpstreamToken200JSONResponse{Body: out, Headers: gen.UpstreamToken200ResponseHeaders{CacheControl: &noStore}}, nil
}

// upstreamCookiePath limits the upstream login cookie to the upstream endpoints.
func upstreamCookiePath(aid string) string { return "/v1/accounts/" + aid + "/auth/oidc" }

// verifyUpstreamIDToken checks signature (upstream JWKS), iss, aud, exp and nonce.
func (s *Server) verifyUpstreamIDToken(ctx context.Context, meta *providerMeta, clientID, tok, nonce string) (map[string]any, error) {
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
		jwt.WithIssuer(meta.Issuer), jwt.WithAudience(clientID), jwt.WithAcceptableSkew(time.Minute))
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

// linkUpstream finds or creates the customer of an upstream identity. A stored link wins;
// else a verified email or phone number matches an existing customer when the grant allows
// it (several matches are an error); else a new customer is created.
func (s *Server) linkUpstream(ctx context.Context, acct *store.Account, g *store.Grant, authority string, claims map[string]any) (*store.Customer, error) {
	sub := claims["sub"].(string)
	c, err := s.store.IdentityCustomer(ctx, acct.AID, authority, sub)
	if err == nil {
		if c.Status != store.CustomerActive {
			return nil, invalidGrant("the customer can no longer sign in")
		}
		return c, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	typ := string(gen.CustomerTypeCustomer)
	email, _ := claims["email"].(string)
	phone, _ := claims["phone_number"].(string)
	_, emailKey, emailOK := normEmail(email)
	phoneE164, phoneOK := normPhone(phone)
	// Email and phone are each unique per account and type, so each matches at most one
	// customer; the two may match different ones.
	found := map[string]store.Customer{}
	match := func(allowed, verified bool, emailNorm, phone string) error {
		if !allowed || !verified {
			return nil
		}
		c, err := s.store.FindCustomer(ctx, acct.AID, typ, emailNorm, phone)
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
	x := &store.ExternalIdentity{AID: acct.AID, Authority: authority, Subject: sub, CreatedAt: time.Now().UTC()}
	switch len(found) {
	case 0:
	case 1:
		for _, c := range found {
			if c.Status != store.CustomerActive {
				return nil, invalidGrant("the matching customer can no longer sign in")
			}
			x.CustomerID = c.ID
			if err := s.store.LinkIdentity(ctx, x, nil); err != nil && !errors.Is(err, store.ErrConflict) {
				return nil, err
			}
			return &c, nil
		}
	default:
		return nil, invalidGrant("the upstream identity matches several customers; an administrator must resolve it")
	}
	now := time.Now().UTC()
	nc := &store.Customer{ID: newID(), AID: acct.AID, Type: typ, Status: store.CustomerActive, Scopes: []string{},
		Metadata: map[string]any{}, CreatedAt: now, UpdatedAt: now}
	if name, ok := claims["name"].(string); ok {
		nc.Name, _ = cleanText(name)
	}
	// Identifiers are taken over only when free: an unverified or unmatched email never
	// lands on (or collides with) another customer.
	if emailOK {
		if _, err := s.store.FindCustomer(ctx, acct.AID, typ, emailKey, ""); errors.Is(err, store.ErrNotFound) {
			_ = setEmail(nc, email)
			nc.EmailVerified = claims["email_verified"] == true
		}
	}
	if phoneOK {
		if _, err := s.store.FindCustomer(ctx, acct.AID, typ, "", phoneE164); errors.Is(err, store.ErrNotFound) {
			nc.PhoneNumber = &phoneE164
		}
	}
	x.CustomerID = nc.ID
	if err := s.store.LinkIdentity(ctx, x, nc); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// A parallel login of the same identity created it first.
			return s.store.IdentityCustomer(ctx, acct.AID, authority, sub)
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

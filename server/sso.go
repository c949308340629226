package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

// Browser sign-in: the authorization endpoint with PKCE, the hosted login page, SSO
// sessions, the code exchange with ID tokens, UserInfo and logout.

const (
	sessionCookie          = "twinid_session"
	csrfCookie             = "twinid_csrf"
	defaultSessionIdle     = 24 * time.Hour
	defaultSessionAbsolute = 30 * 24 * time.Hour
	codeTTL                = 60 * time.Second
	loginFormTTL           = 30 * time.Minute
)

// oidcScopes are the OpenID Connect scopes twinid understands; other scopes are API scopes.
var oidcScopes = []string{"openid", "profile", "email", "phone", "offline_access"}

var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43,128}$`)
var pkceVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

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
	CSRF        string   `json:"x"`
	Exp         int64    `json:"e"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// redirectBack builds the client's redirect with parameters (RFC 6749 §4.1.2, RFC 9207 iss).
func (s *Server) redirectBack(aid, redirectURI string, v url.Values) string {
	v.Set("iss", s.issuer(aid))
	return withQuery(redirectURI, v)
}

// withQuery appends parameters to a URL that may have a query already.
func withQuery(u string, v url.Values) string {
	if len(v) == 0 {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + v.Encode()
}

func (s *Server) authzError(aid, redirectURI, state, code, desc string) gen.AuthorizeResponseObject {
	v := url.Values{"error": {code}, "error_description": {cleanMessage(desc)}}
	if state != "" {
		v.Set("state", state)
	}
	loc := s.redirectBack(aid, redirectURI, v)
	return gen.Authorize303Response{Headers: gen.Authorize303ResponseHeaders{Location: &loc}}
}

// Authorize implements GET .../auth/authorize.
func (s *Server) Authorize(ctx context.Context, req gen.AuthorizeRequestObject) (gen.AuthorizeResponseObject, error) {
	p := req.Params
	acct, err := s.pageAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	// Client and redirect URI first: until both are known good, errors are pages, never
	// redirects (no open redirector).
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
	state := str(p.State)
	fail := func(code, desc string) (gen.AuthorizeResponseObject, error) {
		return s.authzError(acct.AID, redirect, state, code, desc), nil
	}
	if p.Request != nil || p.RequestURI != nil {
		return fail("request_not_supported", "request objects are not supported")
	}
	if str(p.ResponseType) != "code" {
		return fail("unsupported_response_type", "only response_type=code is supported")
	}
	if m := str(p.ResponseMode); m != "" && m != "query" {
		return fail("invalid_request", "only response_mode=query is supported")
	}
	ar := authzRequest{ClientID: cc.client.ClientID, RedirectURI: redirect, State: state, Nonce: str(p.Nonce),
		LoginHint: str(p.LoginHint)}
	if ch := str(p.CodeChallenge); ch != "" {
		if str(p.CodeChallengeMethod) != "S256" {
			return fail("invalid_request", "code_challenge_method must be S256")
		}
		if !pkceChallenge.MatchString(ch) {
			return fail("invalid_request", "code_challenge is malformed")
		}
		ar.Challenge = ch
	} else if cc.client.Kind == store.KindPublic {
		return fail("invalid_request", "public clients must use PKCE (code_challenge with S256)")
	}
	scopes, audience, oerr := authzScopes(cc, str(p.Scope), str(p.Audience))
	if oerr != nil {
		return fail(oerr.Code, oerr.Description)
	}
	ar.Scopes, ar.Audience = scopes, audience
	prompt := strings.Fields(str(p.Prompt))
	if slices.Contains(prompt, "none") && len(prompt) > 1 {
		return fail("invalid_request", "prompt=none cannot be combined with other values")
	}
	maxAge := -1
	if v := str(p.MaxAge); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fail("invalid_request", "max_age must be a non-negative integer")
		}
		maxAge = n
	}
	hintSub := ""
	if hint := str(p.IDTokenHint); hint != "" {
		if hintSub, err = s.idTokenSubject(ctx, acct.AID, hint); err != nil {
			return fail("invalid_request", "id_token_hint is not an ID token of this account")
		}
	}
	ri := requestInfoFrom(ctx)
	if !slices.Contains(prompt, "login") {
		se, c := s.currentSession(ctx, acct.AID, ri)
		fresh := se != nil && (maxAge < 0 || time.Since(time.UnixMilli(se.AuthTimeMS)) <= time.Duration(maxAge)*time.Second)
		if fresh && (hintSub == "" || hintSub == c.ID) {
			loc, err := s.issueAuthCode(ctx, acct, &ar, c, se)
			if err != nil {
				return nil, err
			}
			return gen.Authorize303Response{Headers: gen.Authorize303ResponseHeaders{Location: &loc}}, nil
		}
	}
	if slices.Contains(prompt, "none") {
		return fail("login_required", "the user is not signed in")
	}
	body, err := s.loginPage(acct, &ar, ri, "", ar.LoginHint)
	if err != nil {
		return nil, err
	}
	return htmlPage{status: http.StatusOK, body: body}, nil
}

// authzScopes splits the requested scopes into OpenID scopes and API scopes; API scopes
// come from the client's authorization_code grants, one audience per request.
func authzScopes(cc *cachedClient, scope, audience string) ([]string, string, *oauthError) {
	var oidc, api []string
	for _, sc := range strings.Fields(scope) {
		switch {
		case slices.Contains(oidcScopes, sc):
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
	held := cc.granted[store.GrantAuthorizationCode]
	if len(held) == 0 {
		return nil, "", invalidScope("the client holds no authorization_code grant for API scopes")
	}
	aud, scopes, oerr := resolveScopes(held, strings.Join(api, " "), audience)
	if oerr != nil {
		return nil, "", oerr
	}
	return append(oidc, scopes...), aud, nil
}

// loginPage renders the hosted login page with a fresh CSRF cookie.
func (s *Server) loginPage(acct *store.Account, ar *authzRequest, ri requestInfo, msg, email string) ([]byte, error) {
	csrf := csrfValue(ri, csrfCookie)
	ar.CSRF, ar.Exp = csrf, time.Now().Add(loginFormTTL).Unix()
	arText, err := s.keyring.sealJSON(ar, "authz:"+acct.AID)
	if err != nil {
		return nil, err
	}
	s.setCookie(ri, acct.AID, csrfCookie, csrf, int(loginFormTTL/time.Second))
	forgot := s.issuer(acct.AID) + "/auth/forgot-password?" + url.Values{"ar": {arText}, "email": {email}}.Encode()
	return renderPage("login", pageData{Title: "Sign in", Account: s.settings(acct).EmailSenderName, Message: msg,
		Action: s.issuer(acct.AID) + "/auth/login", AR: arText, Email: email, Link: forgot})
}

// setCookie adds a cookie scoped to the account's paths; maxAge < 0 deletes it.
func (s *Server) setCookie(ri requestInfo, aid, name, value string, maxAge int) {
	s.setCookieAt(ri, "/v1/accounts/"+aid+"/", name, value, maxAge)
}

// setCookieAt adds an HttpOnly, SameSite=Lax cookie (Secure on https) for path.
func (s *Server) setCookieAt(ri requestInfo, path, name, value string, maxAge int) {
	if ri.header == nil {
		return
	}
	c := &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: strings.HasPrefix(s.cfg.PublicURL, "https://")}
	ri.header.Add("Set-Cookie", c.String())
}

// currentSession finds the browser's live session and its active customer.
func (s *Server) currentSession(ctx context.Context, aid string, ri requestInfo) (*store.Session, *store.Customer) {
	v := ri.cookie(sessionCookie)
	if v == "" || len(v) > 200 {
		return nil, nil
	}
	now := time.Now()
	se, err := s.store.SessionByHash(ctx, aid, s.keyring.hashSecret("session\x00"+v), now)
	if err != nil {
		return nil, nil
	}
	c, err := s.store.GetCustomer(ctx, aid, se.CustomerID)
	if err != nil || c.Status != store.CustomerActive {
		return nil, nil
	}
	// Extend the idle lifetime at most once a minute: SSO stays a read on the hot path.
	acct, err := s.account(ctx, aid)
	if err != nil {
		return nil, nil
	}
	sessionIdle := time.Duration(s.settings(acct).SessionIdleLifetime) * time.Second
	if idle := min(now.Add(sessionIdle).UnixMilli(), se.UntilMS); idle-se.IdleUntilMS > time.Minute.Milliseconds() {
		_ = s.store.TouchSession(ctx, se.ID, idle)
	}
	return se, c
}

// issueAuthCode stores a code for the request and returns the redirect back to the client.
func (s *Server) issueAuthCode(ctx context.Context, acct *store.Account, ar *authzRequest, c *store.Customer, se *store.Session) (string, error) {
	value := newJTI() + newJTI()
	now := time.Now()
	scopes := []string{}
	for _, sc := range ar.Scopes {
		// OpenID scopes always; API scopes only when the customer holds them.
		if slices.Contains(oidcScopes, sc) || slices.Contains(c.Scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	code := &store.AuthCode{
		ID: newID(), AID: acct.AID, Hash: s.keyring.hashSecret("code\x00" + value), ClientID: ar.ClientID,
		RedirectURI: ar.RedirectURI, CustomerID: c.ID, SessionID: se.ID, Scopes: strings.Join(scopes, " "),
		Audience: ar.Audience, Nonce: ar.Nonce, CodeChallenge: ar.Challenge, AuthTimeMS: se.AuthTimeMS,
		ExpiresMS: now.Add(codeTTL).UnixMilli(),
	}
	if err := s.store.CreateAuthCode(ctx, code); err != nil {
		return "", err
	}
	v := url.Values{"code": {value}}
	if ar.State != "" {
		v.Set("state", ar.State)
	}
	return s.redirectBack(acct.AID, ar.RedirectURI, v), nil
}

// SubmitLogin implements POST .../auth/login, the hosted login form.
func (s *Server) SubmitLogin(ctx context.Context, req gen.SubmitLoginRequestObject) (gen.SubmitLoginResponseObject, error) {
	acct, err := s.pageAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	if req.Body == nil || req.Body.Ar == nil {
		return nil, errorPage(http.StatusBadRequest, "The sign-in form is incomplete. Start again from the application.")
	}
	ri := requestInfoFrom(ctx)
	expired := errorPage(http.StatusBadRequest, "The sign-in form has expired or was not sent by this browser. Start again from the application.")
	var ar authzRequest
	if err := s.keyring.openJSON(*req.Body.Ar, "authz:"+acct.AID, &ar); err != nil || time.Now().Unix() > ar.Exp {
		return nil, expired
	}
	if cookie := ri.cookie(csrfCookie); cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(ar.CSRF)) != 1 {
		return nil, expired
	}
	// The client may have changed since the form was shown.
	cc, err := s.tokenClient(ctx, acct.AID, ar.ClientID)
	if err != nil {
		return nil, err
	}
	if cc == nil || !slices.Contains(cc.client.RedirectURIs, ar.RedirectURI) {
		return nil, errorPage(http.StatusBadRequest, "The application is no longer registered for this sign-in.")
	}
	email, password := str(req.Body.Email), str(req.Body.Password)
	again := func(status int, msg string) (gen.SubmitLoginResponseObject, error) {
		body, err := s.loginPage(acct, &ar, ri, msg, email)
		if err != nil {
			return nil, err
		}
		return htmlPage{status: status, body: body}, nil
	}
	if email == "" || password == "" {
		return again(http.StatusBadRequest, "Enter your email and password.")
	}
	c, err := s.checkLogin(ctx, acct, loginRequest{identType: "email", ident: email, password: password, remote: ri.remote})
	if err != nil {
		var oe *oauthError
		if !errors.As(err, &oe) {
			return nil, err
		}
		switch oe.Status {
		case http.StatusTooManyRequests:
			return again(oe.Status, "Too many failed attempts. Try again in "+oe.Header.Get("Retry-After")+" seconds.")
		case http.StatusServiceUnavailable:
			return again(oe.Status, "Too many sign-ins right now. Try again in a moment.")
		}
		return again(http.StatusUnauthorized, "Wrong email or password.")
	}
	// A new session every time: an id planted before login is never promoted (no fixation).
	value := newJTI() + newJTI()
	now := time.Now()
	set := s.settings(acct)
	sessionIdle := time.Duration(set.SessionIdleLifetime) * time.Second
	sessionAbsolute := time.Duration(set.SessionAbsoluteLifetime) * time.Second
	se := &store.Session{ID: newID(), AID: acct.AID, Hash: s.keyring.hashSecret("session\x00" + value), CustomerID: c.ID,
		AuthTimeMS: now.UnixMilli(), IdleUntilMS: now.Add(sessionIdle).UnixMilli(), UntilMS: now.Add(sessionAbsolute).UnixMilli()}
	if err := s.store.CreateSession(ctx, se); err != nil {
		return nil, err
	}
	loc, err := s.issueAuthCode(ctx, acct, &ar, c, se)
	if err != nil {
		return nil, err
	}
	s.setCookie(ri, acct.AID, sessionCookie, value, int(sessionAbsolute/time.Second))
	s.setCookie(ri, acct.AID, csrfCookie, "", -1)
	return gen.SubmitLogin303Response{Headers: gen.SubmitLogin303ResponseHeaders{Location: &loc}}, nil
}

// authorizationCodeGrant exchanges a code (RFC 6749 §4.1.3, RFC 7636 §4.6). A code used
// twice revokes what its first use issued (RFC 6749 §4.1.2).
func (s *Server) authorizationCodeGrant(ctx context.Context, acct *store.Account, tr *tokenRequest) (*tokenResult, error) {
	ac, err := s.clientFor(ctx, acct.AID, tr)
	if err != nil {
		return nil, err
	}
	code, err := s.store.AuthCodeByHash(ctx, acct.AID, s.keyring.hashSecret("code\x00"+tr.params.get("code")))
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidGrant("the authorization code is not valid")
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if code.ClientID != ac.client.ClientID {
		return nil, invalidGrant("the authorization code was issued to another client")
	}
	if tr.params.get("redirect_uri") != code.RedirectURI {
		return nil, invalidGrant("redirect_uri does not match the authorization request")
	}
	verifier := tr.params.get("code_verifier")
	if code.CodeChallenge != "" {
		sum := sha256.Sum256([]byte(verifier))
		if !pkceVerifier.MatchString(verifier) ||
			subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(code.CodeChallenge)) != 1 {
			return nil, invalidGrant("code_verifier does not match the code_challenge")
		}
	} else if verifier != "" {
		return nil, invalidGrant("a code_verifier was sent, but the authorization request had no code_challenge")
	}
	used, err := s.store.UseAuthCode(ctx, code.ID, now)
	if err != nil {
		return nil, err
	}
	if !used {
		if code.FamilyID != "" {
			_, _ = s.store.RevokeFamily(ctx, code.FamilyID, now)
		}
		if code.AccessJTI != "" {
			_ = s.store.RevokeAccessToken(ctx, acct.AID, code.AccessJTI, time.UnixMilli(code.AccessExpMS))
		}
		return nil, invalidGrant("the authorization code was used already; the tokens it issued are revoked")
	}
	if now.UnixMilli() >= code.ExpiresMS {
		return nil, invalidGrant("the authorization code has expired")
	}
	c, err := s.store.GetCustomer(ctx, acct.AID, code.CustomerID)
	if err != nil || c.Status != store.CustomerActive {
		return nil, invalidGrant("the user can no longer sign in")
	}
	set := s.settings(acct)
	scopes := strings.Fields(code.Scopes)
	aud := code.Audience
	if aud == "" {
		aud = s.issuer(acct.AID) // only OpenID scopes: the token is for UserInfo
	}
	tok, jti, exp, err := s.signAccessToken(ctx, acct, set, c.ID, ac.client.ClientID, aud, scopes, 0)
	if err != nil {
		return nil, err
	}
	res := &tokenResult{access: tok, lifetime: set.AccessTokenLifetime, scopes: scopes}
	familyID := ""
	if slices.Contains(scopes, "offline_access") && !ac.public {
		rt, fam, err := s.newRefreshFamily(ctx, acct, set, c, ac.client.ClientID, aud, scopes)
		if err != nil {
			return nil, err
		}
		res.refresh, familyID = rt, fam
	}
	if slices.Contains(scopes, "openid") {
		if res.idToken, err = s.idToken(ctx, acct, set, c, ac.client.ClientID, code, tok); err != nil {
			return nil, err
		}
	}
	if err := s.store.RecordCodeTokens(ctx, code.ID, familyID, jti, exp); err != nil {
		return nil, err
	}
	return res, nil
}

// idToken signs an OpenID Connect ID token.
func (s *Server) idToken(ctx context.Context, acct *store.Account, set store.AccountSettings, c *store.Customer, clientID string, code *store.AuthCode, accessToken string) (string, error) {
	ks, err := s.accountKeys(ctx, acct.AID)
	if err != nil {
		return "", err
	}
	if ks.idSigner == nil {
		return "", errors.New("account " + acct.AID + " has no active signing key")
	}
	now := time.Now()
	sum := sha256.Sum256([]byte(accessToken))
	claims := map[string]any{
		"iss": s.issuer(acct.AID), "sub": c.ID, "aud": clientID, "azp": clientID,
		"iat": now.Unix(), "exp": now.Add(time.Duration(set.AccessTokenLifetime) * time.Second).Unix(),
		"auth_time": code.AuthTimeMS / 1000, "at_hash": base64.RawURLEncoding.EncodeToString(sum[:16]),
		"sid": code.SessionID,
	}
	if code.Nonce != "" {
		claims["nonce"] = code.Nonce
	}
	for k, v := range standardClaims(c, strings.Fields(code.Scopes)) {
		claims[k] = v
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	tok, err := ks.idSigner.signID(payload)
	return string(tok), err
}

// standardClaims are the customer's claims that the scopes release (OpenID Connect §5.4).
func standardClaims(c *store.Customer, scopes []string) map[string]any {
	out := map[string]any{}
	if slices.Contains(scopes, "profile") {
		out["name"] = c.Name
		out["updated_at"] = c.UpdatedAt.Unix()
	}
	if slices.Contains(scopes, "email") && c.Email != nil {
		out["email"] = *c.Email
		out["email_verified"] = c.EmailVerified
	}
	if slices.Contains(scopes, "phone") && c.PhoneNumber != nil {
		out["phone_number"] = *c.PhoneNumber
		out["phone_number_verified"] = false
	}
	return out
}

// idTokenSubject reads the subject of an ID token this account issued (expired ones too,
// as OpenID Connect allows for id_token_hint).
func (s *Server) idTokenSubject(ctx context.Context, aid, tok string) (string, error) {
	ks, err := s.accountKeys(ctx, aid)
	if err != nil {
		return "", err
	}
	t, err := verifyIDToken(ks, tok, s.issuer(aid))
	if err != nil {
		return "", err
	}
	sub, _ := t["sub"].(string)
	return sub, nil
}

// GetUserInfo implements GET .../userinfo.
func (s *Server) GetUserInfo(ctx context.Context, req gen.GetUserInfoRequestObject) (gen.GetUserInfoResponseObject, error) {
	info, err := s.userInfo(ctx, req.Aid, "")
	if err != nil {
		return nil, err
	}
	return gen.GetUserInfo200JSONResponse(*info), nil
}

// PostUserInfo implements POST .../userinfo (token in the header or the form body).
func (s *Server) PostUserInfo(ctx context.Context, req gen.PostUserInfoRequestObject) (gen.PostUserInfoResponseObject, error) {
	p, _ := ctx.Value(paramsKey).(*oauthParams)
	body := ""
	if p != nil {
		body = p.get("access_token")
	}
	info, err := s.userInfo(ctx, req.Aid, body)
	if err != nil {
		return nil, err
	}
	return gen.PostUserInfo200JSONResponse(*info), nil
}

func (s *Server) userInfo(ctx context.Context, aid, bodyToken string) (*gen.UserInfo, error) {
	bad := func(desc string) error {
		e := oauthErr(http.StatusUnauthorized, "invalid_token", desc)
		e.Header = http.Header{"Www-Authenticate": {`Bearer realm="twinid", error="invalid_token"`}}
		return e
	}
	tok, ok := bearerOf(requestInfoFrom(ctx).authorization)
	if ok && bodyToken != "" {
		return nil, invalidRequest("send the access token once: in the Authorization header or in the body")
	}
	if !ok {
		tok = bodyToken
	}
	if tok == "" {
		return nil, bad("an access token is required")
	}
	c, err := s.verifyAccessToken(ctx, tok)
	if err != nil || c.AID != aid || c.isClient() {
		return nil, bad("the access token is not valid")
	}
	if !c.has("openid") {
		e := oauthErr(http.StatusForbidden, "insufficient_scope", "the token lacks the scope openid")
		e.Header = http.Header{"Www-Authenticate": {`Bearer realm="twinid", error="insufficient_scope", scope="openid"`}}
		return nil, e
	}
	if revoked, err := s.store.AccessTokenRevoked(ctx, c.Jti); err != nil || revoked {
		if err != nil {
			return nil, err
		}
		return nil, bad("the access token was revoked")
	}
	cu, err := s.store.GetCustomer(ctx, aid, c.Sub)
	if err != nil || cu.Status != store.CustomerActive {
		return nil, bad("the user can no longer sign in")
	}
	out := &gen.UserInfo{Sub: cu.ID, AdditionalProperties: map[string]any{}}
	for k, v := range standardClaims(cu, c.Scopes) {
		switch k {
		case "name":
			n := v.(string)
			out.Name = &n
		case "email":
			e := v.(string)
			out.Email = &e
		case "email_verified":
			b := v.(bool)
			out.EmailVerified = &b
		case "phone_number":
			ph := v.(string)
			out.PhoneNumber = &ph
		case "phone_number_verified":
			b := v.(bool)
			out.PhoneNumberVerified = &b
		default:
			out.AdditionalProperties[k] = v
		}
	}
	return out, nil
}

// Logout implements GET .../auth/logout (RP-initiated logout).
func (s *Server) Logout(ctx context.Context, req gen.LogoutRequestObject) (gen.LogoutResponseObject, error) {
	acct, err := s.pageAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	p := req.Params
	clientID := str(p.ClientID)
	if hint := str(p.IDTokenHint); hint != "" {
		ks, err := s.accountKeys(ctx, acct.AID)
		if err != nil {
			return nil, err
		}
		t, err := verifyIDToken(ks, hint, s.issuer(acct.AID))
		if err != nil {
			return nil, errorPage(http.StatusBadRequest, "The id_token_hint is not an ID token of this account.")
		}
		aud, _ := t["aud"].(string)
		if clientID != "" && clientID != aud {
			return nil, errorPage(http.StatusBadRequest, "client_id does not match the id_token_hint.")
		}
		clientID = aud
	}
	target := str(p.PostLogoutRedirectURI)
	if target != "" {
		cc, err := s.tokenClient(ctx, acct.AID, clientID)
		if err != nil {
			return nil, err
		}
		if cc == nil || !slices.Contains(cc.client.PostLogoutRedirectURIs, target) {
			return nil, errorPage(http.StatusBadRequest, "The post_logout_redirect_uri is not registered for this application.")
		}
	}
	ri := requestInfoFrom(ctx)
	if se, _ := s.currentSession(ctx, acct.AID, ri); se != nil {
		if err := s.store.DeleteSession(ctx, se.ID); err != nil {
			return nil, err
		}
	}
	s.setCookie(ri, acct.AID, sessionCookie, "", -1)
	if target != "" {
		v := url.Values{}
		if st := str(p.State); st != "" {
			v.Set("state", st)
		}
		loc := withQuery(target, v)
		return gen.Logout303Response{Headers: gen.Logout303ResponseHeaders{Location: &loc}}, nil
	}
	body, err := renderPage("message", pageData{Title: "Signed out", Account: s.settings(acct).EmailSenderName,
		Message: "You are signed out."})
	if err != nil {
		return nil, err
	}
	return htmlPage{status: http.StatusOK, body: body}, nil
}

// verifyIDToken checks an ID token's signature (from the account's JWKS) and issuer, not
// its expiry, and returns its claims.
func verifyIDToken(ks *keySet, tok, issuer string) (map[string]any, error) {
	payload, err := jws.Verify([]byte(tok), jws.WithKeySet(ks.verify, jws.WithInferAlgorithmFromKey(true)))
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	if claims["iss"] != issuer {
		return nil, errors.New("wrong issuer")
	}
	return claims, nil
}

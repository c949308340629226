package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

// Failed client authentications are limited per client id and source address, apart from
// the token bucket (DESIGN: brute-force protection must not eat the client's quota).
const (
	failPerMinute = 10
	failBurst     = 20
)

// cachedClient is what the token path needs of a client, cached per node.
type cachedClient struct {
	client  *store.Client
	secrets []cachedSecret
	// grants of an application client (service accounts hold scopes instead).
	grants []store.Grant
	// granted are the scopes of the grants by grant type, each with its grant's audience,
	// worked out once when the client is cached.
	granted map[string][]store.Scope
}

// grantsFor are the client's grants for an audience; typ "" matches every grant type.
func (cc *cachedClient) grantsFor(audience, typ string) []store.Grant {
	var out []store.Grant
	for _, g := range cc.grants {
		if g.Audience == audience && (typ == "" || g.GrantType == typ) {
			out = append(out, g)
		}
	}
	return out
}

// holds reports whether any grant of the client carries scope.
func (cc *cachedClient) holds(scope string) bool {
	for _, g := range cc.grants {
		if slices.Contains(g.Scopes, scope) {
			return true
		}
	}
	return false
}

type cachedSecret struct {
	id      string
	hash    []byte
	expires *time.Time
}

func clientCacheKey(aid, clientID string) string { return "client\x00" + aid + "\x00" + clientID }

// tokenClient loads a client with its secrets through the node cache; nil when unknown.
func (s *Server) tokenClient(ctx context.Context, aid, clientID string) (*cachedClient, error) {
	key := clientCacheKey(aid, clientID)
	if v, ok := s.cache.get(key); ok {
		return v.(*cachedClient), nil
	}
	epoch := s.cache.begin()
	c, err := s.store.GetClientByClientID(ctx, aid, clientID)
	if errors.Is(err, store.ErrNotFound) {
		s.cache.put(key, (*cachedClient)(nil), epoch)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	secs, err := s.store.ClientSecrets(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	cc := &cachedClient{client: c}
	if c.Kind != store.KindServiceAccount {
		if cc.grants, err = s.store.ClientGrants(ctx, c.ID); err != nil {
			return nil, err
		}
		cc.granted = map[string][]store.Scope{}
		for _, g := range cc.grants {
			for _, sc := range g.Scopes {
				cc.granted[g.GrantType] = append(cc.granted[g.GrantType], store.Scope{Audience: g.Audience, Scope: sc})
			}
		}
	}
	for _, sec := range secs {
		cc.secrets = append(cc.secrets, cachedSecret{id: sec.ID, hash: sec.Hash, expires: sec.ExpiresAt})
	}
	s.cache.put(key, cc, epoch)
	return cc, nil
}

// dropClient forgets a client on this node, so a revoked secret stops working at once.
func (s *Server) dropClient(aid, clientID string) { s.cache.drop(clientCacheKey(aid, clientID)) }

// tokenRequest is a parsed token request (zitadel/oidc style: parse, validate, create).
type tokenRequest struct {
	grantType    string
	clientID     string
	clientSecret string
	// bearer is a client access token sent as Authorization: Bearer (Dintero style).
	bearer string
	params *oauthParams
	remote string
}

func parseTokenRequest(ctx context.Context, authorization string) (*tokenRequest, error) {
	p, _ := ctx.Value(paramsKey).(*oauthParams)
	if p == nil {
		return nil, invalidRequest("the request body is missing")
	}
	if p.dup != "" {
		return nil, invalidRequest("parameter " + p.dup + " is repeated")
	}
	tr := &tokenRequest{grantType: p.get("grant_type"), params: p}
	bodyID, bodySecret := p.get("client_id"), p.get("client_secret")
	if tok, ok := bearerOf(authorization); ok {
		if bodySecret != "" {
			return nil, invalidRequest("use one client authentication method, not a client token and client_secret together")
		}
		tr.bearer, tr.clientID = tok, bodyID
		return tr, nil
	}
	if auth := authorization; auth != "" {
		scheme, cred, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return nil, invalidClient()
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return nil, invalidClient()
		}
		id, secret, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil, invalidClient()
		}
		// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
		if tr.clientID, err = url.QueryUnescape(id); err != nil {
			return nil, invalidClient()
		}
		if tr.clientSecret, err = url.QueryUnescape(secret); err != nil {
			return nil, invalidClient()
		}
		if bodySecret != "" {
			return nil, invalidRequest("use one client authentication method, not HTTP Basic and client_secret together")
		}
		if bodyID != "" && bodyID != tr.clientID {
			return nil, invalidRequest("client_id does not match the authenticated client")
		}
	} else {
		tr.clientID, tr.clientSecret = bodyID, bodySecret
	}
	return tr, nil
}

// authenticateClient checks the client's secret in constant time against all its live
// secrets. Unknown client and wrong secret answer the same.
func (s *Server) authenticateClient(ctx context.Context, aid string, tr *tokenRequest) (*cachedClient, error) {
	if tr.clientID == "" || tr.clientSecret == "" {
		return nil, invalidClient()
	}
	failKey := aid + "\x00" + tr.clientID + "\x00" + tr.remote
	if over, retry := s.fails.exhausted(failKey, failPerMinute, failBurst); over {
		s.metrics.rateLimited.WithLabelValues("client_auth").Inc()
		e := oauthErr(http.StatusTooManyRequests, "temporarily_unavailable", "too many failed client authentications; retry later")
		e.Header = http.Header{"Retry-After": {strconv.Itoa(retry)}}
		return nil, e
	}
	cc, err := s.tokenClient(ctx, aid, tr.clientID)
	if err != nil {
		return nil, err
	}
	hash := s.keyring.hashSecret(tr.clientSecret)
	if cc != nil {
		now := time.Now()
		hashes := make([][]byte, 0, len(cc.secrets))
		live := make([]cachedSecret, 0, len(cc.secrets))
		for _, sec := range cc.secrets {
			if sec.expires == nil || now.Before(*sec.expires) {
				hashes = append(hashes, sec.hash)
				live = append(live, sec)
			}
		}
		if i := matchSecret(hash, hashes); i >= 0 {
			s.usage.record(live[i].id, now.UTC())
			return cc, nil
		}
	}
	s.fails.take(failKey, failPerMinute, failBurst)
	return nil, invalidClient()
}

// authedClient is a client that authenticated at a protocol endpoint.
type authedClient struct {
	*cachedClient
	// token is the client token it authenticated with (Bearer), if any.
	token *tokenClaims
	// public: identified by client_id alone (a public client has no secret).
	public bool
}

// clientFor authenticates the client of a protocol request: HTTP Basic or client_secret, a
// client token of this account as Bearer, or client_id alone for a public client.
func (s *Server) clientFor(ctx context.Context, aid string, tr *tokenRequest) (*authedClient, error) {
	switch {
	case tr.bearer != "":
		c, err := s.verifyAccessToken(ctx, tr.bearer)
		if err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) || errors.As(err, new(*problem)) {
				return nil, invalidClient()
			}
			return nil, err
		}
		if c.AID != aid || !c.isClient() || (tr.clientID != "" && tr.clientID != c.ClientID) {
			return nil, invalidClient()
		}
		cc, err := s.tokenClient(ctx, aid, c.ClientID)
		if err != nil {
			return nil, err
		}
		if cc == nil {
			return nil, invalidClient()
		}
		return &authedClient{cachedClient: cc, token: c}, nil
	case tr.clientSecret != "":
		cc, err := s.authenticateClient(ctx, aid, tr)
		if err != nil {
			return nil, err
		}
		return &authedClient{cachedClient: cc}, nil
	case tr.clientID != "":
		cc, err := s.tokenClient(ctx, aid, tr.clientID)
		if err != nil {
			return nil, err
		}
		if cc == nil || cc.client.Kind != store.KindPublic {
			return nil, invalidClient()
		}
		return &authedClient{cachedClient: cc, public: true}, nil
	}
	return nil, invalidClient()
}

// CreateToken implements the token endpoint.
func (s *Server) CreateToken(ctx context.Context, req gen.CreateTokenRequestObject) (gen.CreateTokenResponseObject, error) {
	acct, tr, err := s.protocolAccount(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	var res *tokenResult
	switch tr.grantType {
	case "client_credentials":
		res, err = s.clientCredentials(ctx, acct, tr)
	case "refresh_token":
		res, err = s.refreshGrant(ctx, acct, tr)
	case "password":
		res, err = s.passwordGrant(ctx, acct, tr)
	case "authorization_code":
		res, err = s.codeGrant(ctx, acct, tr)
	case "":
		if tr.params.get("token") != "" {
			// Dintero: {"token": ...} on the token endpoint revokes it.
			if err := s.revoke(ctx, acct, tr); err != nil {
				return nil, err
			}
			return revokedOnTokenEndpoint{}, nil
		}
		return nil, invalidRequest("grant_type is required")
	default:
		return nil, oauthErr(http.StatusBadRequest, "unsupported_grant_type", "unknown grant_type")
	}
	if err != nil {
		return nil, err
	}
	s.metrics.tokens.WithLabelValues(tr.grantType).Inc()
	return res.response(), nil
}

// revokedOnTokenEndpoint answers a revocation sent to the token endpoint: 200, empty.
type revokedOnTokenEndpoint struct{}

func (revokedOnTokenEndpoint) VisitCreateTokenResponse(w http.ResponseWriter) error {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return nil
}

// tokenResult is what a grant produced.
type tokenResult struct {
	access   string
	lifetime int
	scopes   []string
	refresh  string
	idToken  string
	limit    *limitResult
}

func (r *tokenResult) response() gen.CreateToken200JSONResponse {
	noStore, noCache := "no-store", "no-cache"
	out := gen.CreateToken200JSONResponse{
		Body: gen.TokenResponse{
			TokenType: gen.TokenResponseTokenTypeBearer, AccessToken: r.access, ExpiresIn: r.lifetime, ExtExpiresIn: &r.lifetime,
			Scope: strings.Join(r.scopes, " "),
		},
		Headers: gen.CreateToken200ResponseHeaders{CacheControl: &noStore, Pragma: &noCache},
	}
	if r.refresh != "" {
		out.Body.RefreshToken = &r.refresh
	}
	if r.idToken != "" {
		out.Body.IDToken = &r.idToken
	}
	if l := r.limit; l != nil {
		out.Headers.RateLimitLimit, out.Headers.RateLimitRemaining, out.Headers.RateLimitReset = &l.Limit, &l.Remaining, &l.Reset
	}
	return out
}

// clientCredentials issues a client token: a service account gets the scopes it holds, an
// application client those of its client_credentials grants.
func (s *Server) clientCredentials(ctx context.Context, acct *store.Account, tr *tokenRequest) (*tokenResult, error) {
	if tr.bearer != "" {
		return nil, invalidRequest("client_credentials needs the client's secret, not a token")
	}
	cc, err := s.authenticateClient(ctx, acct.AID, tr)
	if err != nil {
		return nil, err
	}
	held := cc.client.Scopes
	if cc.client.Kind != store.KindServiceAccount {
		held = cc.granted[store.GrantClientCredentials]
		if len(held) == 0 {
			return nil, oauthErr(http.StatusBadRequest, "unauthorized_client", "this client holds no client_credentials grant")
		}
	}
	set := s.settings(acct)
	perMin, burst := set.TokenRatePerMinute, set.TokenRateBurst
	if cc.client.RatePerMinute != nil && cc.client.RateBurst != nil {
		perMin, burst = *cc.client.RatePerMinute, *cc.client.RateBurst
	}
	lim, err := s.limits.allow(ctx, acct.AID+"\x00"+cc.client.ClientID, perMin, burst)
	if err != nil {
		// A broken Redis must not stop token issuance: fail open, loudly.
		s.log.Warn("rate limiter unavailable", "err", err)
		lim = limitResult{Allowed: true, Limit: perMin, Remaining: burst}
	}
	if !lim.Allowed {
		s.metrics.rateLimited.WithLabelValues("token").Inc()
		e := oauthErr(http.StatusTooManyRequests, "temporarily_unavailable",
			"too many token requests for this client; cache tokens until they expire")
		e.Header = rateHeaders(lim)
		e.Header.Set("Retry-After", strconv.Itoa(lim.RetryAfter))
		return nil, e
	}
	audience, scopes, oerr := resolveScopes(held, tr.params.get("scope"), tr.params.get("audience"))
	if oerr != nil {
		return nil, oerr
	}
	tok, err := s.issueAccessToken(ctx, acct, set, cc.client.ClientID, cc.client.ClientID, audience, scopes, 0)
	if err != nil {
		return nil, err
	}
	return &tokenResult{access: tok, lifetime: set.AccessTokenLifetime, scopes: scopes, limit: &lim}, nil
}

func rateHeaders(l limitResult) http.Header {
	return http.Header{
		"Ratelimit-Limit":     {strconv.Itoa(l.Limit)},
		"Ratelimit-Remaining": {strconv.Itoa(l.Remaining)},
		"Ratelimit-Reset":     {strconv.Itoa(l.Reset)},
	}
}

// resolveScopes picks the token's audience and scopes from what the client holds.
// scope: every requested scope must be held, all of one audience. audience alone: every
// held scope of it. Neither: the client must hold scopes of exactly one audience.
func resolveScopes(held []store.Scope, scopeParam, audience string) (string, []string, *oauthError) {
	requested := strings.Fields(scopeParam)
	if len(requested) == 0 {
		if audience == "" {
			auds := map[string]bool{}
			for _, h := range held {
				auds[h.Audience] = true
			}
			if len(auds) != 1 {
				return "", nil, invalidScope("scope or audience is required: the client holds scopes of several audiences")
			}
			audience = held[0].Audience
		}
		var out []string
		for _, h := range held {
			if h.Audience == audience {
				out = append(out, h.Scope)
			}
		}
		if len(out) == 0 {
			return "", nil, invalidScope("the client holds no scope for audience " + audience)
		}
		return audience, out, nil
	}
	var aud string
	out := make([]string, 0, len(requested))
	for _, want := range requested {
		if slices.Contains(out, want) {
			continue
		}
		i := slices.IndexFunc(held, func(h store.Scope) bool { return h.Scope == want })
		if i < 0 {
			return "", nil, invalidScope("the client does not hold the scope " + want)
		}
		if aud != "" && held[i].Audience != aud {
			return "", nil, invalidScope("the requested scopes belong to different audiences; request one audience per token")
		}
		aud = held[i].Audience
		out = append(out, want)
	}
	if audience != "" && audience != aud {
		return "", nil, invalidScope("the requested scopes do not belong to audience " + audience)
	}
	return aud, out, nil
}

// accessClaims are the RFC 9068 claims of twinid's access tokens, plus aid.
type accessClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Jti      string `json:"jti"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	AID      string `json:"aid"`
}

// issueAccessToken signs an access token with the account's active key.
// A lifetime of 0 means the account's accessTokenLifetime.
func (s *Server) issueAccessToken(ctx context.Context, acct *store.Account, set store.AccountSettings, sub, clientID, audience string, scopes []string, lifetime time.Duration) (string, error) {
	tok, _, _, err := s.signAccessToken(ctx, acct, set, sub, clientID, audience, scopes, lifetime)
	return tok, err
}

// signAccessToken is issueAccessToken that also returns the token's jti and expiry.
func (s *Server) signAccessToken(ctx context.Context, acct *store.Account, set store.AccountSettings, sub, clientID, audience string, scopes []string, lifetime time.Duration) (string, string, time.Time, error) {
	ks, err := s.accountKeys(ctx, acct.AID)
	if err != nil {
		return "", "", time.Time{}, err
	}
	if ks.signer == nil {
		return "", "", time.Time{}, errors.New("account " + acct.AID + " has no active signing key")
	}
	now := time.Now()
	if lifetime == 0 {
		lifetime = time.Duration(set.AccessTokenLifetime) * time.Second
	}
	exp := now.Add(lifetime)
	jti := newJTI()
	payload, err := json.Marshal(accessClaims{
		Iss: s.issuer(acct.AID), Sub: sub, Aud: audience, ClientID: clientID,
		Iat: now.Unix(), Exp: exp.Unix(),
		Jti: jti, Scope: strings.Join(scopes, " "), AID: acct.AID,
	})
	if err != nil {
		return "", "", time.Time{}, err
	}
	tok, err := ks.signer.sign(payload)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return string(tok), jti, exp, nil
}

// toOAuthError turns any error on a protocol endpoint into an RFC 6749 error.
func (s *Server) toOAuthError(c echo.Context, err error) *oauthError {
	var oe *oauthError
	if errors.As(err, &oe) {
		return oe
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if errors.As(he.Internal, &oe) {
			return oe
		}
		switch {
		case he.Code == http.StatusNotFound:
			return oauthErr(http.StatusNotFound, "invalid_request", "no such endpoint")
		case he.Code == http.StatusMethodNotAllowed:
			return oauthErr(http.StatusMethodNotAllowed, "invalid_request", "use POST")
		case he.Code == http.StatusRequestEntityTooLarge:
			return oauthErr(http.StatusRequestEntityTooLarge, "invalid_request", "the request body is too large")
		case he.Code < 500:
			p := validationProblem(he)
			d := "the request is malformed"
			if len(p.Errors) > 0 {
				d = "invalid parameter " + p.Errors[0].Field + ": " + p.Errors[0].Message
			} else if p.Detail != "" {
				d = p.Detail
			}
			return invalidRequest(d)
		}
	}
	s.log.Error("internal error", "err", err, "path", c.Request().URL.Path,
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	return oauthErr(http.StatusInternalServerError, "server_error", "internal error")
}

func (s *Server) writeOAuthError(c echo.Context, e *oauthError) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	for k, v := range e.Header {
		h[k] = v
	}
	if e.Status == http.StatusUnauthorized {
		// RFC 6749 §5.2: required when the client used Basic; harmless and helpful otherwise.
		h.Set(echo.HeaderWWWAuthenticate, `Basic realm="twinid"`)
	}
	_ = c.JSON(e.Status, map[string]string{"error": e.Code, "error_description": cleanMessage(e.Description)})
}

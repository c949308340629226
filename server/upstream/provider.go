package upstream

import (
	"context"
	"crypto/subtle"
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

	"github.com/coreos/go-oidc/v3/oidc"
)

// upstreamHTTP makes every request to an upstream provider, go-oidc's JWKS fetches
// included (it is handed over with oidc.ClientContext): bounded in time and in size, and
// never following a redirect.
var upstreamHTTP = &http.Client{Timeout: upstreamTimeout, Transport: boundedTransport{http.DefaultTransport},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// boundedTransport cuts every answer body at upstreamMaxBody, so a provider cannot make a
// node read without end, whichever code reads the body.
type boundedTransport struct{ base http.RoundTripper }

func (b boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := b.base.RoundTrip(req)
	if err == nil {
		res.Body = http.MaxBytesReader(nil, res.Body, upstreamMaxBody)
	}
	return res, err
}

// upstreamSkew is the clock difference with a provider that exp and iat tolerate.
const upstreamSkew = time.Minute

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

// authorityIssuer is the issuer an authority names: the authority given as the URL of the
// discovery document stands for its prefix, and a terminating "/" is not part of the
// comparison (OpenID Connect Discovery §4.1 removes it before appending the path).
func authorityIssuer(authority string) string {
	return strings.TrimRight(strings.TrimSuffix(authority, "/.well-known/openid-configuration"), "/")
}

// provider loads an upstream discovery document through the node cache.
func (u *Login) provider(ctx context.Context, authority string) (*providerMeta, error) {
	return u.providers.Load(authority, func() (*providerMeta, time.Time, error) {
		m, err := discover(ctx, authority)
		return m, u.Now().Add(upstreamDiscovery), err
	})
}

// signingAlgs are the ID token algorithms twinid accepts from a provider: asymmetric ones
// only, so neither "none" nor a MAC keyed with something public can pass.
var signingAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// discover fetches and checks an upstream discovery document and makes its go-oidc
// provider. oidc.NewProvider is not used: it fetches without a bound on the answer, takes
// no authority given as the document's URL, and refuses an issuer that differs from the
// authority only by the terminating "/" (Vipps's issuer ends with one).
func discover(ctx context.Context, authority string) (*providerMeta, error) {
	req, _ := http.NewRequest(http.MethodGet, authorityIssuer(authority)+"/.well-known/openid-configuration", nil)
	var m providerMeta
	if err := fetchJSON(ctx, req, &m); err != nil {
		return nil, fmt.Errorf("upstream discovery: %w", err)
	}
	// Discovery §4.3: the issuer must be the one the document was fetched for, else the
	// document's host could speak for another provider's issuer (and ID tokens).
	if m.Issuer == "" || strings.TrimRight(m.Issuer, "/") != authorityIssuer(authority) {
		return nil, fmt.Errorf("upstream discovery: issuer %q is not the authority", m.Issuer)
	}
	for _, u := range []string{m.Issuer, m.AuthorizationEndpoint, m.TokenEndpoint, m.JWKSURI} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && !(p.Scheme == "http" && isLoopbackHost(p.Hostname()))) {
			return nil, errors.New("upstream discovery: issuer and endpoints must be https URLs")
		}
	}
	algs := []string{}
	for _, a := range m.SigningAlgs {
		if slices.Contains(signingAlgs, a) {
			algs = append(algs, a)
		}
	}
	// Without an algorithm in common go-oidc expects RS256, the one every provider must
	// offer (OpenID Connect Core §15.1).
	cfg := oidc.ProviderConfig{IssuerURL: m.Issuer, AuthURL: m.AuthorizationEndpoint, TokenURL: m.TokenEndpoint,
		UserInfoURL: m.UserinfoEndpoint, JWKSURL: m.JWKSURI, Algorithms: algs}
	m.op = cfg.NewProvider(oidc.ClientContext(ctx, upstreamHTTP))
	return &m, nil
}

// verifyIDToken validates the provider's ID token (OpenID Connect Core §3.1.3.7). go-oidc
// checks the signature against the provider's JWKS (cached, fetched again for an unknown
// kid), the algorithm, iss, that aud contains our client, and exp and nbf; the checks of
// the rest of the section, which go-oidc leaves to its caller, follow.
func (u *Login) verifyIDToken(ctx context.Context, meta *providerMeta, clientID, raw, nonce string) (map[string]any, error) {
	now := func() time.Time { return u.Now().Add(-upstreamSkew) }
	tok, err := meta.op.Verifier(&oidc.Config{ClientID: clientID, Now: now}).Verify(oidc.ClientContext(ctx, upstreamHTTP), raw)
	if err != nil {
		return nil, err
	}
	// Core §2: exp is required. go-oidc takes a missing exp for the year 1 and so refuses
	// it as expired; it is refused here in its own words, whatever go-oidc does.
	if tok.Expiry.IsZero() {
		return nil, errors.New("no exp")
	}
	if tok.IssuedAt.After(u.Now().Add(upstreamSkew)) {
		return nil, errors.New("iat in the future")
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, err
	}
	// Items 4 and 5: a token for several audiences must name its authorized party, and an
	// azp must be our client, else the token was issued to another client of the provider.
	azp, _ := claims["azp"].(string)
	if _, present := claims["azp"]; present && azp != clientID {
		return nil, errors.New("azp is another client")
	}
	if len(tok.Audience) > 1 && azp == "" {
		return nil, errors.New("several audiences and no azp")
	}
	// Item 11: the nonce of this browser's authorization request, against replay.
	if subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 {
		return nil, errors.New("nonce mismatch")
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return nil, errors.New("no sub")
	}
	return claims, nil
}

// isLoopbackHost: http is allowed only for these hosts (RFC 8252 §7.3; tests).
func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

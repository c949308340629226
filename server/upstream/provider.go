package upstream

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

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

// isLoopbackHost: http is allowed only for these hosts (RFC 8252 §7.3; tests).
func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

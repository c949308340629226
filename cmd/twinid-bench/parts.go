package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// apiAudience is the audience of the login client's grant.
const apiAudience = "https://api.example.com"

// refreshTarget is the lower bound of RS256 refresh-token exchanges per second on Postgres.
const refreshTarget = 1000.0

// shop is an account with a confidential login client, its client token and customers
// with passwords.
type shop struct {
	aid, clientID, secret string
	clientTok             string
	emails, passwords     []string
}

// setupShop creates account aid with settings, a confidential client with a secret, a
// client_credentials grant of scopes for apiAudience, and n customers with passwords, and
// gets a client token the way a shop's backend does (JSON body, HTTP Basic).
func (c *apiClient) setupShop(ctx context.Context, admin, aid string, settings map[string]any, scopes []string, n int) (*shop, error) {
	bearer := "Bearer " + admin
	acct := map[string]any{"aid": aid, "name": "Bench " + aid}
	if settings != nil {
		acct["settings"] = settings
	}
	if err := c.jsonDo(ctx, http.MethodPost, "/v1/accounts", bearer, acct, nil); err != nil {
		return nil, err
	}
	sh := &shop{aid: aid}
	base := "/v1/accounts/" + aid
	var cl struct{ ClientID string }
	if err := c.jsonDo(ctx, http.MethodPost, base+"/clients", bearer, map[string]any{"name": "login", "type": "confidential"}, &cl); err != nil {
		return nil, err
	}
	var sec struct{ Secret string }
	if err := c.jsonDo(ctx, http.MethodPost, base+"/clients/"+cl.ClientID+"/secrets", bearer, nil, &sec); err != nil {
		return nil, err
	}
	if cl.ClientID == "" || sec.Secret == "" {
		return nil, errors.New("client or secret response without clientId/secret")
	}
	sh.clientID, sh.secret = cl.ClientID, sec.Secret
	grant := map[string]any{"clientId": sh.clientID, "audience": apiAudience, "type": "client_credentials", "scopes": scopes}
	if err := c.jsonDo(ctx, http.MethodPost, base+"/grants", bearer, grant, nil); err != nil {
		return nil, err
	}
	// Every creation hashes a password in the server's bounded pool: a few at a time.
	sh.emails, sh.passwords = make([]string, n), make([]string, n)
	for i := range n {
		sh.emails[i] = fmt.Sprintf("%s-%04d@example.com", aid, i)
		sh.passwords[i] = newSecret()[5:29]
	}
	if err := parallel(ctx, n, 4, func(i int) error {
		cu := map[string]any{"email": sh.emails[i], "password": sh.passwords[i], "scopes": []string{"customer_customers:read"}}
		return retryBusy(ctx, func() error { return c.jsonDo(ctx, http.MethodPost, base+"/customers/users", bearer, cu, nil) })
	}); err != nil {
		return nil, fmt.Errorf("create customers: %w", err)
	}
	return sh, c.refreshClientToken(ctx, sh)
}

// refreshClientToken gets a new client token for sh.
func (c *apiClient) refreshClientToken(ctx context.Context, sh *shop) error {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	body := map[string]string{"grant_type": "client_credentials", "audience": apiAudience}
	if err := c.jsonDo(ctx, http.MethodPost, "/v1/accounts/"+sh.aid+"/auth/token", basicAuth(sh.clientID, sh.secret), body, &tok); err != nil {
		return fmt.Errorf("client token: %w", err)
	}
	if tok.AccessToken == "" {
		return errors.New("client token response without access_token")
	}
	sh.clientTok = tok.AccessToken
	return nil
}

// login logs customer i in and returns the refresh token ("" when none was issued).
func (c *apiClient) login(ctx context.Context, sh *shop, i int) (string, error) {
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	body := map[string]string{"email": sh.emails[i], "password": sh.passwords[i], "type": "customer", "audience": apiAudience}
	err := retryBusy(ctx, func() error {
		return c.jsonDo(ctx, http.MethodPost, "/v1/accounts/"+sh.aid+"/customers/login", "Bearer "+sh.clientTok, body, &tok)
	})
	if err == nil && tok.AccessToken == "" {
		err = errors.New("login response without access_token")
	}
	return tok.RefreshToken, err
}

// refreshRow is one algorithm's refresh-token exchange rounds.
type refreshRow struct {
	alg    string
	rounds []refreshRound
}

// refreshFigures are the figures of the refresh-token part.
type refreshFigures struct {
	db     string
	conns  int
	tokens int // refresh tokens (chains) at the start
	rows   []refreshRow
}

// benchRefresh logs in k times to get k refresh-token chains, then drives the token endpoint
// with them for d per algorithm: RS256, then ES256 after switching the account and rotating
// its signing key.
func benchRefresh(ctx context.Context, g wrkGen, c *apiClient, srv *server, admin string, sh *shop, k, conns, rounds int,
	warmup, d time.Duration, ticks int64, logf func(string, ...any)) (refreshFigures, error) {
	f := refreshFigures{conns: conns}
	tokens := make([]string, k)
	logf("refresh: %d logins for the initial refresh tokens", k)
	if err := parallel(ctx, k, 4, func(i int) error {
		rt, err := c.login(ctx, sh, i%len(sh.emails))
		if err == nil && rt == "" {
			err = errors.New("login issued no refresh token")
		}
		tokens[i] = rt
		return err
	}); err != nil {
		return f, err
	}
	f.tokens = k
	url := srv.base + "/v1/accounts/" + sh.aid + "/auth/token"
	threads := g.threadsFor(conns)
	for _, alg := range []string{"RS256", "ES256"} {
		if alg == "ES256" {
			if err := switchToES256(ctx, c, admin, sh); err != nil {
				return f, err
			}
		}
		if len(tokens) <= conns {
			return f, fmt.Errorf("refresh %s: only %d refresh-token chains left for %d connections", alg, len(tokens), conns)
		}
		if warmup > 0 {
			r, err := g.runScript(ctx, "refresh-warmup", refreshScript("Bearer "+sh.clientTok, threads, tokens), url, conns, threads, warmup)
			if err != nil {
				return f, err
			}
			tokens = r.tokens
		}
		row := refreshRow{alg: alg}
		for i := range rounds {
			before, err := srv.cpu(ticks)
			if err != nil {
				return f, err
			}
			logf("refresh %s round %d/%d: wrk, %d connections, %d chains, %s", alg, i+1, rounds, conns, len(tokens), d)
			r, err := g.runScript(ctx, "refresh", refreshScript("Bearer "+sh.clientTok, threads, tokens), url, conns, threads, d)
			if err != nil {
				return f, err
			}
			after, err := srv.cpu(ticks)
			if err != nil {
				return f, err
			}
			logf("refresh %s round %d/%d: %s", alg, i+1, rounds, statusCounts(r.status))
			rr := refreshRound{run: r, ok: r.status["200"]}
			if rr.ok > 0 {
				rr.cpuPer = (after - before) / time.Duration(rr.ok)
			}
			row.rounds = append(row.rounds, rr)
			if tokens = r.tokens; len(tokens) <= conns {
				return f, fmt.Errorf("refresh %s: only %d refresh-token chains left for %d connections", alg, len(tokens), conns)
			}
		}
		f.rows = append(f.rows, row)
	}
	return f, nil
}

// figures are per algorithm exchanges/s (RS256 held to refreshTarget on Postgres), latency,
// CPU per exchange and the answers that were not 200.
func (f refreshFigures) figures() []figure {
	var figs []figure
	for _, row := range f.rows {
		part := fmt.Sprintf("refresh %s (%s, %d connections)", row.alg, f.db, f.conns)
		var rps, p50, p99, cpu, non200 []float64
		for _, r := range row.rounds {
			rps, p50, p99 = append(rps, rate(r.run)), append(p50, float64(r.run.load.p50)), append(p99, float64(r.run.load.p99))
			cpu, non200 = append(cpu, float64(r.cpuPer)), append(non200, float64(r.run.load.requests-r.ok))
		}
		x := figure{part: part, name: "exchanges/s", vals: rps, format: fmtRate}
		if row.alg == "RS256" && f.db == "Postgres" {
			x.op, x.target = "≥", refreshTarget
		}
		figs = append(figs, x,
			figure{part: part, name: "p50", vals: p50, format: fmtMs},
			figure{part: part, name: "p99", vals: p99, format: fmtMs},
			figure{part: part, name: "server cpu/exchange", vals: cpu, format: fmtMs},
			failures(part, "non-200 answers", non200))
	}
	return figs
}

// switchToES256 sets the account's signingAlg to ES256, rotates its signing key with no
// propagation delay and waits until a fresh client token is signed with ES256.
func switchToES256(ctx context.Context, c *apiClient, admin string, sh *shop) error {
	base := "/v1/accounts/" + sh.aid
	bearer := "Bearer " + admin
	if err := c.jsonDo(ctx, http.MethodPatch, base, bearer, map[string]any{"settings": map[string]any{"signingAlg": "ES256"}}, nil); err != nil {
		return err
	}
	if err := c.jsonDo(ctx, http.MethodPost, base+"/signing-keys/rotate", bearer, map[string]any{"activateAfter": 0}, nil); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := c.refreshClientToken(ctx, sh); err != nil {
			return err
		}
		if jwtAlg(sh.clientTok) == "ES256" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("tokens still signed with %s 30s after the rotation to ES256", jwtAlg(sh.clientTok))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// jwtAlg returns the alg of a compact JWS's protected header ("" when unreadable).
func jwtAlg(tok string) string {
	h, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct{ Alg string }
	_ = json.Unmarshal(raw, &hdr)
	return hdr.Alg
}

package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Browser sign-in parts: full code-flow logins (authorize → login form → code → token) and
// SSO authorizations (a session cookie, straight back with a code).

const (
	ssoTarget     = 1000.0
	benchRedirect = "http://127.0.0.1:9/callback" // never followed
	// A fixed PKCE verifier: every request of the bench uses the same pair.
	benchVerifier = "dBjftJeZ4CVP-mJ0kAKTGwTlmfFgn0v72h8W2Yfj6zU"
)

var benchChallenge = func() string {
	sum := sha256.Sum256([]byte(benchVerifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}()

var (
	reAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	reAR     = regexp.MustCompile(`name="ar" value="([^"]+)"`)
)

type ssoFigures struct {
	flowConns      int
	flows          int64
	flowErrors     int64
	flowDur        time.Duration
	flowCPUPer     time.Duration
	rawVerify      time.Duration
	sso            scriptRun
	ssoOK, ssoConn int64
}

func (f ssoFigures) flowRate() float64 { return float64(f.flows) / f.flowDur.Seconds() }
func (f ssoFigures) ssoRate() float64 {
	if f.sso.load.elapsed <= 0 {
		return 0
	}
	return float64(f.ssoOK) / f.sso.load.elapsed.Seconds()
}

// authzURL is an authorization request of the bench's web client.
func authzURL(base, aid, clientID string) string {
	return base + "/v1/accounts/" + aid + "/auth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {clientID},
		"redirect_uri": {benchRedirect}, "scope": {"openid"}, "state": {"bench"},
		"code_challenge": {benchChallenge}, "code_challenge_method": {"S256"}}.Encode()
}

// codeFlow signs customer i in through the hosted login page and exchanges the code; it
// returns the browser's session cookie.
func codeFlow(ctx context.Context, base, aid, clientID, secret, email, password string) (string, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(req *http.Request) (*http.Response, string, error) {
		res, err := hc.Do(req.WithContext(ctx))
		if err != nil {
			return nil, "", err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return res, string(b), err
	}
	req, _ := http.NewRequest(http.MethodGet, authzURL(base, aid, clientID), nil)
	res, page, err := get(req)
	if err != nil {
		return "", err
	}
	action, ar := reAction.FindStringSubmatch(page), reAR.FindStringSubmatch(page)
	if res.StatusCode != http.StatusOK || action == nil || ar == nil {
		return "", fmt.Errorf("authorize: status %d", res.StatusCode)
	}
	form := url.Values{"ar": {html.UnescapeString(ar[1])}, "email": {email}, "password": {password}}
	req, _ = http.NewRequest(http.MethodPost, html.UnescapeString(action[1]), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, _, err = get(req); err != nil {
		return "", err
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("login: status %d", res.StatusCode)
	}
	tok := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {benchRedirect}, "code_verifier": {benchVerifier}}
	req, _ = http.NewRequest(http.MethodPost, base+"/v1/accounts/"+aid+"/auth/token", strings.NewReader(tok.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	res, body, err := get(req)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("token: status %d: %s", res.StatusCode, body)
	}
	u, _ := url.Parse(base + "/v1/accounts/" + aid + "/")
	for _, c := range jar.Cookies(u) {
		if c.Name == "twinid_session" {
			return c.Value, nil
		}
	}
	return "", errors.New("no session cookie")
}

// ssoScript asks for codes with a session cookie; 303 is success.
func ssoScript(cookie string) string {
	return fmt.Sprintf(`-- twinid-bench: SSO authorizations
wrk.method = "GET"
wrk.headers["Cookie"] = %s
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
c303, cother = 0, 0
function response(status, headers, body)
  if status == 303 then c303 = c303 + 1 else cother = cother + 1 end
end
function done(summary, latency, requests)
  local a, b = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("c303")
    b = b + t:get("cother")
  end
  io.write(string.format("STATUS 303 %%d\nSTATUS other %%d\n", a, b))
end
`, luaString("twinid_session="+cookie))
}

// benchSSO measures full code-flow logins (Go clients, conns at a time, for d) and SSO
// authorizations (wrk).
func benchSSO(ctx context.Context, g wrkGen, c *apiClient, srv *server, admin string, sh *shop, conns, ssoConns int, d time.Duration, ticks int64) (ssoFigures, error) {
	f := ssoFigures{flowConns: conns, ssoConn: int64(ssoConns)}
	bearer := "Bearer " + admin
	base := "/v1/accounts/" + sh.aid
	var cl struct{ ClientID string }
	if err := c.jsonDo(ctx, http.MethodPost, base+"/clients", bearer, map[string]any{"name": "web", "type": "confidential",
		"redirectUris": []string{benchRedirect}}, &cl); err != nil {
		return f, err
	}
	var sec struct{ Secret string }
	if err := c.jsonDo(ctx, http.MethodPost, base+"/clients/"+cl.ClientID+"/secrets", bearer, nil, &sec); err != nil {
		return f, err
	}
	// Full code-flow logins, each in a fresh browser.
	before, err := srv.cpu(ticks)
	if err != nil {
		return f, err
	}
	var next, done, fails atomic.Int64
	var cookie, firstErr atomic.Value
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := int(next.Add(1)) % len(sh.emails)
				v, err := codeFlow(ctx, srv.base, sh.aid, cl.ClientID, sec.Secret, sh.emails[i], sh.passwords[i])
				if err != nil {
					if fails.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
					continue
				}
				cookie.Store(v)
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	f.flowDur = time.Since(start)
	after, err := srv.cpu(ticks)
	if err != nil {
		return f, err
	}
	f.flows, f.flowErrors = done.Load(), fails.Load()
	if f.flows > 0 {
		f.flowCPUPer = (after - before) / time.Duration(f.flows)
	}
	if f.rawVerify, err = argonCost(10); err != nil {
		return f, err
	}
	v, _ := cookie.Load().(string)
	if v == "" {
		e, _ := firstErr.Load().(string)
		return f, errors.New("no code-flow login succeeded, so there is no session for SSO: " + e)
	}
	if f.sso, err = g.runScript(ctx, "sso", ssoScript(v), authzURL(srv.base, sh.aid, cl.ClientID), ssoConns, g.threadsFor(ssoConns), d); err != nil {
		return f, err
	}
	f.ssoOK = f.sso.status["303"]
	return f, nil
}

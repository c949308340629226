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

// ssoRound is one round of the sso part.
type ssoRound struct {
	flows, flowErrors int64
	flowDur           time.Duration
	flowCPUPer        time.Duration // server CPU per code-flow login
	base              time.Duration // passwords.Verify with passwords.Default, this round
	sso               scriptRun
}

type ssoFigures struct {
	flowConns, ssoConns int
	rounds              []ssoRound
}

func (r ssoRound) flowRate() float64 { return float64(r.flows) / r.flowDur.Seconds() }
func (r ssoRound) ssoRate() float64 {
	if r.sso.load.elapsed <= 0 {
		return 0
	}
	return float64(r.sso.status["303"]) / r.sso.load.elapsed.Seconds()
}

func (f ssoFigures) figures() []figure {
	part := fmt.Sprintf("code-flow logins (%d at a time)", f.flowConns)
	spart := fmt.Sprintf("SSO authorizations (%d connections)", f.ssoConns)
	var flows, cpu, base, ratio, flowErrs, sso, p50, p99, non303 []float64
	for _, r := range f.rounds {
		flows, cpu, base = append(flows, r.flowRate()), append(cpu, float64(r.flowCPUPer)), append(base, float64(r.base))
		ratio, flowErrs = append(ratio, float64(r.flowCPUPer)/float64(r.base)), append(flowErrs, float64(r.flowErrors))
		sso, p50, p99 = append(sso, r.ssoRate()), append(p50, float64(r.sso.load.p50)), append(p99, float64(r.sso.load.p99))
		non303 = append(non303, float64(r.sso.status["other"]))
	}
	return []figure{
		{part: part, name: "logins/s", vals: flows, format: fmtRate},
		{part: part, name: "server cpu/login", vals: cpu, format: fmtMs},
		{part: part, name: "cpu/login ÷ argon2id verify", vals: ratio, format: fmtRatio},
		failures(part, "errors", flowErrs),
		{part: spart, name: "authorizations/s", vals: sso, format: fmtRate, op: "≥", target: ssoTarget},
		{part: spart, name: "p50", vals: p50, format: fmtMs},
		{part: spart, name: "p99", vals: p99, format: fmtMs},
		failures(spart, "non-303 answers", non303),
	}
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

// benchSSO measures, in rounds, full code-flow logins (Go clients, conns at a time, for d)
// and SSO authorizations (wrk, for d), with the argon2id baseline on the server's core.
func benchSSO(ctx context.Context, g wrkGen, c *apiClient, srv *server, bl baseliner, admin string, sh *shop,
	conns, ssoConns, rounds int, d time.Duration, ticks int64, logf func(string, ...any)) (ssoFigures, error) {
	f := ssoFigures{flowConns: conns, ssoConns: ssoConns}
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
	for i := range rounds {
		var r ssoRound
		var err error
		if r.base, err = bl.argonCost(ctx); err != nil {
			return f, err
		}
		logf("sso round %d/%d: code-flow logins, then SSO authorizations, %s each", i+1, rounds, d)
		cookie, err := codeFlows(ctx, srv, sh, cl.ClientID, sec.Secret, conns, d, ticks, &r)
		if err != nil {
			return f, err
		}
		if r.sso, err = g.runScript(ctx, "sso", ssoScript(cookie), authzURL(srv.base, sh.aid, cl.ClientID), ssoConns, g.threadsFor(ssoConns), d); err != nil {
			return f, err
		}
		f.rounds = append(f.rounds, r)
	}
	return f, nil
}

// codeFlows runs full code-flow logins, each in a fresh browser, conns at a time for d,
// records them in r and returns the session cookie of one of them.
func codeFlows(ctx context.Context, srv *server, sh *shop, clientID, secret string, conns int, d time.Duration, ticks int64, r *ssoRound) (string, error) {
	before, err := srv.cpu(ticks)
	if err != nil {
		return "", err
	}
	var next, done, fails atomic.Int64
	var cookie, firstErr atomic.Value
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := int(next.Add(1)) % len(sh.emails)
				v, err := codeFlow(ctx, srv.base, sh.aid, clientID, secret, sh.emails[i], sh.passwords[i])
				if err != nil {
					if fails.Add(1) == 1 {
						firstErr.Store(err.Error())
					}
					continue
				}
				cookie.Store(v)
				done.Add(1)
			}
		})
	}
	wg.Wait()
	r.flowDur = time.Since(start)
	after, err := srv.cpu(ticks)
	if err != nil {
		return "", err
	}
	r.flows, r.flowErrors = done.Load(), fails.Load()
	if r.flows > 0 {
		r.flowCPUPer = (after - before) / time.Duration(r.flows)
	}
	v, _ := cookie.Load().(string)
	if v == "" {
		e, _ := firstErr.Load().(string)
		return "", errors.New("no code-flow login succeeded, so there is no session for SSO: " + e)
	}
	return v, nil
}

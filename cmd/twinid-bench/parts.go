package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/store"
)

// apiAudience is the audience of the login client's grant.
const apiAudience = "https://api.example.com"

// loginTarget is the upper bound of server CPU per login / raw argon2id verify.
const loginTarget = 1.15

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

// parallel runs f(0..n-1) on at most workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil || ctx.Err() != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// retryBusy retries f while the server answers 503 (password pool saturated), up to 20 times.
func retryBusy(ctx context.Context, f func() error) error {
	for try := 0; ; try++ {
		err := f()
		if err == nil || try == 20 || !strings.Contains(err.Error(), ": 503 ") {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// argonCost times passwords.Verify with passwords.Default parameters, n times on one
// goroutine (one goroutine: wall time per op is CPU time per op).
func argonCost(n int) (time.Duration, error) {
	h, err := passwords.Hash("correct horse battery staple", passwords.Default)
	if err != nil {
		return 0, err
	}
	if ok, _, err := passwords.Verify("correct horse battery staple", h, passwords.Default); !ok || err != nil {
		return 0, fmt.Errorf("passwords.Verify of a fresh hash: %v %v", ok, err)
	}
	// CPU time of this process (garbage collection included), like the server's CPU per
	// login it is compared with: argon2id allocates 19 MiB per hash, and collecting that
	// runs on other threads, which wall-clock time on one thread would leave out.
	runtime.GC()
	before, err := processCPU()
	if err != nil {
		return 0, err
	}
	for range n {
		if _, _, err := passwords.Verify("correct horse battery staple", h, passwords.Default); err != nil {
			return 0, err
		}
	}
	runtime.GC()
	after, err := processCPU()
	if err != nil {
		return 0, err
	}
	return (after - before) / time.Duration(n), nil
}

// processCPU is the user plus system CPU time this process has used.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// loginFigures are the figures of the customer-login part.
type loginFigures struct {
	conns     int
	run       scriptRun
	ok        int64
	cpuPer    time.Duration // server CPU per successful login
	rawVerify time.Duration // passwords.Verify, Default params, one goroutine
}

func (f loginFigures) ratio() float64 { return float64(f.cpuPer) / float64(f.rawVerify) }

// benchLogins drives /customers/login with correct passwords for d after a warm-up.
func benchLogins(ctx context.Context, g wrkGen, srv *server, sh *shop, conns int, warmup, d time.Duration, ticks int64) (loginFigures, error) {
	f := loginFigures{conns: conns}
	threads := g.threadsFor(conns)
	script := loginScript("Bearer "+sh.clientTok, apiAudience, sh.emails, sh.passwords)
	url := srv.base + "/v1/accounts/" + sh.aid + "/customers/login"
	if warmup > 0 {
		if _, err := g.runScript(ctx, "login-warmup", script, url, conns, threads, warmup); err != nil {
			return f, err
		}
	}
	before, err := srv.cpu(ticks)
	if err != nil {
		return f, err
	}
	if f.run, err = g.runScript(ctx, "login", script, url, conns, threads, d); err != nil {
		return f, err
	}
	after, err := srv.cpu(ticks)
	if err != nil {
		return f, err
	}
	f.ok = f.run.status["200"]
	if f.ok > 0 {
		f.cpuPer = (after - before) / time.Duration(f.ok)
	}
	return f, nil
}

// floodFigures are the figures of the login flood.
type floodFigures struct {
	conns               int
	run                 scriptRun
	hwmBefore, hwmAfter float64 // MiB; VmHWM reset before the flood when resetOK
	rssAfter            float64
	resetOK             bool
}

// benchFlood hammers /customers/login with conns connections for d and reads the server's
// peak RSS around it.
func benchFlood(ctx context.Context, g wrkGen, srv *server, sh *shop, conns int, d time.Duration) (floodFigures, error) {
	f := floodFigures{conns: conns, resetOK: srv.resetPeak() == nil}
	var err error
	if _, f.hwmBefore, err = srv.memory(); err != nil {
		return f, err
	}
	script := loginScript("Bearer "+sh.clientTok, apiAudience, sh.emails, sh.passwords)
	url := srv.base + "/v1/accounts/" + sh.aid + "/customers/login"
	if f.run, err = g.runScript(ctx, "flood", script, url, conns, g.threadsFor(conns), d); err != nil {
		return f, err
	}
	f.rssAfter, f.hwmAfter, err = srv.memory()
	return f, err
}

// refreshRow is one algorithm's refresh-token exchange figures.
type refreshRow struct {
	alg    string
	run    scriptRun
	ok     int64
	cpuPer time.Duration
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
func benchRefresh(ctx context.Context, g wrkGen, c *apiClient, srv *server, admin string, sh *shop, k, conns int,
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
		before, err := srv.cpu(ticks)
		if err != nil {
			return f, err
		}
		logf("refresh %s: wrk, %d connections, %d chains, %s", alg, conns, len(tokens), d)
		r, err := g.runScript(ctx, "refresh", refreshScript("Bearer "+sh.clientTok, threads, tokens), url, conns, threads, d)
		if err != nil {
			return f, err
		}
		after, err := srv.cpu(ticks)
		if err != nil {
			return f, err
		}
		row := refreshRow{alg: alg, run: r, ok: r.status["200"]}
		if row.ok > 0 {
			row.cpuPer = (after - before) / time.Duration(row.ok)
		}
		f.rows = append(f.rows, row)
		tokens = r.tokens
	}
	return f, nil
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

// searchRow is the latency of one kind of search at one table size.
type searchRow struct {
	customers int
	kind      string // "email" or "phone"
	n         int
	p50, p99  time.Duration
	avgHits   float64
	errors    int
}

// searchFigures are the figures of the customer-search part.
type searchFigures struct {
	db   string
	rows []searchRow
}

// phoneOf is the unique phone number of seeded customer i: +479 and seven digits, a
// permutation of i (7919 is prime to 10^7).
func phoneOf(i int) string { return fmt.Sprintf("+479%07d", (i*7919+1234567)%10_000_000) }

// emailOf is the email of seeded customer i: a random-looking prefix derived from i (a
// SHA-256 of it), so 3-letter prefixes spread over 26^3 values and reruns seed the same.
func emailOf(i int) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(i)))
	b := make([]byte, 8)
	for j := range b {
		b[j] = 'a' + sum[j]%26
	}
	return fmt.Sprintf("%s.%d@example.com", b, i)
}

// seedCustomers inserts customers from..to-1 of account aid through the store.
func seedCustomers(ctx context.Context, st *store.Store, aid string, from, to int) ([]string, error) {
	const batch = 1000
	var emails []string
	now := time.Now().UTC()
	for lo := from; lo < to; lo += batch {
		rows := make([]store.Customer, 0, batch)
		for i := lo; i < min(to, lo+batch); i++ {
			id, err := uuid.NewV7()
			if err != nil {
				return nil, err
			}
			email, phone := emailOf(i), phoneOf(i)
			emailNorm := email
			emails = append(emails, email)
			rows = append(rows, store.Customer{ID: id.String(), AID: aid, Type: "customer", Email: &email, EmailNorm: &emailNorm,
				PhoneNumber: &phone, Name: fmt.Sprintf("Customer %d", i), Status: "active", Scopes: []string{},
				Metadata: map[string]any{}, CreatedAt: now, UpdatedAt: now})
		}
		if err := st.DB().WithContext(ctx).CreateInBatches(rows, batch).Error; err != nil {
			return nil, err
		}
	}
	return emails, nil
}

// benchSearch seeds 1,000 then 100,000 customers into a new account and measures n
// sequential searches by email prefix and by phone prefix at each size.
func benchSearch(ctx context.Context, c *apiClient, srv *server, admin string, sizes []int, n int, logf func(string, ...any)) (searchFigures, error) {
	f := searchFigures{db: srv.dbName()}
	const aid = "bench-search"
	if err := c.jsonDo(ctx, http.MethodPost, "/v1/accounts", "Bearer "+admin, map[string]any{"aid": aid, "name": "Bench search"}, nil); err != nil {
		return f, err
	}
	st, err := store.Open(ctx, store.Config{DatabaseURL: srv.db, DataDir: srv.dataDir})
	if err != nil {
		return f, err
	}
	defer st.Close()
	var emailPrefixes, phonePrefixes []string
	seeded := 0
	for _, size := range sizes {
		logf("search: seeding customers %d..%d", seeded, size)
		t0 := time.Now()
		emails, err := seedCustomers(ctx, st, aid, seeded, size)
		if err != nil {
			return f, fmt.Errorf("seed customers: %w", err)
		}
		logf("search: seeded %d customers in %s", size-seeded, time.Since(t0).Round(time.Millisecond))
		if seeded == 0 {
			// Prefixes of the first customers: they match at every size.
			for i, e := range emails[:min(len(emails), 200)] {
				emailPrefixes = append(emailPrefixes, e[:3])
				phonePrefixes = append(phonePrefixes, phoneOf(i)[:7])
			}
		}
		seeded = size
		for _, kind := range []string{"email", "phone"} {
			prefixes, param := emailPrefixes, "email"
			if kind == "phone" {
				prefixes, param = phonePrefixes, "phoneNumber"
			}
			row, err := searchLatency(ctx, c, admin, aid, param, prefixes, n)
			if err != nil {
				return f, err
			}
			row.customers, row.kind = size, kind
			f.rows = append(f.rows, row)
		}
	}
	return f, nil
}

// searchLatency sends n sequential searches (after n/10 unmeasured ones) rotating over
// prefixes and returns their p50/p99.
func searchLatency(ctx context.Context, c *apiClient, admin, aid, param string, prefixes []string, n int) (searchRow, error) {
	row := searchRow{n: n}
	lat := make([]time.Duration, 0, n)
	hits := 0
	warm := n / 10
	for i := range warm + n {
		u := c.base + "/v1/accounts/" + aid + "/customers/users?" + url.Values{param: {prefixes[i%len(prefixes)]}, "limit": {"20"}}.Encode()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return row, err
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		t0 := time.Now()
		resp, err := c.http.Do(req)
		if err != nil {
			return row, err
		}
		var page struct{ Items []json.RawMessage }
		derr := json.NewDecoder(resp.Body).Decode(&page)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if i < warm {
			continue
		}
		lat = append(lat, d)
		if resp.StatusCode != http.StatusOK || derr != nil {
			row.errors++
		}
		hits += len(page.Items)
	}
	slices.Sort(lat)
	row.p50, row.p99 = percentile(lat, 0.50), percentile(lat, 0.99)
	row.avgHits = float64(hits) / float64(n)
	return row, nil
}

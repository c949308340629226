// Command twinid-bench measures twinid over loopback HTTP (`make bench`).
//
// It builds ./cmd/twinid, starts it on a free 127.0.0.1 port with a fresh data directory and
// runs these parts (-only picks some), printing a table per part and a summary at the end:
//
//   - tokens: per signing algorithm, an account with a service account and a secret; the
//     client_credentials token endpoint is driven by a load generator (wrk when it is on PATH,
//     else a built-in Go one) for a bounded time. Reports tokens/s, p50/p99 latency, server CPU
//     per token (from /proc/<pid>/stat), SQL statements per token and errors (from /metrics),
//     and compares the CPU per token with a bare jwt.Sign measured in the same process.
//   - logins: customer password logins (POST /customers/login) rotating over -customers
//     customers; server CPU per login against passwords.Verify with passwords.Default
//     measured in this process (target 1.15x).
//   - flood: -flood-connections connections on /customers/login; status counts and the
//     server's peak RSS (VmHWM, reset just before).
//   - refresh: refresh-token exchanges with rotation, each wrk thread following its own
//     chains, RS256 then ES256 (target ≥ 1,000/s with RS256 on Postgres).
//   - search: customers seeded through the store, p50/p99 of email- and phone-prefix
//     searches at each of -search-sizes.
//
// The refresh and search parts run on Postgres: on -db when it is a Postgres URL, else on a
// second server using a fresh database twinid_bench_<random> created through -postgres
// (default $TWINID_BENCH_POSTGRES_URL, else the local server when it answers) and dropped at
// the end; without Postgres they run on SQLite. The login, flood and refresh parts need wrk.
// Misses against the targets are printed, never fatal.
//
// Usage:
//
//	go run ./cmd/twinid-bench [-pin] [-duration 10s] [-warmup 2s] [-connections 16] [-threads 2]
//	                          [-gen wrk|go] [-algs RS256,ES256] [-db postgres://...]
//	                          [-only tokens,logins,flood,refresh,search] [-postgres URL|off]
//	                          [-part-duration 5s] [-customers 200] [-refresh-tokens 256]
//	                          [-search-sizes 1000,100000] [-search-requests 500]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// targets are the upper bounds of server CPU per token / raw signing cost.
var targets = map[string]float64{"RS256": 1.2, "ES256": 2.5}

// options are the command-line flags.
type options struct {
	duration    time.Duration
	warmup      time.Duration
	connections int
	threads     int
	pin         bool
	db          string
	gen         string
	algs        []string

	only          map[string]bool // parts to run: tokens, logins, flood, refresh, search
	postgres      string          // maintenance database URL for the refresh and search parts
	pgExplicit    bool            // -postgres or TWINID_BENCH_POSTGRES_URL was given
	partDuration  time.Duration   // measured load time of the logins, flood and refresh parts
	loginConns    int
	floodConns    int
	customers     int // customers with passwords for the login parts
	refreshTokens int // refresh-token chains
	searchN       int // measured searches per kind and size
	searchSizes   []int
}

// parts are the measurements -only chooses from, in run order.
var parts = []string{"tokens", "logins", "flood", "sso", "refresh", "search"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "twinid-bench:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into options.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("twinid-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured load `time` per algorithm")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load `time` before each run")
	fs.IntVar(&o.connections, "connections", 16, "concurrent keep-alive connections")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads")
	fs.BoolVar(&o.pin, "pin", false, "pin the server to CPU 1 and wrk to CPU 0 (taskset), so they do not share a core")
	fs.StringVar(&o.db, "db", "", "TWINID_DATABASE_URL, e.g. postgres://... (default: embedded SQLite)")
	fs.StringVar(&o.gen, "gen", "wrk", "load generator: wrk (falls back to go when wrk is missing) or go")
	algs := fs.String("algs", "RS256,ES256", "comma-separated signing algorithms to measure")
	only := fs.String("only", strings.Join(parts, ","), "comma-separated parts to run: "+strings.Join(parts, ", "))
	pgDefault, pgSet := os.LookupEnv("TWINID_BENCH_POSTGRES_URL")
	if !pgSet {
		pgDefault = defaultPostgres
	}
	fs.StringVar(&o.postgres, "postgres", pgDefault, "Postgres `URL` (maintenance database) where the refresh and search parts create and drop a fresh\n"+
		"database twinid_bench_<random>; \"off\" uses -db/SQLite. Default $TWINID_BENCH_POSTGRES_URL, else the local server when it answers")
	fs.DurationVar(&o.partDuration, "part-duration", 5*time.Second, "measured load `time` of the logins, flood and refresh runs")
	fs.IntVar(&o.loginConns, "login-connections", 4, "connections of the logins run (the server's password pool queues 4 per worker)")
	fs.IntVar(&o.floodConns, "flood-connections", 200, "connections of the login flood")
	fs.IntVar(&o.customers, "customers", 200, "customers with passwords for the logins and flood runs")
	fs.IntVar(&o.refreshTokens, "refresh-tokens", 256, "refresh-token chains (one login each) for the refresh runs")
	fs.IntVar(&o.searchN, "search-requests", 500, "measured searches per kind and table size")
	sizes := fs.String("search-sizes", "1000,100000", "comma-separated customer counts the search is measured at")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.pgExplicit = pgSet
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "postgres" {
			o.pgExplicit = true
		}
	})
	o.only = map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(parts, p) {
			return o, fmt.Errorf("-only: unknown part %q (%s)", p, strings.Join(parts, ", "))
		}
		o.only[p] = true
	}
	prev := 0
	for _, v := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= prev || n > 10_000_000 {
			return o, fmt.Errorf("-search-sizes: %q: want increasing counts up to 10,000,000", v)
		}
		o.searchSizes, prev = append(o.searchSizes, n), n
	}
	switch {
	case o.partDuration <= 0 || o.partDuration > time.Hour:
		return o, errors.New("-part-duration must be in (0, 1h]")
	case o.loginConns < 1 || o.floodConns < 1 || o.loginConns > 10000 || o.floodConns > 10000:
		return o, errors.New("-login-connections and -flood-connections must be in [1, 10000]")
	case o.customers < 1 || o.customers > 100000:
		return o, errors.New("-customers must be in [1, 100000]")
	case o.refreshTokens < 1 || o.refreshTokens > 100000:
		return o, errors.New("-refresh-tokens must be in [1, 100000]")
	case o.searchN < 10:
		return o, errors.New("-search-requests must be at least 10")
	}
	for _, a := range strings.Split(*algs, ",") {
		a = strings.ToUpper(strings.TrimSpace(a))
		if _, ok := targets[a]; !ok {
			return o, fmt.Errorf("-algs: unsupported algorithm %q (RS256, ES256)", a)
		}
		o.algs = append(o.algs, a)
	}
	switch {
	case o.duration <= 0 || o.duration > time.Hour:
		return o, errors.New("-duration must be in (0, 1h]")
	case o.warmup < 0 || o.warmup > time.Hour:
		return o, errors.New("-warmup must be in [0, 1h]")
	case o.connections < 1 || o.connections > 10000:
		return o, errors.New("-connections must be in [1, 10000]")
	case o.threads < 1:
		return o, errors.New("-threads must be at least 1")
	case o.gen != "wrk" && o.gen != "go":
		return o, fmt.Errorf("-gen: %q is neither wrk nor go", o.gen)
	}
	return o, nil
}

// row is one algorithm's figures.
type row struct {
	alg        string
	load       loadResult
	cpuPerTok  time.Duration // server CPU per issued token
	queries    float64       // SQL statements per issued token
	tokens     float64       // tokens issued during the run (from /metrics)
	signPerTok time.Duration // bare jwt.Sign, one goroutine
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "twinid-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var gen generator = goGen{connections: o.connections}
	if o.gen == "wrk" {
		if path, err := exec.LookPath("wrk"); err == nil {
			gen = wrkGen{path: path, dir: tmp, connections: o.connections, threads: o.threads, pin: o.pin}
		} else {
			fmt.Fprintln(stderr, "twinid-bench: wrk is not on PATH (apt-get install wrk); using the built-in Go load generator")
		}
	}
	ticks, err := clockTicks(ctx)
	if err != nil {
		return err
	}

	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "twinid-bench: "+format+"\n", a...) }
	logf("building ./cmd/twinid")
	bin, err := buildServer(ctx, tmp)
	if err != nil {
		return err
	}
	srv, err := startServer(ctx, bin, tmp, o.db, o.pin)
	if err != nil {
		return err
	}
	defer srv.stop(stderr)
	logf("server pid %d at %s", srv.cmd.Process.Pid, srv.base)

	c := &apiClient{base: srv.base, http: &http.Client{Timeout: 30 * time.Second}}
	admin, err := c.token(ctx, "root", basicAuth(bootstrapClientID, srv.adminSecret), "api://management/.default")
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}

	var rows []row
	for _, alg := range o.algs {
		if !o.only["tokens"] {
			break
		}
		t, err := c.setup(ctx, admin, alg)
		if err != nil {
			return fmt.Errorf("%s setup: %w", alg, err)
		}
		if o.warmup > 0 {
			logf("%s: warm-up %s", alg, o.warmup)
			if _, err := gen.run(ctx, t, o.warmup); err != nil {
				return err
			}
		}
		before, err := srv.sample(ctx, c, ticks)
		if err != nil {
			return err
		}
		logf("%s: %s load, %d connections, %s", alg, gen.name(), o.connections, o.duration)
		res, err := gen.run(ctx, t, o.duration)
		if err == nil {
			err = ctx.Err() // interrupted: the figures are partial
		}
		if err != nil {
			return err
		}
		after, err := srv.sample(ctx, c, ticks)
		if err != nil {
			return err
		}
		r := row{alg: alg, load: res, tokens: after.tokens - before.tokens}
		if r.tokens > 0 {
			r.cpuPerTok = time.Duration(float64(after.cpu-before.cpu) / r.tokens)
			r.queries = (after.queries - before.queries) / r.tokens
		}
		rows = append(rows, r)
	}
	// The raw signing cost is measured with the server idle, in this process.
	for i := range rows {
		logf("%s: timing jwt.Sign", rows[i].alg)
		if rows[i].signPerTok, err = signCost(rows[i].alg); err != nil {
			return err
		}
	}
	// Read now: the flood below resets the peak.
	rss, hwm, err := srv.memory()
	if err != nil {
		return err
	}
	if len(rows) > 0 {
		printReport(stdout, o, gen.name(), rows, rss, hwm)
	}

	var sum summary
	sum.tokens = rows
	wg, haveWrk := gen.(wrkGen)
	if !haveWrk && (o.only["logins"] || o.only["flood"] || o.only["refresh"]) {
		fmt.Fprintln(stdout, "logins, flood, refresh: skipped (they need wrk)")
	}
	if haveWrk && (o.only["logins"] || o.only["flood"] || o.only["sso"]) {
		logf("logins: creating %d customers with passwords", o.customers)
		sh, err := c.setupShop(ctx, admin, "bench-login", nil, []string{"accounts:auth:users", "customer_customers:read"}, o.customers)
		if err != nil {
			return fmt.Errorf("logins setup: %w", err)
		}
		if o.only["logins"] {
			logf("logins: wrk, %d connections, %s", o.loginConns, o.partDuration)
			f, err := benchLogins(ctx, wg, srv, sh, o.loginConns, min(o.warmup, time.Second), o.partDuration, ticks)
			if err != nil {
				return fmt.Errorf("logins: %w", err)
			}
			logf("logins: timing passwords.Verify")
			if f.rawVerify, err = argonCost(20); err != nil {
				return err
			}
			printLogins(stdout, srv, f)
			sum.logins = &f
		}
		if o.only["sso"] {
			logf("sso: code-flow logins (%d at a time) and SSO authorizations (wrk, %d connections), %s each", o.loginConns, o.connections, o.partDuration)
			f, err := benchSSO(ctx, wg, c, srv, admin, sh, o.loginConns, o.connections, o.partDuration, ticks)
			if err != nil {
				return fmt.Errorf("sso: %w", err)
			}
			printSSO(stdout, f)
			sum.sso = &f
		}
		if o.only["flood"] {
			logf("flood: wrk, %d connections, %s", o.floodConns, o.partDuration)
			f, err := benchFlood(ctx, wg, srv, sh, o.floodConns, o.partDuration)
			if err != nil {
				return fmt.Errorf("flood: %w", err)
			}
			printFlood(stdout, srv, f)
			sum.flood = &f
		}
	}
	if (haveWrk && o.only["refresh"]) || o.only["search"] {
		// The refresh and search parts run on Postgres when there is one.
		psrv, padmin, pc := srv, admin, c
		if !isPostgres(o.db) && o.postgres != "" && o.postgres != "off" {
			bdb, err := createBenchDB(ctx, o.postgres)
			switch {
			case err != nil && o.pgExplicit:
				return fmt.Errorf("-postgres: %w", err)
			case err != nil:
				logf("no Postgres at %s (%v): refresh and search run on SQLite", redactURL(o.postgres), err)
			default:
				defer func() {
					if err := bdb.drop(); err != nil {
						logf("drop database %s: %v", bdb.name, err)
					}
				}()
				pdir := filepath.Join(tmp, "pg")
				if err := os.Mkdir(pdir, 0o700); err != nil {
					return err
				}
				// The Postgres parts measure what the machine does (throughput, latency), so
				// this server and its load are not pinned: Postgres itself uses every core.
				if psrv, err = startServer(ctx, bin, pdir, bdb.url, false); err != nil {
					return err
				}
				defer psrv.stop(stderr) // runs before the drop
				logf("Postgres server pid %d at %s, database %s", psrv.cmd.Process.Pid, psrv.base, bdb.name)
				pc = &apiClient{base: psrv.base, http: &http.Client{Timeout: 30 * time.Second}}
				if padmin, err = pc.token(ctx, "root", basicAuth(bootstrapClientID, psrv.adminSecret), "api://management/.default"); err != nil {
					return fmt.Errorf("admin token: %w", err)
				}
			}
		}
		if haveWrk && o.only["refresh"] {
			logf("refresh: setup on %s", psrv.dbName())
			sh, err := pc.setupShop(ctx, padmin, "bench-refresh", map[string]any{"signingAlg": "RS256"},
				[]string{"accounts:auth:users", "create:accounts:auth:refresh_token", "customer_customers:read"}, 16)
			if err != nil {
				return fmt.Errorf("refresh setup: %w", err)
			}
			unpinned := wg
			unpinned.pin = false
			f, err := benchRefresh(ctx, unpinned, pc, psrv, padmin, sh, o.refreshTokens, o.connections,
				min(o.warmup, time.Second), o.partDuration, ticks, logf)
			if err != nil {
				return fmt.Errorf("refresh: %w", err)
			}
			f.db = psrv.dbName()
			printRefresh(stdout, f)
			sum.refresh = &f
		}
		if o.only["search"] {
			f, err := benchSearch(ctx, pc, psrv, padmin, o.searchSizes, o.searchN, logf)
			if err != nil {
				return fmt.Errorf("search: %w", err)
			}
			printSearch(stdout, f)
			sum.search = &f
		}
	}
	printSummary(stdout, sum)
	return nil
}

// printReport writes the table of figures.
func printReport(w io.Writer, o options, gen string, rows []row, rss, hwm float64) {
	db := "SQLite"
	if o.db != "" {
		db = "database " + strings.SplitN(o.db, ":", 2)[0] // the scheme only: no credentials
	}
	fmt.Fprintf(w, "twinid bench: client_credentials over loopback HTTP (%s, %d connections, %s), %s\n",
		gen, o.connections, o.duration, db)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "alg\ttokens/s\tp50\tp99\tcpu/token\traw sign\tratio\ttarget\t\tqueries/token\terrors")
	for _, r := range rows {
		ratio, verdict, cpu, q := "-", "-", "-", "-"
		if r.tokens > 0 {
			cpu, q = ms(r.cpuPerTok), fmt.Sprintf("%.3f", r.queries)
			x := float64(r.cpuPerTok) / float64(r.signPerTok)
			ratio, verdict = fmt.Sprintf("%.2fx", x), "met"
			if x > targets[r.alg] {
				verdict = "NOT met"
			}
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%.2fx\t%s\t%s\t%d\n", r.alg, r.load.rps,
			ms(r.load.p50), ms(r.load.p99), cpu, ms(r.signPerTok), ratio, targets[r.alg], verdict, q, r.load.errors)
	}
	tw.Flush()
	fmt.Fprintf(w, "server RSS: %.1f MiB (peak %.1f MiB)\n", rss, hwm)
}

// ms formats d in milliseconds with three significant decimals.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 1 {
		return fmt.Sprintf("%.3fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

// apiClient talks to the server's Management API and token endpoint.
type apiClient struct {
	base string
	http *http.Client
}

// do sends a request and decodes a 2xx JSON answer into out (when not nil).
func (c *apiClient) do(ctx context.Context, method, path, auth, ctype string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data[:min(len(data), 500)]))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// post sends v as JSON with the admin's Bearer token.
func (c *apiClient) post(ctx context.Context, admin, path string, v, out any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, "Bearer "+admin, "application/json", body, out)
}

// tokenBody is the form of a client_credentials request for scope.
func tokenBody(scope string) string {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode()
}

// token obtains an access token of account aid with the client_credentials grant.
func (c *apiClient) token(ctx context.Context, aid, auth, scope string) (string, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err := c.do(ctx, http.MethodPost, "/v1/accounts/"+aid+"/auth/token", auth,
		"application/x-www-form-urlencoded", []byte(tokenBody(scope)), &tok)
	if err == nil && tok.AccessToken == "" {
		err = errors.New("token response without access_token")
	}
	return tok.AccessToken, err
}

// setup creates the account bench-<alg> with a scope, a service account and a secret, checks
// that one token can be had, and returns the load target.
func (c *apiClient) setup(ctx context.Context, admin, alg string) (target, error) {
	const scope = "api://bench/.default"
	aid := "bench-" + strings.ToLower(alg)
	acct := map[string]any{"aid": aid, "name": "Bench " + alg, "settings": map[string]any{"signingAlg": alg}}
	if err := c.post(ctx, admin, "/v1/accounts", acct, nil); err != nil {
		return target{}, err
	}
	sc := map[string]any{"serviceName": "Bench", "audience": "api://bench", "scope": scope}
	if err := c.post(ctx, admin, "/v1/accounts/"+aid+"/scopes", sc, nil); err != nil {
		return target{}, err
	}
	var sa struct{ ID, ClientID string }
	saReq := map[string]any{"name": "bench", "scopes": []string{scope},
		"tokenRateLimit": map[string]int{"perMinute": 1000000, "burst": 1000000}}
	if err := c.post(ctx, admin, "/v1/accounts/"+aid+"/service-accounts", saReq, &sa); err != nil {
		return target{}, err
	}
	var sec struct{ Secret string }
	if err := c.post(ctx, admin, "/v1/accounts/"+aid+"/service-accounts/"+sa.ID+"/secrets", struct{}{}, &sec); err != nil {
		return target{}, err
	}
	if sa.ClientID == "" || sec.Secret == "" {
		return target{}, errors.New("service account or secret response without clientId/secret")
	}
	t := target{url: c.base + "/v1/accounts/" + aid + "/auth/token", auth: basicAuth(sa.ClientID, sec.Secret), body: tokenBody(scope)}
	if _, err := c.token(ctx, aid, t.auth, scope); err != nil {
		return target{}, fmt.Errorf("first token: %w", err)
	}
	return t, nil
}

// basicAuth is the client_secret_basic Authorization header (RFC 6749 §2.3.1).
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// bootstrapClientID is the admin client the server creates at start.
const bootstrapClientID = "bench-admin"

// newSecret returns "twid_" and 43 base62 characters from crypto/rand.
func newSecret() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	out := []byte("twid_")
	buf := make([]byte, 64)
	for len(out) < 5+43 {
		rand.Read(buf)
		for _, b := range buf {
			if b < 248 && len(out) < 5+43 { // 248 = 4*62: no modulo bias
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out)
}

// buildServer builds ./cmd/twinid of the enclosing module into dir.
func buildServer(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(dir, "twinid")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/twinid")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/twinid: %w\n%s", err, out)
	}
	return bin, nil
}

// server is a running twinid.
type server struct {
	cmd         *exec.Cmd
	done        chan struct{} // closed when the process has exited
	base        string
	logPath     string
	adminSecret string
	db          string // TWINID_DATABASE_URL ("" is SQLite in dataDir)
	dataDir     string
}

// dbName is "Postgres" or "SQLite".
func (s *server) dbName() string {
	if isPostgres(s.db) {
		return "Postgres"
	}
	return "SQLite"
}

// startServer starts bin serve on a free loopback port and waits until /readyz answers 200.
func startServer(ctx context.Context, bin, tmp, db string, pin bool) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	dataDir := filepath.Join(tmp, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return nil, err
	}
	s := &server{done: make(chan struct{}), base: "http://" + addr,
		logPath: filepath.Join(tmp, "server.log"), adminSecret: newSecret(), db: db, dataDir: dataDir}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	s.cmd = exec.Command(bin, "serve")
	if pin {
		// taskset execs the server in place, so the pid (and /proc figures) stay the server's.
		s.cmd = exec.Command("taskset", "-c", "1", bin, "serve")
	}
	s.cmd.Env = append(os.Environ(),
		"TWINID_LISTEN="+addr,
		"TWINID_PUBLIC_URL="+s.base,
		"TWINID_DATA_DIR="+dataDir,
		"TWINID_DATABASE_URL="+db,
		"TWINID_BOOTSTRAP_CLIENT_ID="+bootstrapClientID,
		"TWINID_BOOTSTRAP_CLIENT_SECRET="+s.adminSecret,
		"TWINID_LOG_LEVEL=error",
	)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	// Should this process die without stopping the server, the kernel stops it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/readyz", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		var why string
		select {
		case <-s.done:
			why = "server exited: " + s.cmd.ProcessState.String()
		case <-ctx.Done():
			why = ctx.Err().Error()
		case <-time.After(100 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
			why = "/readyz not 200 after 60s"
		}
		s.stop(io.Discard)
		return nil, fmt.Errorf("%s; server log:\n%s", why, s.logTail())
	}
}

// logTail returns the end of the server's log.
func (s *server) logTail() string {
	data, _ := os.ReadFile(s.logPath)
	return string(data[max(0, len(data)-4000):])
}

// stop sends SIGTERM and, if the server has not exited after 10 s, SIGKILL.
func (s *server) stop(stderr io.Writer) {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		fmt.Fprintln(stderr, "twinid-bench: server ignored SIGTERM for 10s; killing it")
		s.cmd.Process.Kill()
		<-s.done
	}
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

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
	rounds      int // rounds of every part (baseline, load, baseline, load, ...)
	clients     int // distinct clients of the many-clients token run (0: none)

	only          map[string]bool // parts to run: tokens, logins, flood, sso, refresh, search
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
	if len(os.Args) > 1 && os.Args[1] == baselineArg {
		if err := baselineMain(os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "twinid-bench baseline:", err)
			os.Exit(1)
		}
		return
	}
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
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measured load `time` of each round of the tokens part")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of every part: each figure is the median (min–max) over them")
	fs.IntVar(&o.clients, "clients", 1000, "distinct service accounts of the tokens part's many-clients run (0: skip it)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load `time` before each run")
	fs.IntVar(&o.connections, "connections", 16, "concurrent keep-alive connections")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads")
	fs.BoolVar(&o.pin, "pin", false, "pin the server and the baselines to CPU 1 and wrk to CPU 0 (taskset), so load and server do not share a core")
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
	fs.DurationVar(&o.partDuration, "part-duration", 3*time.Second, "measured load `time` of each round of the logins, flood, sso and refresh parts")
	fs.IntVar(&o.loginConns, "login-connections", 4, "connections of the logins run (the server's password pool queues 4 per worker)")
	fs.IntVar(&o.floodConns, "flood-connections", 200, "connections of the login flood")
	fs.IntVar(&o.customers, "customers", 200, "customers with passwords for the logins and flood runs")
	fs.IntVar(&o.refreshTokens, "refresh-tokens", 256, "refresh-token chains (one login each) for the refresh runs")
	fs.IntVar(&o.searchN, "search-requests", 200, "measured searches per kind, table size and round")
	sizes := fs.String("search-sizes", "1000,100000,1000000", "comma-separated customer counts the search is measured at (each in an account of its own)")
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
		if err != nil || n <= prev || n < 100 || n > 10_000_000 {
			// At least 100: a phone prefix of the search part spans 100 customers.
			return o, fmt.Errorf("-search-sizes: %q: want increasing counts from 100 to 10,000,000", v)
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
	case o.rounds < 3 || o.rounds > 100:
		return o, errors.New("-rounds must be in [3, 100]: a spread needs at least 3 rounds")
	case o.clients < 0 || o.clients > 100000:
		return o, errors.New("-clients must be in [0, 100000]")
	}
	for _, a := range strings.Split(*algs, ",") {
		a = strings.ToUpper(strings.TrimSpace(a))
		if !slices.Contains(signingAlgs, a) {
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

	exe, err := selfExe()
	if err != nil {
		return err
	}
	bl := baseliner{exe: exe, cpu: -1}
	if o.pin {
		bl.cpu = serverCPU
	}
	rep := &report{w: stdout}
	db := srv.dbName()
	if o.only["tokens"] {
		// The last of -algs (by default ES256, the algorithm of new accounts) also runs with
		// -clients distinct clients.
		many := o.algs[len(o.algs)-1]
		for _, alg := range o.algs {
			for _, n := range []int{1, o.clients} {
				if n == 0 || (n > 1 && alg != many) {
					continue
				}
				aid := "bench-" + strings.ToLower(alg)
				if n > 1 {
					aid += "-clients"
				}
				logf("tokens %s: creating %d service account(s)", alg, n)
				t, err := c.setup(ctx, admin, aid, alg, n)
				if err != nil {
					return fmt.Errorf("%s setup: %w", alg, err)
				}
				run, err := benchTokens(ctx, gen, srv, c, bl, alg, t, o.rounds, o.warmup, o.duration, ticks, logf)
				if err != nil {
					return fmt.Errorf("tokens %s: %w", alg, err)
				}
				rep.add(fmt.Sprintf("client_credentials tokens, %s, %d client(s), %s %d connections, %s, %d rounds of %s",
					alg, n, gen.name(), o.connections, db, o.rounds, o.duration), run.figures())
			}
		}
		// Read now: the flood below resets the peak.
		rss, hwm, err := srv.memory()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "server RSS after the tokens part: %.1f MiB (peak %.1f MiB)\n", rss, hwm)
	}

	wg, haveWrk := gen.(wrkGen)
	if !haveWrk && (o.only["logins"] || o.only["flood"] || o.only["sso"] || o.only["refresh"]) {
		fmt.Fprintln(stdout, "logins, flood, sso, refresh: skipped (they need wrk)")
	}
	if haveWrk && (o.only["logins"] || o.only["flood"] || o.only["sso"]) {
		logf("logins: creating %d customers with passwords", o.customers)
		sh, err := c.setupShop(ctx, admin, "bench-login", nil, []string{"accounts:auth:users", "customer_customers:read"}, o.customers)
		if err != nil {
			return fmt.Errorf("logins setup: %w", err)
		}
		var unloaded []float64
		if o.only["logins"] {
			f, err := benchLogins(ctx, wg, srv, bl, sh, o.loginConns, o.rounds, min(o.warmup, time.Second), o.partDuration, ticks, logf)
			if err != nil {
				return fmt.Errorf("logins: %w", err)
			}
			unloaded = f.rates()
			rep.add(fmt.Sprintf("customer password logins, wrk %d connections, %s, argon2id default params, %d rounds of %s",
				o.loginConns, db, o.rounds, o.partDuration), f.figures())
		}
		if o.only["sso"] {
			f, err := benchSSO(ctx, wg, c, srv, bl, admin, sh, o.loginConns, o.connections, o.rounds, o.partDuration, ticks, logf)
			if err != nil {
				return fmt.Errorf("sso: %w", err)
			}
			rep.add(fmt.Sprintf("browser sign-in (hosted login page, code + PKCE), %s, %d rounds of %s", db, o.rounds, o.partDuration), f.figures())
		}
		if o.only["flood"] {
			f, err := benchFlood(ctx, wg, srv, sh, o.floodConns, o.rounds, o.partDuration, logf)
			if err != nil {
				return fmt.Errorf("flood: %w", err)
			}
			f.unloaded = unloaded
			rep.add(fmt.Sprintf("login flood, wrk %d connections, %s, %d rounds of %s (peak RSS reset before the first: %v)",
				o.floodConns, db, o.rounds, o.partDuration, f.resetOK), f.figures())
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
			// Each wrk run (a warm-up and the rounds, per algorithm) can end with a request in
			// flight per connection, whose rotated token is lost with its chain.
			chains := max(o.refreshTokens, o.connections*(2*(o.rounds+1)+1)+1)
			f, err := benchRefresh(ctx, unpinned, pc, psrv, padmin, sh, chains, o.connections, o.rounds,
				min(o.warmup, time.Second), o.partDuration, ticks, logf)
			if err != nil {
				return fmt.Errorf("refresh: %w", err)
			}
			f.db = psrv.dbName()
			rep.add(fmt.Sprintf("refresh-token exchanges with rotation, wrk %d connections, %d chains, %s, %d rounds of %s",
				o.connections, f.tokens, f.db, o.rounds, o.partDuration), f.figures())
		}
		if o.only["search"] {
			f, err := benchSearch(ctx, pc, psrv, padmin, o.searchSizes, o.rounds, o.searchN, logf)
			if err != nil {
				return fmt.Errorf("search: %w", err)
			}
			rep.add(fmt.Sprintf("customer search, GET /customers/users?...&limit=%d, sequential, %s, %d rounds of %d requests",
				searchHits, f.db, o.rounds, o.searchN), f.figures())
		}
	}
	rep.summary(fmt.Sprintf("server at its default log level, %s, pinned: %v", gen.name(), o.pin))
	return nil
}

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
	"text/tabwriter"
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

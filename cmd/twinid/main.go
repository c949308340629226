package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/mail"
	"github.com/twinid/twinid/server/metrics"
	"github.com/twinid/twinid/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "twinid:", err)
		os.Exit(2)
	}
}

const usage = `twinid: OAuth 2.0 / OpenID Connect server with a Management API

Usage:
  twinid serve [flags]     run the server (migrates the database first)
  twinid migrate [flags]   apply database migrations and exit
  twinid healthcheck       exit 0 when the local server answers /readyz (for containers)
  twinid admin add-person --email ADDRESS [--name NAME] [flags]
                           add a person who administers every account (a root customer
                           holding api://management/.default); the password is read from stdin
  twinid version           print the version, VCS revision and Go version

Run 'twinid serve --help' for the flags and their environment variables.
`

// run runs one command; a --help answers nil (exit status 0) after printing the flags.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	cmd, args := args[0], args[1:]
	var person *personFlags
	switch cmd {
	case "serve", "migrate":
	case "admin":
		if len(args) == 0 || args[0] != "add-person" {
			fmt.Fprint(stderr, usage)
			return errors.New("admin: want the subcommand add-person")
		}
		cmd, args = "admin add-person", args[1:]
	case "healthcheck":
		return healthcheck(ctx)
	case "version":
		b := metrics.BuildInfo()
		fmt.Fprintf(stdout, "twinid %s (revision %s, %s)\n", b.Version, b.Revision, b.GoVersion)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	fs := flag.NewFlagSet("twinid "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if cmd == "admin add-person" {
		person = addPersonFlags(fs)
	}
	cfg, err := loadConfig(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	var envErr *envError
	if err != nil && !errors.As(err, &envErr) {
		return err
	}
	if err := errors.Join(err, cfg.Validate(), person.validate()); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logw := newLogWriter(stderr, logFlushDelay)
	defer logw.Flush()
	log := newLogger(cfg, logw)
	st, err := store.Open(ctx, store.Config{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir, Timeout: cfg.DBTimeout})
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	log.Info("database ready", "dialect", st.Dialect(), "migrations_applied", applied)
	logw.Flush() // before migrate or add-person print to stdout
	switch cmd {
	case "migrate":
		fmt.Fprintf(stdout, "applied %d migration(s) %v\n", len(applied), applied)
		return nil
	case "admin add-person":
		return addPerson(ctx, cfg, st, log, person, stdin, stdout)
	}
	tuneGC(log)
	return serve(ctx, cfg, st, log, stdout)
}

// newLogger logs to w in batches (logWriter), writing out at once after a warning or an
// error.
func newLogger(cfg *config, w *logWriter) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(flushOnWarn{h, w})
}

func serve(ctx context.Context, cfg *config, st *store.Store, log *slog.Logger, stdout io.Writer) error {
	mk, err := cfg.masterKey(log)
	if err != nil {
		return err
	}
	mailer, err := mail.New(mail.Config{URL: cfg.SMTPURL, From: cfg.SMTPFrom, TLSSkipVerify: cfg.SMTPTLSSkipVerify,
		OutboxDir: filepath.Join(cfg.DataDir, "outbox")}, log)
	if err != nil {
		return err
	}
	proxies, err := cfg.trustedProxies()
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		PublicURL: cfg.PublicURL, MasterKey: mk, Logger: log, CacheTTL: cfg.CacheTTL, RedisURL: cfg.RedisURL,
		Mailer: mailer, TrustedProxies: proxies, AuditRetention: cfg.AuditRetention,
		RequestTimeout: cfg.RequestTimeout,
	}, st)
	if err != nil {
		return err
	}
	boot, err := srv.EnsureBootstrap(ctx, server.BootstrapOptions{
		ClientID: cfg.BootstrapClientID, ClientSecret: cfg.BootstrapClientSecret,
		AdminEmail: cfg.BootstrapAdminEmail, AdminPassword: cfg.BootstrapAdminPass,
	})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if !boot.Created {
		if set := cfg.bootstrapSet(); len(set) > 0 {
			log.Warn("the database already has the root account: ignoring " + strings.Join(set, ", ") +
				" (they apply at first start only; add a person with twinid admin add-person)")
		}
	} else {
		log.Info("first start: created the root account, the swagger-ui and console clients and the admin service account",
			"admin_client_id", boot.ClientID)
		if boot.ClientSecret != "" {
			flushLog(log) // the lines before it first, on a terminal that shows both
			// Printed once, to stdout, never to the log; it is not stored in the clear.
			fmt.Fprintf(stdout, "\n  twinid admin credentials (shown once, store them now):\n"+
				"    client_id:     %s\n    client_secret: %s\n    token URL:     %s/v1/accounts/root/auth/token\n\n",
				boot.ClientID, boot.ClientSecret, cfg.PublicURL)
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	bgCtx, cancelBG := context.WithCancel(context.WithoutCancel(ctx))
	bgDone := make(chan struct{})
	go func() { srv.Run(bgCtx); close(bgDone) }()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("twinid listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL,
		"swagger_ui", cfg.PublicURL+"/swagger/")
	select {
	case err = <-errc:
	case <-ctx.Done():
		err = drainAndShutdown(hs, srv, errc, cfg.ShutdownDrain, cfg.ShutdownGrace, log)
	}
	cancelBG()
	<-bgDone
	srv.Close() // sends what is still in the email queue
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// drainAndShutdown stops the server without refusing work a load balancer still sends:
// /readyz turns 503 at once, the listener keeps serving for drain (time for the balancer
// to notice and take this node out), and only then Shutdown closes the listener and waits
// up to grace for requests in flight. Closing the listener at once, as a plain Shutdown
// does, fails requests that clients send on connections they hold open. Further signals
// during the drain change nothing: signal.NotifyContext keeps catching them.
func drainAndShutdown(hs *http.Server, srv *server.Server, errc <-chan error, drain, grace time.Duration, log *slog.Logger) error {
	// Answers now carry Connection: close, so clients open new connections (through the
	// balancer, to other nodes) instead of reusing ones that Shutdown would close under
	// them. Idle connections stay open until Shutdown: closing them now (as
	// SetKeepAlivesEnabled(false) does) resets those a client is sending a request on.
	srv.SetDraining()
	log.Info("shutting down: draining", "drain", drain, "grace", grace)
	t := time.NewTimer(drain)
	defer t.Stop()
	select {
	case <-t.C:
	case err := <-errc:
		return err
	}
	log.Info("shutting down: closing the listener")
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("shutting down: grace period over, closing the connections still busy")
		_ = hs.Close()
		err = nil
	}
	return err
}

// healthcheck asks the server on TWINID_LISTEN for /readyz; images without curl use it.
func healthcheck(ctx context.Context) error {
	fs := flag.NewFlagSet("twinid healthcheck", flag.ContinueOnError)
	cfg, err := loadConfig(fs, nil)
	if err != nil {
		return err
	}
	_, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/readyz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s", res.Status)
	}
	return nil
}

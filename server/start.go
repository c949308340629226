package server

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/mail"
	"github.com/twinid/twinid/server/manage"
	"github.com/twinid/twinid/server/metrics"
	"github.com/twinid/twinid/server/pages"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/server/protocol"
	"github.com/twinid/twinid/server/ratelimit"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/server/upstream"
	"github.com/twinid/twinid/store"
)

// New builds the server and its HTTP handler.
func New(cfg Config, st *store.Store) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	if cfg.UsageFlushInterval <= 0 {
		cfg.UsageFlushInterval = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AuditRetention <= 0 {
		cfg.AuditRetention = DefaultAuditRetention
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = st.Timeout()
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	kr, err := keys.NewKeyring(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	now, log, ttl := cfg.Now, cfg.Logger, cfg.CacheTTL
	s := &Server{cfg: cfg, store: st, log: log, now: now, metrics: metrics.New(st.Queries), keyring: kr}
	s.pwParams = passwords.Default
	if cfg.PasswordParams != nil {
		s.pwParams = *cfg.PasswordParams
	}
	workers := cfg.PasswordWorkers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pool := passwords.NewPool(workers, 4*workers, 2*time.Second, s.pwParams)
	if cfg.Mailer == nil {
		if cfg.Mailer, err = mail.New(mail.Config{}, log); err != nil {
			return nil, err
		}
	}
	s.mail = mail.NewQueue(cfg.Mailer, 1000, log)
	if cfg.RedisURL != "" {
		shared, err := ratelimit.NewRedis(cfg.RedisURL)
		if err != nil {
			return nil, err
		}
		// A Redis outage falls back to per-node buckets of the same rate and burst.
		s.limits = ratelimit.NewFallback(shared, ratelimit.NewMemory(now), log, now)
	} else {
		s.limits = ratelimit.NewMemory(now)
	}
	s.accounts = account.New(st, cfg.PublicURL, ttl, now)
	rec := audit.New(st, log, now)
	s.keys = keys.New(st, kr, s.accounts, ttl, now, log, rec)
	s.tokens = tokens.New(st, kr, s.keys, s.accounts, s.metrics, log, ttl, now, rec)
	s.clients = clients.New(st, kr, s.metrics, ttl, now)
	for name, c := range map[string]interface{ CountLoads(func()) }{"accounts": s.accounts, "keys": s.keys, "clients": s.clients} {
		c.CountLoads(s.metrics.CacheLoads.WithLabelValues(name).Inc)
	}
	lg := login.New(st, s.accounts, kr, pool, s.mail, s.metrics, log, now, rec)
	s.login = lg
	// Passkeys are bound to the public URL's host (the WebAuthn RP ID); an IP address
	// cannot be one, so there twinid runs without passkeys.
	if err := lg.SetRelyingParty(cfg.PublicURL, "twinid"); err != nil {
		log.Info("passkeys are off: the public URL cannot be a WebAuthn relying party", "err", err)
	}
	md := manage.Deps{Store: st, Accounts: s.accounts, Keys: s.keys, Keyring: kr, Clients: s.clients,
		Tokens: s.tokens, Login: lg, Audit: rec, Now: now}
	s.API, s.Events = manage.New(md), manage.NewEvents(md)
	s.Endpoints = protocol.New(protocol.Deps{Store: st, Accounts: s.accounts, Keyring: kr, Keys: s.keys, Tokens: s.tokens,
		Clients: s.clients, Login: lg, Limits: s.limits, Metrics: s.metrics, Log: log, Audit: rec, Now: now})
	s.Pages = pages.New(pages.Deps{Store: st, Accounts: s.accounts, Keyring: kr, Tokens: s.tokens, Clients: s.clients,
		Login: lg, Audit: rec, Now: now})
	s.Login = upstream.New(upstream.Deps{Store: st, Accounts: s.accounts, Keyring: kr, Tokens: s.tokens, Clients: s.clients,
		Log: log, Audit: rec, Now: now, CacheTTL: ttl})
	if s.echo, err = s.routes(); err != nil {
		return nil, err
	}
	resetsCtx, stop := context.WithCancel(context.Background())
	mailCtx, stopMail := context.WithCancel(context.Background())
	s.stop, s.stopMail = stop, stopMail
	s.resetsDone, s.mailDone = make(chan struct{}), make(chan struct{})
	go func() { lg.RunResets(resetsCtx); close(s.resetsDone) }()
	go func() { s.mail.Run(mailCtx); close(s.mailDone) }()
	return s, nil
}

// Close stops the server's background workers; it returns once queued password resets
// were worked and queued email was handed on (or their short drain deadlines passed).
func (s *Server) Close() {
	s.stop()
	<-s.resetsDone
	s.stopMail()
	<-s.mailDone
}

// FlushMail waits until queued password resets are worked and queued email is sent (tests
// and shutdown).
func (s *Server) FlushMail(ctx context.Context) error {
	if err := s.login.FlushResets(ctx); err != nil {
		return err
	}
	return s.mail.Flush(ctx)
}

// Handler is the HTTP handler of the whole service. Once draining (SetDraining), its
// answers close their connections (RFC 9112 §9.6).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		s.echo.ServeHTTP(w, r)
	})
}

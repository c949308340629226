package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
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
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/server/upstream"
	"github.com/twinid/twinid/store"
)

var _ gen.StrictServerInterface = (*Server)(nil)

const (
	// RootAID is the account created on first start; its admins manage every account.
	RootAID = reqctx.RootAID
	// ManagementAudience is the audience of management tokens.
	ManagementAudience = reqctx.ManagementAudience
)

// Config is what the server needs from the outside.
type Config struct {
	// PublicURL is where clients reach twinid (no trailing slash); issuers and tokenUri
	// values are built from it, never from request headers.
	PublicURL string
	// MasterKey (32 bytes) encrypts signing keys and keys the secret hashes.
	MasterKey []byte
	Logger    *slog.Logger
	// CacheTTL bounds how long a node trusts its cached clients, accounts and keys
	// (changes made on this node drop them at once). Default 5s.
	CacheTTL time.Duration
	// RedisURL, when set, makes token rate limits cluster-wide.
	RedisURL string
	// UsageFlushInterval is how often lastUsedAt of secrets is written. Default 30s.
	UsageFlushInterval time.Duration
	// Mailer sends email to customers (codes, invitations). Nil: a development outbox in
	// the system's temporary directory.
	Mailer mail.Sender
	// PasswordParams are the argon2id parameters of new hashes (default passwords.Default).
	PasswordParams *passwords.Params
	// PasswordWorkers bounds concurrent password hashes (default GOMAXPROCS); at most four
	// times as many requests wait, for up to two seconds, before getting 503.
	PasswordWorkers int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client address
	// (login throttling, failed-authentication limits). Empty: the peer address is used.
	TrustedProxies []*net.IPNet
	// Now is the one clock every part reads (default time.Now; tests move it).
	Now func() time.Time
}

// Server implements gen.StrictServerInterface by embedding the four surfaces, and owns the
// Echo wiring, the background work and the bootstrap.
type Server struct {
	*manage.API
	*protocol.Endpoints
	*pages.Pages
	*upstream.Login

	cfg      Config
	store    *store.Store
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics.Metrics
	keyring  *keys.Keyring
	accounts *account.Accounts
	keys     *keys.Keys
	tokens   *tokens.Tokens
	clients  *clients.Clients
	limits   ratelimit.Limiter
	pwParams passwords.Params
	mail     *mail.Queue
	dialects dialects
	echo     *echo.Echo
	stop     context.CancelFunc
	mailDone chan struct{}
}

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
		if s.limits, err = ratelimit.NewRedis(cfg.RedisURL); err != nil {
			return nil, err
		}
	} else {
		s.limits = ratelimit.NewMemory(now)
	}
	s.accounts = account.New(st, cfg.PublicURL, ttl, now)
	s.keys = keys.New(st, kr, s.accounts, ttl, now, log)
	s.tokens = tokens.New(st, kr, s.keys, s.accounts, s.metrics, log, ttl, now)
	s.clients = clients.New(st, kr, s.metrics, ttl, now)
	lg := login.New(st, s.accounts, kr, pool, s.mail, s.metrics, log, now)
	s.API = manage.New(manage.Deps{Store: st, Accounts: s.accounts, Keys: s.keys, Keyring: kr, Clients: s.clients,
		Login: lg, Now: now})
	s.Endpoints = protocol.New(protocol.Deps{Store: st, Accounts: s.accounts, Keyring: kr, Keys: s.keys, Tokens: s.tokens,
		Clients: s.clients, Login: lg, Limits: s.limits, Metrics: s.metrics, Log: log, Now: now})
	s.Pages = pages.New(pages.Deps{Store: st, Accounts: s.accounts, Keyring: kr, Tokens: s.tokens, Clients: s.clients,
		Login: lg, Now: now})
	s.Login = upstream.New(upstream.Deps{Store: st, Accounts: s.accounts, Keyring: kr, Tokens: s.tokens, Clients: s.clients,
		Log: log, Now: now, CacheTTL: ttl})
	if s.echo, err = s.routes(); err != nil {
		return nil, err
	}
	bg, stop := context.WithCancel(context.Background())
	s.stop, s.mailDone = stop, make(chan struct{})
	go func() { s.mail.Run(bg); close(s.mailDone) }()
	return s, nil
}

// Close stops the server's background workers; it returns once queued email was handed
// on (or its short drain deadline passed).
func (s *Server) Close() {
	s.stop()
	<-s.mailDone
}

// FlushMail waits until queued email is sent (tests and shutdown).
func (s *Server) FlushMail(ctx context.Context) error { return s.mail.Flush(ctx) }

// Handler is the HTTP handler of the whole service.
func (s *Server) Handler() http.Handler { return s.echo }

// Run runs the background work (lastUsedAt batches, scheduled key rotation, cache sweeps,
// the janitor) until ctx ends, then flushes what is pending.
func (s *Server) Run(ctx context.Context) {
	flush := time.NewTicker(s.cfg.UsageFlushInterval)
	minute := time.NewTicker(time.Minute)
	defer flush.Stop()
	defer minute.Stop()
	s.keys.RotateDue(ctx)
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.FlushUsage(fctx)
			cancel()
			return
		case <-flush.C:
			s.FlushUsage(ctx)
		case <-minute.C:
			s.accounts.Sweep()
			s.keys.Sweep()
			s.tokens.Sweep()
			s.clients.Sweep()
			if m, ok := s.limits.(*ratelimit.Memory); ok {
				m.Sweep()
			}
			s.keys.RotateDue(ctx)
			if _, err := s.SweepExpired(ctx); err != nil {
				s.log.Warn("janitor: sweeping expired rows failed", "err", err)
			}
		}
	}
}

// Janitor limits: each statement deletes at most sweepBatch rows, and one run at most
// sweepRounds batches per table, so the janitor never holds long locks; what is left goes
// next minute.
const (
	sweepBatch   = 500
	sweepRounds  = 20
	keepThrottle = 24 * time.Hour
)

// SweepExpired deletes expired refresh tokens, used or expired codes, revoked access tokens
// past their expiry, and idle login counters, in small batches. It reports the rows deleted.
func (s *Server) SweepExpired(ctx context.Context) (int64, error) {
	var total int64
	for round := 0; round < sweepRounds; round++ {
		n, err := s.store.Sweep(ctx, s.now(), keepThrottle, sweepBatch)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// FlushUsage writes pending lastUsedAt values now (tests and shutdown).
func (s *Server) FlushUsage(ctx context.Context) {
	if err := s.clients.FlushUsage(ctx); err != nil {
		s.log.Warn("recording secret use failed", "err", err)
	}
}

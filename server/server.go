// Package server is twinid's HTTP side: Echo wiring, the handlers of the generated strict
// interface, and the OAuth logic (tokens via jwx, key rotation, client authentication).
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/mail"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/store"
)

var _ gen.StrictServerInterface = (*Server)(nil)

// Defaults of account settings (see AccountSettings in the OpenAPI document).
const (
	defaultSigningAlg          = "RS256"
	defaultAccessTokenLifetime = 3600
	defaultKeyPropagationDelay = 600
	defaultTokenRatePerMinute  = 100
	defaultTokenRateBurst      = 30
	defaultRefreshIdle         = 30 * 24 * 3600
	defaultRefreshAbsolute     = 90 * 24 * 3600
	defaultRefreshReuseGrace   = 5
	defaultLoginMaxFailures    = 5
	defaultLoginIPMaxFailures  = 100
	defaultLoginLockout        = 60
	defaultInvitationLifetime  = 3 * 24 * 3600

	// RootAID is the account created on first start; its admins manage every account.
	RootAID = "root"
	// ManagementAudience is the audience of management tokens.
	ManagementAudience = "api://management"
	scopeManage        = "api://management/.default"
	scopeRead          = "api://management/read"

	maxSecretsPerClient = 10
	secretExpiringSoon  = 14 * 24 * time.Hour
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
}

// Server implements gen.StrictServerInterface and owns the per-node caches.
type Server struct {
	cfg     Config
	store   *store.Store
	log     *slog.Logger
	keyring *keyring
	cache   *ttlCache
	limits  limiter
	fails   *memLimiter
	usage   *usage
	metrics *metrics
	echo    *echo.Echo
	// paramLimits are the protocol parameters' maximum lengths, from the document.
	paramLimits map[string]int
	// now is the clock of scheduled jobs (tests move it forward).
	now func() time.Time

	pwParams passwords.Params
	pwpool   *passwords.Pool
	mail     *mail.Queue
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
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	kr, err := newKeyring(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		store:   st,
		log:     cfg.Logger,
		keyring: kr,
		cache:   newTTLCache(cfg.CacheTTL),
		fails:   newMemLimiter(),
		usage:   newUsage(),
		metrics: newMetrics(st),
		now:     time.Now,
	}
	s.pwParams = passwords.Default
	if cfg.PasswordParams != nil {
		s.pwParams = *cfg.PasswordParams
	}
	workers := cfg.PasswordWorkers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	s.pwpool = passwords.NewPool(workers, 4*workers, 2*time.Second, s.pwParams)
	if cfg.Mailer == nil {
		if cfg.Mailer, err = mail.New(mail.Config{}, cfg.Logger); err != nil {
			return nil, err
		}
	}
	s.mail = mail.NewQueue(cfg.Mailer, 1000, cfg.Logger)
	bg, stop := context.WithCancel(context.Background())
	s.stop, s.mailDone = stop, make(chan struct{})
	go func() { s.mail.Run(bg); close(s.mailDone) }()
	if cfg.RedisURL != "" {
		if s.limits, err = newRedisLimiter(cfg.RedisURL); err != nil {
			return nil, err
		}
	} else {
		s.limits = newMemLimiter()
	}
	if s.echo, err = s.routes(); err != nil {
		return nil, err
	}
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

// Run runs the background work (lastUsedAt batches, scheduled key rotation, cache sweeps)
// until ctx ends, then flushes what is pending.
func (s *Server) Run(ctx context.Context) {
	flush := time.NewTicker(s.cfg.UsageFlushInterval)
	minute := time.NewTicker(time.Minute)
	defer flush.Stop()
	defer minute.Stop()
	s.rotateDueKeys(ctx)
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.flushUsage(fctx)
			cancel()
			return
		case <-flush.C:
			s.flushUsage(ctx)
		case <-minute.C:
			now := time.Now()
			s.cache.sweep(now)
			s.fails.sweep(now)
			if m, ok := s.limits.(*memLimiter); ok {
				m.sweep(now)
			}
			s.rotateDueKeys(ctx)
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
		n, err := s.store.Sweep(ctx, time.Now(), keepThrottle, sweepBatch)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// FlushUsage writes pending lastUsedAt values now (tests and shutdown).
func (s *Server) FlushUsage(ctx context.Context) { s.flushUsage(ctx) }

func (s *Server) flushUsage(ctx context.Context) {
	batch := s.usage.take()
	if len(batch) == 0 {
		return
	}
	if err := s.store.TouchSecrets(ctx, batch); err != nil {
		s.log.Warn("recording secret use failed", "err", err, "secrets", len(batch))
	}
}

// rotateDueKeys rotates the keys of accounts whose keyRotationInterval has passed since
// their newest key was created, and deletes keys that left the JWKS.
func (s *Server) rotateDueKeys(ctx context.Context) {
	ids, err := s.store.AllAccountIDs(ctx)
	if err != nil {
		s.log.Warn("key rotation: listing accounts failed", "err", err)
		return
	}
	for _, aid := range ids {
		acct, err := s.store.GetAccount(ctx, aid)
		if err != nil {
			continue
		}
		set := s.settings(acct)
		if set.KeyRotationInterval <= 0 {
			continue
		}
		rows, err := s.store.ListSigningKeys(ctx, aid)
		if err != nil || len(rows) == 0 {
			continue
		}
		newest := rows[0]
		if s.now().Sub(newest.CreatedAt) < time.Duration(set.KeyRotationInterval)*time.Second {
			continue
		}
		if _, err := s.rotateKey(ctx, acct, "", time.Duration(*set.KeyPropagationDelay)*time.Second); err != nil {
			s.log.Warn("scheduled key rotation failed", "aid", aid, "err", err)
			continue
		}
		s.log.Info("signing key rotated on schedule", "aid", aid)
	}
	if _, err := s.store.DeleteRetiredKeys(ctx, time.Now().Add(-time.Hour)); err != nil {
		s.log.Warn("deleting retired keys failed", "err", err)
	}
}

// settings returns the account's settings with defaults filled in.
func (s *Server) settings(a *store.Account) store.AccountSettings {
	set := a.Settings
	if set.SigningAlg == "" {
		set.SigningAlg = defaultSigningAlg
	}
	if set.AccessTokenLifetime == 0 {
		set.AccessTokenLifetime = defaultAccessTokenLifetime
	}
	if set.KeyPropagationDelay == nil {
		d := defaultKeyPropagationDelay
		set.KeyPropagationDelay = &d
	}
	if set.TokenRatePerMinute == 0 {
		set.TokenRatePerMinute = defaultTokenRatePerMinute
	}
	if set.TokenRateBurst == 0 {
		set.TokenRateBurst = defaultTokenRateBurst
	}
	if set.RefreshIdleLifetime == 0 {
		set.RefreshIdleLifetime = defaultRefreshIdle
	}
	if set.RefreshAbsoluteLifetime == 0 {
		set.RefreshAbsoluteLifetime = defaultRefreshAbsolute
	}
	if set.RefreshReuseGrace == nil {
		g := defaultRefreshReuseGrace
		set.RefreshReuseGrace = &g
	}
	if set.LoginMaxFailures == 0 {
		set.LoginMaxFailures = defaultLoginMaxFailures
	}
	if set.LoginIPMaxFailures == 0 {
		set.LoginIPMaxFailures = defaultLoginIPMaxFailures
	}
	if set.LoginLockoutSeconds == 0 {
		set.LoginLockoutSeconds = defaultLoginLockout
	}
	if set.InvitationLifetime == 0 {
		set.InvitationLifetime = defaultInvitationLifetime
	}
	if set.SessionIdleLifetime == 0 {
		set.SessionIdleLifetime = int(defaultSessionIdle / time.Second)
	}
	if set.SessionAbsoluteLifetime == 0 {
		set.SessionAbsoluteLifetime = int(defaultSessionAbsolute / time.Second)
	}
	if set.EmailSenderName == "" {
		set.EmailSenderName = a.Name
	}
	return set
}

// issuer is the account's issuer identifier.
func (s *Server) issuer(aid string) string { return s.cfg.PublicURL + "/v1/accounts/" + aid }

// account loads an account through the node cache.
func (s *Server) account(ctx context.Context, aid string) (*store.Account, error) {
	key := "acct\x00" + aid
	if v, ok := s.cache.get(key); ok {
		return v.(*store.Account), nil
	}
	epoch := s.cache.begin()
	a, err := s.store.GetAccount(ctx, aid)
	if err != nil {
		return nil, err
	}
	s.cache.put(key, a, epoch)
	return a, nil
}

// accountOr404 loads the account or answers the problem a handler returns.
func (s *Server) accountOr404(ctx context.Context, aid string) (*store.Account, error) {
	a, err := s.account(ctx, aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("account")
	}
	return a, err
}

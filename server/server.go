package server

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
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
	// RedisURL, when set, makes token rate limits cluster-wide; while Redis is down each
	// node limits with its own buckets of the same rate and burst.
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
	// AuditRetention is how long the janitor keeps audit events (default 90 days).
	AuditRetention time.Duration
	// RequestTimeout is the deadline of each /v1 request's work, its database statements
	// taken together; past it the answer is 503 with Retry-After. Default: the store's
	// timeout (store.Config.Timeout), which bounds each statement and transaction alone.
	RequestTimeout time.Duration
}

// Server implements gen.StrictServerInterface by embedding the four surfaces, and owns the
// Echo wiring, the background work and the bootstrap.
type Server struct {
	*manage.API
	*manage.Events
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
	login    *login.Login
	// stop ends the reset worker, then stopMail the mail queue, so that the codes issued
	// while draining are still mailed.
	stop       context.CancelFunc
	stopMail   context.CancelFunc
	resetsDone chan struct{}
	mailDone   chan struct{}
	// draining is set when shutdown begins: /readyz answers 503 so that load balancers
	// stop sending new work while the listener still serves what arrives.
	draining atomic.Bool
}

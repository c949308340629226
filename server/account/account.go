package account

import (
	"context"
	"strings"
	"time"

	"github.com/twinid/twinid/server/cache"
	"github.com/twinid/twinid/store"
)

// Defaults of account settings (see AccountSettings in the OpenAPI document).
const (
	// DefaultSigningAlg signs the access tokens of a new account that names no signingAlg;
	// the account stores it (NewAccountRows), so a later change of this default leaves it be.
	// ID tokens are RS256 whatever it is (OpenID Connect Core §3.1.3.7).
	DefaultSigningAlg = "ES256"
	// legacySigningAlg is the signingAlg of an account that stores none: one created before
	// accounts stored their algorithm, when RS256 was the default. It keeps signing RS256
	// until an admin sets signingAlg.
	legacySigningAlg           = "RS256"
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
	defaultSessionIdle         = 24 * time.Hour
	defaultSessionAbsolute     = 30 * 24 * time.Hour
	// defaultMFA is login.MFAOptional (package login imports this one).
	defaultMFA = "optional"
)

// Effective returns the account's settings with the defaults filled in.
func Effective(a *store.Account) store.AccountSettings {
	set := a.Settings
	if set.SigningAlg == "" {
		set.SigningAlg = legacySigningAlg
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
	if set.MFA == "" {
		set.MFA = defaultMFA
	}
	if set.EmailSenderName == "" {
		set.EmailSenderName = a.Name
	}
	return set
}

// Accounts loads accounts through the node cache and names their issuers.
type Accounts struct {
	store     *store.Store
	cache     *cache.Cache[*store.Account]
	publicURL string
}

// New returns the accounts of st; publicURL is where clients reach twinid (no trailing
// slash), ttl how long a node trusts a cached account.
func New(st *store.Store, publicURL string, ttl time.Duration, now func() time.Time) *Accounts {
	a := &Accounts{store: st, cache: cache.New[*store.Account](ttl, now), publicURL: strings.TrimRight(publicURL, "/")}
	a.cache.RefreshAhead(ttl/10, func(ctx context.Context, aid string) (*store.Account, time.Time, error) {
		acct, err := st.Accounts().Get(ctx, aid)
		return acct, time.Time{}, err
	})
	return a
}

// Get loads an account through the node cache, reloading it in the background when it is
// asked for in the last tenth of its entry's life; errors.Is(err, ErrNotFound) when unknown.
func (a *Accounts) Get(ctx context.Context, aid string) (*store.Account, error) {
	return a.cache.LoadCtx(ctx, aid)
}

// CountLoads has inc called once per load from the database (metrics.CacheLoads).
func (a *Accounts) CountLoads(inc func()) { a.cache.CountLoads(inc) }

// Forget drops the account from this node's cache after a change.
func (a *Accounts) Forget(aid string) { a.cache.Forget(aid) }

// Sweep drops expired entries.
func (a *Accounts) Sweep() { a.cache.Sweep() }

// Issuer is the account's issuer identifier: {publicURL}/v1/accounts/{aid}.
func (a *Accounts) Issuer(aid string) string { return a.publicURL + "/v1/accounts/" + aid }

// PublicURL is where clients reach twinid (no trailing slash).
func (a *Accounts) PublicURL() string { return a.publicURL }

// HTTPS reports whether twinid is reached over https (cookies are then Secure).
func (a *Accounts) HTTPS() bool { return strings.HasPrefix(a.publicURL, "https://") }

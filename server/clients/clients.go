package clients

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twinid/twinid/server/cache"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/metrics"
	"github.com/twinid/twinid/server/ratelimit"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// Failed client authentications are limited per client id and source address, apart from
// the token bucket (brute-force protection must not eat the client's quota).
const (
	failPerMinute = 10
	failBurst     = 20
)

// Client is what the protocol needs of a client, cached per node.
type Client struct {
	// ProtocolClient holds the client's scopes (a service account) or grants (an application
	// client); its Secrets are moved to secrets, which only Authenticate reads.
	*store.ProtocolClient
	secrets []store.ClientSecretHash
	hashes  [][]byte // of secrets, in their order, for keys.MatchSecret
	// Granted are the scopes of the grants by grant type, each with its grant's audience,
	// worked out once when the client is cached.
	Granted map[string][]store.Scope
}

// GrantsFor are the client's grants for an audience; typ "" matches every grant type.
func (c *Client) GrantsFor(audience, typ string) []store.Grant {
	var out []store.Grant
	for _, g := range c.Grants {
		if g.Audience == audience && (typ == "" || g.GrantType == typ) {
			out = append(out, g)
		}
	}
	return out
}

// Holds reports whether any grant of the client carries scope.
func (c *Client) Holds(scope string) bool {
	for _, g := range c.Grants {
		if slices.Contains(g.Scopes, scope) {
			return true
		}
	}
	return false
}

// Clients loads clients for the protocol and checks their secrets.
type Clients struct {
	store   *store.Store
	keyring *keys.Keyring
	cache   *cache.Cache[*Client]
	// origins are the web origins of each account's clients (CORS), by account.
	origins *cache.Cache[map[string]bool]
	fails   *ratelimit.Memory
	metrics *metrics.Metrics
	now     func() time.Time

	usageMu sync.Mutex
	usage   map[string]time.Time
}

// New returns the clients of st, cached up to ttl.
func New(st *store.Store, kr *keys.Keyring, m *metrics.Metrics, ttl time.Duration, now func() time.Time) *Clients {
	cs := &Clients{store: st, keyring: kr, cache: cache.New[*Client](ttl, now), origins: cache.New[map[string]bool](ttl, now),
		fails:   ratelimit.NewMemory(now),
		metrics: m, now: now, usage: map[string]time.Time{}}
	cs.cache.RefreshAhead(ttl/10, func(ctx context.Context, k string) (*Client, time.Time, error) {
		aid, clientID, _ := strings.Cut(k, cache.KeySep)
		c, err := cs.load(ctx, aid, clientID)
		return c, time.Time{}, err
	})
	return cs
}

// Get loads a client with its secrets and grants through the node cache; nil when unknown
// (an unknown client is cached too, so guessing ids costs no query). A client asked for in
// the last tenth of its entry's life is reloaded in the background (cache.RefreshAhead).
func (cs *Clients) Get(ctx context.Context, aid, clientID string) (*Client, error) {
	return cs.cache.LoadCtx(ctx, cache.Key(aid, clientID))
}

func (cs *Clients) load(ctx context.Context, aid, clientID string) (*Client, error) {
	row, err := cs.store.Clients().ForProtocol(ctx, aid, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := &Client{ProtocolClient: row, secrets: row.Secrets, hashes: make([][]byte, len(row.Secrets))}
	for i, sec := range row.Secrets {
		c.hashes[i] = sec.Hash
	}
	row.Secrets = nil
	if row.Kind != store.KindServiceAccount {
		c.Granted = map[string][]store.Scope{}
		for _, g := range c.Grants {
			for _, sc := range g.Scopes {
				c.Granted[g.GrantType] = append(c.Granted[g.GrantType], store.Scope{Audience: g.Audience, Scope: sc})
			}
		}
	}
	return c, nil
}

// CountLoads has inc called once per load from the database (metrics.CacheLoads).
func (cs *Clients) CountLoads(inc func()) { cs.cache.CountLoads(inc) }

// Forget drops a client from this node's cache, so a revoked secret stops working at once.
// The account's web origins go too: the client's may have changed.
func (cs *Clients) Forget(aid, clientID string) {
	cs.cache.Forget(cache.Key(aid, clientID))
	cs.origins.Forget(aid)
}

// ForgetAccount drops every client of the account (a scope or the account changed).
func (cs *Clients) ForgetAccount(aid string) {
	cs.cache.ForgetPrefix(cache.Key(aid, ""))
	cs.origins.Forget(aid)
}

// Sweep drops expired entries and idle failure counters.
func (cs *Clients) Sweep() {
	cs.cache.Sweep()
	cs.origins.Sweep()
	cs.fails.Sweep()
}

// ErrBadSecret: unknown client, wrong or expired secret (the two answer the same).
var ErrBadSecret = errors.New("client authentication failed")

// Throttled refuses a client authentication after too many failures from its address.
type Throttled struct{ RetryAfter int }

func (e *Throttled) Error() string {
	return "too many failed client authentications; retry in " + strconv.Itoa(e.RetryAfter) + "s"
}

// Authenticate checks the client's secret in constant time against all its live secrets
// (RFC 6749 §2.3.1). Failures are counted per client id and address: past the limit even
// the right secret is refused with *Throttled until the bucket refills.
func (cs *Clients) Authenticate(ctx context.Context, aid, clientID, secretValue, remote string) (*Client, error) {
	if clientID == "" || secretValue == "" {
		return nil, ErrBadSecret
	}
	failKey := cache.Key(aid, clientID, remote)
	if over, retry := cs.fails.Exhausted(failKey, failPerMinute, failBurst); over {
		cs.metrics.RateLimited.WithLabelValues("client_auth").Inc()
		return nil, &Throttled{RetryAfter: retry}
	}
	c, err := cs.Get(ctx, aid, clientID)
	if err != nil {
		return nil, err
	}
	hash := cs.keyring.HashSecret(secretValue)
	if c != nil {
		// Every secret is compared (in constant time), then an expired match refused: its
		// expiry is no secret, so checking it after the comparison reveals nothing.
		now := cs.now()
		if i := keys.MatchSecret(hash, c.hashes); i >= 0 && c.secrets[i].Live(now) {
			cs.recordUse(c.secrets[i].ID, now.UTC())
			if a := reqctx.AuthFrom(ctx); a != nil {
				a.Client = clientID // for the request's log line
			}
			return c, nil
		}
	}
	cs.fails.Take(failKey, failPerMinute, failBurst)
	return nil, ErrBadSecret
}

// recordUse notes when a secret was used, for lastUsedAt; FlushUsage writes it in batches,
// so the token path never writes to the database.
func (cs *Clients) recordUse(secretID string, at time.Time) {
	cs.usageMu.Lock()
	cs.usage[secretID] = at
	cs.usageMu.Unlock()
}

// FlushUsage writes the pending lastUsedAt values.
func (cs *Clients) FlushUsage(ctx context.Context) error {
	cs.usageMu.Lock()
	batch := cs.usage
	if len(batch) > 0 {
		cs.usage = make(map[string]time.Time, len(batch))
	}
	cs.usageMu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	return cs.store.Secrets().Touch(ctx, batch)
}

// RedirectError refuses the client_id or the redirect_uri of a browser flow; Param names
// which.
type RedirectError struct{ Param string }

func (e *RedirectError) Error() string { return e.Param + " is not registered for a browser sign-in" }

// ForRedirect loads an application client (not a service account) for a browser flow and
// checks that redirectURI is one of its registered redirect URIs, compared exactly (RFC
// 9700 §4.1.3). Until both hold, a flow answers with a page, never a redirect.
func (cs *Clients) ForRedirect(ctx context.Context, aid, clientID, redirectURI string) (*Client, error) {
	c, err := cs.Get(ctx, aid, clientID)
	if err != nil {
		return nil, err
	}
	if c == nil || c.Kind == store.KindServiceAccount {
		return nil, &RedirectError{Param: "client_id"}
	}
	if redirectURI == "" || !slices.Contains(c.RedirectURIs, redirectURI) {
		return nil, &RedirectError{Param: "redirect_uri"}
	}
	return c, nil
}

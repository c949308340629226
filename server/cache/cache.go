package cache

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Cache is a per-node cache of values of one type whose entries live at most its TTL.
// Writers on this node forget the entries they change; other nodes see the change within
// the TTL.
type Cache[V any] struct {
	mu  sync.RWMutex
	m   map[string]entry[V]
	ttl time.Duration
	now func() time.Time
	// epoch counts forgets. A load reads it before going to the database and stores its
	// result only if nothing was forgotten meanwhile, so a slow read can never put back
	// what a revocation just removed.
	epoch uint64
	loads singleflight.Group
	// loaded, when set, is called once per load that goes to the source (CountLoads).
	loaded func()
	// ahead is the last part of an entry's life in which LoadCtx reloads it in the
	// background with load (RefreshAhead); 0: never.
	ahead time.Duration
	load  func(context.Context, string) (V, time.Time, error)
	// seed spreads the keys' lives (life).
	seed maphash.Seed
}

type entry[V any] struct {
	v       V
	expires time.Time
	// refreshing is set once a background reload of the entry has started (RefreshAhead);
	// nil for an entry too short-lived to refresh ahead.
	refreshing *atomic.Bool
}

// New returns an empty cache whose entries live at most ttl by the clock now.
func New[V any](ttl time.Duration, now func() time.Time) *Cache[V] {
	return &Cache[V]{m: map[string]entry[V]{}, ttl: ttl, now: now, seed: maphash.MakeSeed()}
}

// Get returns the live entry of k.
func (c *Cache[V]) Get(k string) (V, bool) {
	e, _, ok := c.live(k)
	return e.v, ok
}

// live returns the entry of k unless it has expired, and the time it was looked up.
func (c *Cache[V]) live(k string) (entry[V], time.Time, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	now := c.now()
	if !ok || now.After(e.expires) {
		return entry[V]{}, now, false
	}
	return e, now, true
}

// CountLoads has the cache call inc once for each load that goes to the source (the
// twinid_cache_loads_total series). Set it before the cache is shared.
func (c *Cache[V]) CountLoads(inc func()) { c.loaded = inc }

// RefreshAhead gives the cache its load for LoadCtx, which reloads a live entry in the
// background when it is asked for in the last d of its life, so the callers of a hot key
// never wait for its reload: a cache of 1,000 clients, each asked for every few
// milliseconds, held every request of a client for its reload every TTL, and the reloads of
// entries loaded together came in one burst (a p99 of 19–27 ms against 5 ms). An entry is
// still never used past its expiry; a key not asked for in that window, or given a life of
// under 2d by its load, expires and reloads on the next miss, as without it. Entries whose
// load gives no expiry live the TTL less up to d/2, spread by key (life). The load is given
// once, not per call: a function a call passed on to the background reload would escape to
// the heap on every call, hits included. Set it before the cache is shared.
func (c *Cache[V]) RefreshAhead(d time.Duration, load func(ctx context.Context, k string) (V, time.Time, error)) {
	c.ahead, c.load = d, load
}

// LoadCtx returns the live entry of k, or loads it (single-flight with Load) with the load
// RefreshAhead gave, under ctx. When the live entry is in its last part, the cached value
// is returned and one background load runs under ctx's values without its cancellation or
// deadline: the request that asked may end first. The load must bound itself (the store
// bounds every statement).
func (c *Cache[V]) LoadCtx(ctx context.Context, k string) (V, error) {
	e, now, ok := c.live(k)
	if !ok {
		return c.loadOnce(k, func() (V, time.Time, error) { return c.load(ctx, k) })
	}
	if e.refreshing != nil && now.After(e.expires.Add(-c.ahead)) && e.refreshing.CompareAndSwap(false, true) {
		go c.refresh(context.WithoutCancel(ctx), k)
	}
	return e.v, nil
}

// refresh reloads k for RefreshAhead. A failed reload leaves the entry to expire at its
// time; the next miss loads again.
func (c *Cache[V]) refresh(ctx context.Context, k string) {
	c.loads.Do(k, func() (any, error) { return c.fill(k, func() (V, time.Time, error) { return c.load(ctx, k) }) })
}

// fill runs load for k, counted, and keeps its value (unless a forget came meanwhile).
func (c *Cache[V]) fill(k string, load func() (V, time.Time, error)) (V, error) {
	if c.loaded != nil {
		c.loaded()
	}
	epoch := c.begin()
	v, expires, err := load()
	if err != nil {
		return v, err
	}
	if expires.IsZero() {
		expires = c.now().Add(c.life(k))
	}
	c.put(k, v, expires, epoch)
	return v, nil
}

// life is how long k's entry lives when its load gives no expiry: the TTL, or with
// RefreshAhead(d) up to d/2 less, by a hash of k, so entries loaded together (a restart, a
// burst of new clients) do not stay due together, every reload in one burst, cycle after
// cycle. The hash is seeded per cache (per node): nodes do not reload a key in step.
func (c *Cache[V]) life(k string) time.Duration {
	if c.ahead < 2 {
		return c.ttl
	}
	return c.ttl - time.Duration(maphash.String(c.seed, k)%uint64(c.ahead/2))
}

// Load returns the live entry of k, or runs load once for all concurrent callers of k and
// keeps what it returns until the expiry it gives (at most the TTL; zero means the TTL).
// Errors are not cached. A caller that missed just as another's load finished finds that
// load's entry instead of starting a second one: one load per key per expiry, whatever
// the concurrency.
func (c *Cache[V]) Load(k string, load func() (V, time.Time, error)) (V, error) {
	if v, ok := c.Get(k); ok {
		return v, nil
	}
	return c.loadOnce(k, load)
}

// loadOnce is Load after a miss.
func (c *Cache[V]) loadOnce(k string, load func() (V, time.Time, error)) (V, error) {
	v, err, _ := c.loads.Do(k, func() (any, error) {
		if v, ok := c.Get(k); ok {
			return v, nil
		}
		return c.fill(k, load)
	})
	return v.(V), err
}

// begin returns the epoch to pass to put.
func (c *Cache[V]) begin() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch
}

// put stores v until expires (or the TTL, whichever is sooner), unless a forget happened
// since epoch.
func (c *Cache[V]) put(k string, v V, expires time.Time, epoch uint64) {
	if max := c.now().Add(c.ttl); expires.After(max) {
		expires = max
	}
	e := entry[V]{v: v, expires: expires}
	// An entry whose load gave it a short life (signing keys until the next activation)
	// expires when it must: reloaded ahead, it would get the same expiry again and again.
	if c.ahead > 0 && expires.Sub(c.now()) > 2*c.ahead {
		e.refreshing = new(atomic.Bool)
	}
	c.mu.Lock()
	if c.epoch == epoch {
		c.m[k] = e
	}
	c.mu.Unlock()
}

// Forget drops the entries of keys.
func (c *Cache[V]) Forget(keys ...string) {
	c.mu.Lock()
	c.epoch++
	for _, k := range keys {
		delete(c.m, k)
	}
	c.mu.Unlock()
}

// ForgetPrefix drops every entry whose key starts with prefix (e.g. a whole account).
func (c *Cache[V]) ForgetPrefix(prefix string) {
	c.ForgetIf(func(k string, _ V) bool { return strings.HasPrefix(k, prefix) })
}

// ForgetIf drops every entry for which match holds, for caches whose keys do not name what
// the entries belong to (verified tokens are keyed by their hash, not their account).
func (c *Cache[V]) ForgetIf(match func(k string, v V) bool) {
	c.mu.Lock()
	c.epoch++
	for k, e := range c.m {
		if match(k, e.v) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// Sweep drops the expired entries.
func (c *Cache[V]) Sweep() {
	now := c.now()
	c.mu.Lock()
	for k, e := range c.m {
		if now.After(e.expires) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// KeySep separates the parts of a compound key (Key).
const KeySep = "\x00"

// Key joins the parts of a compound key with a separator no part contains.
func Key(parts ...string) string { return strings.Join(parts, KeySep) }

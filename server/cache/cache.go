package cache

import (
	"strings"
	"sync"
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
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// New returns an empty cache whose entries live at most ttl by the clock now.
func New[V any](ttl time.Duration, now func() time.Time) *Cache[V] {
	return &Cache[V]{m: map[string]entry[V]{}, ttl: ttl, now: now}
}

// Get returns the live entry of k.
func (c *Cache[V]) Get(k string) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || c.now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// CountLoads has the cache call inc once for each load that goes to the source (the
// twinid_cache_loads_total series). Set it before the cache is shared.
func (c *Cache[V]) CountLoads(inc func()) { c.loaded = inc }

// Load returns the live entry of k, or runs load once for all concurrent callers of k and
// keeps what it returns until the expiry it gives (at most the TTL; zero means the TTL).
// Errors are not cached. A caller that missed just as another's load finished finds that
// load's entry instead of starting a second one: one load per key per expiry, whatever
// the concurrency.
func (c *Cache[V]) Load(k string, load func() (V, time.Time, error)) (V, error) {
	if v, ok := c.Get(k); ok {
		return v, nil
	}
	v, err, _ := c.loads.Do(k, func() (any, error) {
		if v, ok := c.Get(k); ok {
			return v, nil
		}
		if c.loaded != nil {
			c.loaded()
		}
		epoch := c.begin()
		v, expires, err := load()
		if err != nil {
			return v, err
		}
		if expires.IsZero() {
			expires = c.now().Add(c.ttl)
		}
		c.put(k, v, expires, epoch)
		return v, nil
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
	c.mu.Lock()
	if c.epoch == epoch {
		c.m[k] = entry[V]{v: v, expires: expires}
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

// Key joins the parts of a compound key with a separator no part contains.
func Key(parts ...string) string { return strings.Join(parts, "\x00") }

package server

import (
	"strings"
	"sync"
	"time"
)

// ttlCache is a per-node cache whose entries live at most ttl. Writers on this node drop
// the entries they change; other nodes see the change within ttl.
type ttlCache struct {
	mu  sync.RWMutex
	m   map[string]ttlEntry
	ttl time.Duration
	// epoch counts drops. A loader reads it before going to the database and stores its
	// result only if no drop happened meanwhile, so a slow read can never put back what a
	// revocation just removed.
	epoch uint64
}

type ttlEntry struct {
	v       any
	expires time.Time
}

func newTTLCache(ttl time.Duration) *ttlCache {
	return &ttlCache{m: map[string]ttlEntry{}, ttl: ttl}
}

func (c *ttlCache) get(k string) (any, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || time.Now().After(e.expires) {
		return nil, false
	}
	return e.v, true
}

// begin returns the epoch to pass to put.
func (c *ttlCache) begin() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.epoch
}

func (c *ttlCache) put(k string, v any, epoch uint64) {
	c.putUntil(k, v, time.Now().Add(c.ttl), epoch)
}

// putUntil stores v until expires (or the ttl, whichever is sooner).
func (c *ttlCache) putUntil(k string, v any, expires time.Time, epoch uint64) {
	if max := time.Now().Add(c.ttl); expires.After(max) {
		expires = max
	}
	c.mu.Lock()
	if c.epoch == epoch {
		c.m[k] = ttlEntry{v: v, expires: expires}
	}
	c.mu.Unlock()
}

func (c *ttlCache) drop(keys ...string) {
	c.mu.Lock()
	c.epoch++
	for _, k := range keys {
		delete(c.m, k)
	}
	c.mu.Unlock()
}

// dropPrefix drops every entry whose key starts with prefix (e.g. a whole account).
func (c *ttlCache) dropPrefix(prefix string) {
	c.mu.Lock()
	c.epoch++
	for k := range c.m {
		if strings.HasPrefix(k, prefix) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

func (c *ttlCache) sweep(now time.Time) {
	c.mu.Lock()
	for k, e := range c.m {
		if now.After(e.expires) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// usage collects when secrets were used, for lastUsedAt, written in batches by Run: the
// token path never writes to the database.
type usage struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func newUsage() *usage { return &usage{m: map[string]time.Time{}} }

func (u *usage) record(secretID string, at time.Time) {
	u.mu.Lock()
	u.m[secretID] = at
	u.mu.Unlock()
}

func (u *usage) take() map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.m) == 0 {
		return nil
	}
	m := u.m
	u.m = make(map[string]time.Time, len(m))
	return m
}

// Package cache is the per-node TTL cache behind the typed caches of accounts, keys,
// clients and verified tokens: one value type per cache, loads that run once per key
// however many requests wait (single-flight), and drop epochs so that a load racing a
// Forget never stores the value the Forget removed. With RefreshAhead (accounts, keys and
// clients), a hot entry is reloaded in the background before it expires (LoadCtx), and
// entries loaded together expire apart.
//
// Each owner wraps a Cache in its own type with a Forget method, so no key string leaves
// its package. It imports nothing of the project (layer 1). Start with Load.
package cache

// Package clients is the protocol's view of a client: the client with its secrets and
// grants loaded once per node and cache TTL, the constant-time secret check with its
// failed-authentication throttle, lastUsedAt recorded off the hot path, and the scope
// resolution of a token request. Writers call Forget after changing a client.
//
// Domain errors: ErrBadSecret, *Throttled, *ScopeError. It imports keys, cache,
// ratelimit, metrics and store (layer 4). Start with Clients.Get and Clients.Authenticate.
package clients

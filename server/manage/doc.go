// Package manage is the Management API: the resources an account's administrators change
// under /v1/accounts (accounts, scopes, service accounts, application clients and their
// secrets, grants, customers, signing keys), and the conversions of store rows into the
// generated API types.
//
// Contract: *API implements exactly these operations of gen.StrictServerInterface, with
// nothing else on it; the server embeds it. Before a handler runs, the server has validated
// the request against openapi/openapi.yaml, checked the token's scopes and that it belongs
// to the account in the path (or to root), and put the caller in the context
// (reqctx.PrincipalFrom); only the root-only operations on the account collection check the
// caller again here. Handlers return a *problem.Problem for every outcome a client should
// see and plain errors for internal failures. After a write a handler drops what this node
// caches of it (account.Accounts.Forget, clients.Clients.Forget, keys.Keys.Forget), so a
// revoked secret or scope stops working here at once and on other nodes within the cache
// TTL. The time comes from Deps.Now only, the clock Keys and Login were built with too.
//
// It may import reqctx, problem, account, keys, clients, login, store, gen, mail and
// passwords (layer 6). It never imports Echo, jwx or GORM, nor another surface (protocol,
// pages, upstream), nor server.
//
// Every change a handler makes is recorded on the audit trail (record.go) once the store has
// it; Events (events.go), a type of its own beside API, lists the trail.
//
// Start with New in api.go, then one file per resource; secrets.go serves the secrets of
// service accounts and application clients alike, convert.go turns rows into API values.
package manage

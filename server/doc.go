// Package server is twinid's HTTP side. It builds the parts, embeds the four surfaces that
// implement the generated strict interface, and owns the Echo wiring, the one error
// handler, the bootstrap and the background work.
//
// # The request pipeline
//
//	request
//	  │  RequestID · observe (log line, metrics) · Recover · secure headers      routes.go
//	  │  CORS: registered origins of the account's clients; preflights end here   cors.go
//	  ▼
//	/v1 group ─── prepare: one deadline per request (Config.RequestTimeout),     routes.go
//	  │           body limits, reqctx.Info, reqctx.Auth holder;
//	  │           no NUL or invalid UTF-8 in the URL; JSON bodies one value,
//	  │           no repeated member name (oauth2.CheckJSON);
//	  │           RFC 6749 endpoints: oauth2.ReadParams → reqctx.Params
//	  │           page POSTs: a form body, its fields the only parameters (no query)
//	  │           validator (kin-openapi, KeepValidatedValue) with authenticate    auth.go
//	  │           (skipped where the dialect is RFC 6749 or pages)
//	  ▼
//	generated strict handler (gen) → Server, which embeds
//	  ├── protocol.Endpoints   token (one file per grant), revoke, introspect, userinfo,
//	  │                        discovery, JWKS, customer login and password
//	  ├── pages.Pages          authorize, login, logout, forgot/reset/accept
//	  ├── upstream.Login       login through an upstream OpenID provider
//	  └── manage.API           the Management API resources, and manage.Events the audit trail
//	  ▼
//	error? → handleError: the dialect of the path, from the document (dialect.go)   errors.go
//	           RFC 6749 JSON · HTML page · RFC 9457 problem+json
//	           (store.ErrUnavailable, a database outage, or the request's deadline
//	           passed: 503 + Retry-After in each)
//
// The surfaces stand on the domain layers below them and never import each other or this
// package; every layer imports only lower ones (server/deps_test.go holds the rules):
//
//	6  protocol  pages  upstream  manage        the surfaces
//	5  login                                    customer authentication
//	4  tokens  clients                          tokens; the protocol's view of a client
//	3  keys                                     keyring, secrets, signing keys
//	2  account  audit                           settings, issuer, cached account; the audit trail
//	1  reqctx  problem  oauth2  cache  page  ratelimit  metrics
//	   + store, gen, mail, passwords, workqueue anywhere
//
// # Where the cut differs from a plain list of concerns, and why
//
//   - page (layer 1) renders the hosted pages and their errors. Both pages and upstream
//     answer with pages, and surfaces may not import each other, so the renderer is a
//     leaf of its own.
//   - ratelimit (layer 1) holds the token buckets: clients counts failed client
//     authentications with them and protocol limits client_credentials with them, so
//     neither owns them.
//   - metrics (layer 1) is the one set of Prometheus series; every layer counts into it.
//   - oauth2 also parses a request's client authentication (RFC 6749 §2.3.1), since
//     protocol and upstream both read it the same way.
//
// # Contract
//
// Domain code returns domain errors; each surface words them in its dialect in one
// function (protocol.oauthError, pages.failure, problem.Password). Only this package
// imports Echo, echo-middleware and kin-openapi. One clock, Config.Now, reaches every
// reader of the time. Start reading with New in start.go, then routes in routes.go.
package server

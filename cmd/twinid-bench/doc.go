// Command twinid-bench measures twinid over loopback HTTP (`make bench`).
//
// It builds ./cmd/twinid, starts it on a free 127.0.0.1 port with a fresh data directory and
// runs these parts (-only picks some), printing a table per part and a summary at the end:
//
//   - tokens: per signing algorithm, an account with a service account and a secret; the
//     client_credentials token endpoint is driven by a load generator (wrk when it is on PATH,
//     else a built-in Go one) for a bounded time. Reports tokens/s, p50/p99 latency, server CPU
//     per token (from /proc/<pid>/stat), SQL statements per token and errors (from /metrics),
//     and compares the CPU per token with a bare jwt.Sign measured in the same process.
//   - logins: customer password logins (POST /customers/login) rotating over -customers
//     customers; server CPU per login against passwords.Verify with passwords.Default
//     measured in this process (target 1.15x).
//   - flood: -flood-connections connections on /customers/login; status counts and the
//     server's peak RSS (VmHWM, reset just before).
//   - refresh: refresh-token exchanges with rotation, each wrk thread following its own
//     chains, RS256 then ES256 (target ≥ 1,000/s with RS256 on Postgres).
//   - sso: browser sign-in; full code-flow logins through the hosted login page (authorize,
//     login form, code, token with PKCE), then SSO authorizations with the session cookie
//     driven by wrk (target ≥ 1,000/s).
//   - search: customers seeded through the store, p50/p99 of email- and phone-prefix
//     searches at each of -search-sizes.
//
// The refresh and search parts run on Postgres: on -db when it is a Postgres URL, else on a
// second server using a fresh database twinid_bench_<random> created through -postgres
// (default $TWINID_BENCH_POSTGRES_URL, else the local server when it answers) and dropped at
// the end; without Postgres they run on SQLite. The login, flood, sso and refresh parts need
// wrk. Misses against the targets are printed, never fatal.
//
// Usage:
//
//	go run ./cmd/twinid-bench [-pin] [-duration 10s] [-warmup 2s] [-connections 16] [-threads 2]
//	                          [-gen wrk|go] [-algs RS256,ES256] [-db postgres://...]
//	                          [-only tokens,logins,flood,sso,refresh,search] [-postgres URL|off]
//	                          [-part-duration 5s] [-customers 200] [-refresh-tokens 256]
//	                          [-search-sizes 1000,100000] [-search-requests 500]
//
// It imports, of the project, server/passwords (the argon2id baseline of the login figures)
// and store (the search part seeds customers through it); of the rest, jwx (the jwt.Sign
// baseline of the token figures), pgx (creating and dropping the Postgres database) and
// uuid. The server itself runs as a separate process built from ./cmd/twinid.
//
// Start reading at run in main.go (after the flags): it runs the parts in order. Then:
// server.go builds, starts and stops the server binary; api.go is the apiClient of the
// Management API and the token endpoint; load.go holds the load generators (wrk and the
// built-in Go one) and lua.go the wrk scripts of the other parts; measure.go reads the
// server's CPU, memory and /metrics; tokens.go holds the figures and the jwt.Sign baseline
// of the tokens part (run drives its load); parts.go measures the logins, flood, refresh and
// search parts, sso.go the sso part; report.go prints the tables and the summary; pg.go
// creates and drops the Postgres database.
package main

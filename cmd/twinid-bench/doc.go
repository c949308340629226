// Command twinid-bench measures twinid over loopback HTTP (`make bench`).
//
// It builds ./cmd/twinid, starts it on a free 127.0.0.1 port with a fresh data directory, at
// its default log level (info: one access-log line per request, as deployed), and runs these
// parts (-only picks some). Every part runs -rounds rounds (default 3); every figure is
// printed as its median and min–max over the rounds, with its target and a verdict (met /
// missed) on the median, or on every round for counts of failed answers. A table per part,
// then a summary of every figure that has a target.
//
//   - tokens: per signing algorithm, an account with a service account and a secret; the
//     client_credentials token endpoint is driven by a load generator (wrk when it is on PATH,
//     else a built-in Go one). Reports tokens/s, p50/p99, server CPU per token (from
//     /proc/<pid>/stat), SQL statements per token and errors (from /metrics), and the CPU per
//     token over the raw jwx build+sign of the claims of a token this server issued, with the
//     same algorithm and header (target 2.0x, stretch 1.5x). The last of -algs also runs with
//     -clients distinct service accounts (default 1,000), so the client cache misses and
//     reloads; cache loads per round show when the server exports twinid_cache_loads_total.
//   - logins: customer password logins (POST /customers/login) rotating over -customers
//     customers at -login-connections; server CPU per login over passwords.Verify with
//     passwords.Default (target 1.15x).
//   - sso: browser sign-in; full code-flow logins through the hosted login page (authorize,
//     login form, code, token with PKCE), then SSO authorizations with the session cookie
//     driven by wrk (target ≥ 1,000/s).
//   - flood: -flood-connections connections on /customers/login; successful logins per
//     second (goodput) beside the 503s per second, held to 80% of the logins part's rate in
//     the same run; the server's peak RSS (VmHWM, reset before the first round).
//   - refresh: refresh-token exchanges with rotation, each wrk thread following its own
//     chains, RS256 then ES256 (target ≥ 1,000/s with RS256 on Postgres).
//   - search: at each of -search-sizes (default 1k, 100k, 1M) an account with exactly that
//     many customers, seeded in key order (COPY on Postgres); sequential searches by email
//     prefix, phone prefix, email prefix with status=active and status=disabled alone, each
//     finding the same 20 customers per answer at every size; the p50 at each size is held
//     to 3x the p50 of the same search at the smallest.
//
// The raw baselines are timed the same way the server is: as CPU time (user + system, every
// thread, garbage collection included), in a child process of this binary (its hidden first
// argument __baseline) started on the server's core with taskset (-pin: CPU 1, the server's;
// wrk runs on CPU 0), before and after each load round, so baseline and load interleave on
// one core in one run: baseline, load, baseline, baseline, load, baseline, ... Each round's
// CPU per operation is divided by the mean of the two timings that bracket it (one 400 ms
// timing swings by about ±10% on a VM), and the progress lines print both.
//
// The refresh and search parts run on Postgres: on -db when it is a Postgres URL, else on a
// second server using a fresh database twinid_bench_<random> created through -postgres
// (default $TWINID_BENCH_POSTGRES_URL, else the local server when it answers) and dropped at
// the end; without Postgres they run on SQLite. The login, flood, sso and refresh parts need
// wrk. Misses against the targets are printed, never fatal.
//
// Usage:
//
//	go run ./cmd/twinid-bench [-pin] [-rounds 3] [-duration 3s] [-warmup 2s] [-connections 16]
//	                          [-threads 2] [-gen wrk|go] [-algs RS256,ES256] [-clients 1000]
//	                          [-db postgres://...] [-only tokens,logins,flood,sso,refresh,search]
//	                          [-postgres URL|off] [-part-duration 3s] [-customers 200]
//	                          [-refresh-tokens 256] [-search-sizes 1000,100000,1000000]
//	                          [-search-requests 200]
//
// It imports, of the project, server/passwords (the argon2id baseline) and store (the search
// part seeds customers through it on SQLite); of the rest, jwx (the build+sign baseline), pgx
// (creating and dropping the Postgres database, COPY of the search part's customers) and
// uuid. The server itself runs as a separate process built from ./cmd/twinid.
//
// Start reading at run in main.go (after the flags): it runs the parts in order. Then:
// figures.go is the figure (rounds, target, verdict) every part reports and its table;
// report.go prints the parts' tables and the summary; baseline.go the baseline children;
// server.go builds, starts and stops the server binary; api.go is the apiClient of the
// Management API and the token endpoint; load.go holds the load generators (wrk and the
// built-in Go one) and lua.go the wrk scripts of the other parts; measure.go reads the
// server's CPU, memory and /metrics; tokens.go runs the tokens part, logins.go the logins
// and flood parts, sso.go the sso part, parts.go the shop setup and the refresh part,
// search.go the search part; pg.go creates and drops the Postgres database.
package main

// Command twinid runs the twinid identity server: `twinid serve` (migrate, bootstrap on an
// empty database, then serve HTTP until a signal, and drain before closing the listener), `twinid migrate`, and `twinid
// healthcheck` for container images without curl.
//
// main only calls run(ctx, args, stdout, stderr) error. config.go reads the flags and their
// TWINID_* environment variables and reports every problem at once (Validate). It imports
// server, store, server/mail and server/passwords. Start with run in main.go.
package main

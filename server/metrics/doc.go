// Package metrics holds the Prometheus series of one server: requests and latency by
// route, tokens by grant, refusals by limit, refresh reuse, logins by outcome, and the SQL
// statement count. Every layer that counts something gets the one *Metrics.
//
// It imports nothing of the project (layer 1). Start with New.
package metrics

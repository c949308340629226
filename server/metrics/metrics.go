package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the Prometheus series of one server (its own registry: no globals).
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// Tokens counts access tokens issued, by grant type.
	Tokens *prometheus.CounterVec
	// RateLimited counts requests refused by a limit, by limit.
	RateLimited *prometheus.CounterVec
	// RefreshReuse counts detected refresh token reuse (a family revoked).
	RefreshReuse prometheus.Counter
	// Logins counts customer password logins, by outcome.
	Logins *prometheus.CounterVec
	// CacheLoads counts the node caches' loads from the database, by cache (accounts,
	// keys, clients): one per key per expiry, however many requests missed at once.
	CacheLoads *prometheus.CounterVec
}

// New registers the series; queries reports the SQL statements run so far.
func New(queries func() uint64) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twinid_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "twinid_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		Tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twinid_tokens_issued_total", Help: "Access tokens issued by grant type.",
		}, []string{"grant_type"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twinid_rate_limited_total", Help: "Requests refused by a rate limit.",
		}, []string{"limit"}),
		RefreshReuse: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "twinid_refresh_token_reuse_total", Help: "Rotated refresh tokens presented again (their family was revoked).",
		}),
		Logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twinid_customer_logins_total", Help: "Customer password logins by outcome.",
		}, []string{"outcome"}),
		CacheLoads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twinid_cache_loads_total", Help: "Node cache loads from the database, by cache.",
		}, []string{"cache"}),
	}
	q := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "twinid_db_queries_total", Help: "SQL statements run by this node.",
	}, func() float64 { return float64(queries()) })
	m.Registry.MustRegister(m.requests, m.latency, m.Tokens, m.RateLimited, m.RefreshReuse, m.Logins, m.CacheLoads, q, buildInfo(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// statusLabels are the status codes as label values, made once rather than per request.
var statusLabels = func() []string {
	out := make([]string, 600)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}()

// Observe records one request under its route pattern (never the raw path: ids would
// explode the series) and its method, normalised: a stranger may send any token as the
// method, and each would otherwise be a series of its own.
func (m *Metrics) Observe(route, method string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	method = normalMethod(method)
	code := ""
	if status >= 0 && status < len(statusLabels) {
		code = statusLabels[status]
	} else {
		code = strconv.Itoa(status)
	}
	m.requests.WithLabelValues(route, method, code).Inc()
	m.latency.WithLabelValues(route, method).Observe(took.Seconds())
}

// normalMethod is the method label: one of the RFC 9110 §9 methods and PATCH, else "other".
func normalMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

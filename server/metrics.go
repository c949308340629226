package server

import (
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/twinid/twinid/store"
)

// metrics are the Prometheus series of one Server (its own registry: no globals).
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	tokens      *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	// refreshReuse counts detected refresh token reuse (a family revoked).
	refreshReuse prometheus.Counter
	logins       *prometheus.CounterVec
}

func newMetrics(st *store.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twinid_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "twinid_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twinid_tokens_issued_total", Help: "Access tokens issued by grant type.",
		}, []string{"grant_type"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twinid_rate_limited_total", Help: "Requests refused by a rate limit.",
		}, []string{"limit"}),
		refreshReuse: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "twinid_refresh_token_reuse_total", Help: "Rotated refresh tokens presented again (their family was revoked).",
		}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "twinid_customer_logins_total", Help: "Customer password logins by outcome.",
		}, []string{"outcome"}),
	}
	queries := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "twinid_db_queries_total", Help: "SQL statements run by this node.",
	}, func() float64 { return float64(st.Queries()) })
	m.reg.MustRegister(m.requests, m.latency, m.tokens, m.rateLimited, m.refreshReuse, m.logins, queries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe records one request under its route pattern (never the raw path: ids would
// explode the series).
func (m *metrics) observe(c echo.Context, start time.Time) {
	route := c.Path()
	if route == "" {
		route = "unmatched"
	}
	method := c.Request().Method
	m.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().Status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
}

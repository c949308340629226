package ratelimit

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// probeInterval is how often a Fallback that saw its shared limiter fail tries it again.
// Between probes every request goes straight to memory, so an outage costs a request no
// dial at all.
const probeInterval = time.Second

// Fallback takes tokens from a shared limiter (Redis) and, while that fails, from this
// node's memory buckets with the same rate and burst: an outage must neither stop token
// issuance nor lift the limit. It logs each change of state once (down, back up), not once
// per request, and while down probes the shared limiter at most once per probeInterval.
type Fallback struct {
	shared Limiter
	mem    *Memory
	log    *slog.Logger
	now    func() time.Time
	down   atomic.Bool
	// probeAt is when (Unix nanoseconds) the next request may try shared again while down.
	probeAt atomic.Int64
}

// NewFallback limits through shared, falling back to mem while shared fails.
func NewFallback(shared Limiter, mem *Memory, log *slog.Logger, now func() time.Time) *Fallback {
	return &Fallback{shared: shared, mem: mem, log: log, now: now}
}

// Memory is the per-node set of buckets used while the shared limiter is down.
func (f *Fallback) Memory() *Memory { return f.mem }

// Allow takes one token of key's bucket: shared when it answers, else this node's.
func (f *Fallback) Allow(ctx context.Context, key string, perMinute, burst int) (Result, error) {
	now := f.now().UnixNano()
	if f.down.Load() {
		// One request per interval probes; the others (and the probe's losers) use memory.
		at := f.probeAt.Load()
		if now < at || !f.probeAt.CompareAndSwap(at, now+int64(probeInterval)) {
			return f.mem.Allow(ctx, key, perMinute, burst)
		}
	}
	res, err := f.shared.Allow(ctx, key, perMinute, burst)
	if err != nil {
		if ctx.Err() != nil {
			// The request itself ended (client gone, deadline): no sign of an outage.
			return f.mem.Allow(ctx, key, perMinute, burst)
		}
		f.probeAt.Store(now + int64(probeInterval))
		if f.down.CompareAndSwap(false, true) {
			f.log.Warn("rate limiter: Redis unavailable, using this node's memory buckets until it answers again",
				"err", err)
		}
		return f.mem.Allow(ctx, key, perMinute, burst)
	}
	if f.down.CompareAndSwap(true, false) {
		f.log.Info("rate limiter: Redis answers again, token buckets are shared by every node")
	}
	return res, nil
}

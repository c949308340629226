package server

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// limitResult is one decision of a token bucket, with what the RateLimit-* headers show.
type limitResult struct {
	Allowed    bool
	Limit      int // requests per minute
	Remaining  int
	Reset      int // seconds until the bucket is full
	RetryAfter int // seconds until one request is allowed (when not allowed)
}

// limiter takes one token from the bucket named key.
type limiter interface {
	allow(ctx context.Context, key string, perMinute, burst int) (limitResult, error)
}

// memLimiter keeps token buckets in this node's memory.
type memLimiter struct {
	mu sync.Mutex
	m  map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newMemLimiter() *memLimiter { return &memLimiter{m: map[string]*bucket{}} }

func (l *memLimiter) bucket(key string, perMinute, burst int, now time.Time) *bucket {
	r := rate.Limit(float64(perMinute) / 60)
	b := l.m[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(r, burst)}
		l.m[key] = b
	} else if b.lim.Limit() != r || b.lim.Burst() != burst {
		b.lim.SetLimitAt(now, r)
		b.lim.SetBurstAt(now, burst)
	}
	b.last = now
	return b
}

func (l *memLimiter) allow(_ context.Context, key string, perMinute, burst int) (limitResult, error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, perMinute, burst, now)
	perSec := float64(perMinute) / 60
	res := limitResult{Limit: perMinute}
	res.Allowed = b.lim.AllowN(now, 1)
	tokens := b.lim.TokensAt(now)
	if !res.Allowed {
		res.RetryAfter = retryAfter(tokens, perMinute)
	}
	res.Remaining = max(0, int(tokens))
	res.Reset = int(math.Ceil((float64(burst) - tokens) / perSec))
	return res, nil
}

// exhausted reports whether the bucket has no token left, without taking one.
func (l *memLimiter) exhausted(key string, perMinute, burst int) (bool, int) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		return false, 0
	}
	tokens := b.lim.TokensAt(now)
	if tokens >= 1 {
		return false, 0
	}
	return true, retryAfter(tokens, perMinute)
}

// retryAfter is the whole seconds (at least 1) until the bucket holds one token again.
func retryAfter(tokens float64, perMinute int) int {
	return max(1, int(math.Ceil((1-tokens)/(float64(perMinute)/60))))
}

// take takes one token (used to count failures).
func (l *memLimiter) take(key string, perMinute, burst int) {
	now := time.Now()
	l.mu.Lock()
	l.bucket(key, perMinute, burst, now).lim.AllowN(now, 1)
	l.mu.Unlock()
}

// sweep forgets buckets idle for 10 minutes (they are full again by then).
func (l *memLimiter) sweep(now time.Time) {
	l.mu.Lock()
	for k, b := range l.m {
		if now.Sub(b.last) > 10*time.Minute {
			delete(l.m, k)
		}
	}
	l.mu.Unlock()
}

// redisLimiter shares buckets across nodes through Redis (GCRA, go-redis/redis_rate).
type redisLimiter struct{ l *redis_rate.Limiter }

func newRedisLimiter(url string) (*redisLimiter, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return &redisLimiter{l: redis_rate.NewLimiter(redis.NewClient(opt))}, nil
}

func (r *redisLimiter) allow(ctx context.Context, key string, perMinute, burst int) (limitResult, error) {
	res, err := r.l.Allow(ctx, "twinid:rl:"+key, redis_rate.Limit{Rate: perMinute, Burst: burst, Period: time.Minute})
	if err != nil {
		return limitResult{}, err
	}
	out := limitResult{
		Allowed:   res.Allowed > 0,
		Limit:     perMinute,
		Remaining: res.Remaining,
		Reset:     int(math.Ceil(res.ResetAfter.Seconds())),
	}
	if !out.Allowed {
		out.RetryAfter = max(1, int(math.Ceil(res.RetryAfter.Seconds())))
	}
	return out, nil
}

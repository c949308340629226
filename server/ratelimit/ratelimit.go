package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Result is one decision of a token bucket, with what the RateLimit-* headers show.
type Result struct {
	Allowed    bool
	Limit      int // requests per minute
	Remaining  int
	Reset      int // seconds until the bucket is full
	RetryAfter int // seconds until one request is allowed (when not allowed)
}

// Limiter takes one token from the bucket named key.
type Limiter interface {
	Allow(ctx context.Context, key string, perMinute, burst int) (Result, error)
}

// Memory keeps token buckets in this node's memory.
type Memory struct {
	mu  sync.Mutex
	m   map[string]*bucket
	now func() time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewMemory returns an empty set of buckets on the clock now.
func NewMemory(now func() time.Time) *Memory {
	return &Memory{m: map[string]*bucket{}, now: now}
}

func (l *Memory) bucket(key string, perMinute, burst int, now time.Time) *bucket {
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

// Allow takes one token of key's bucket.
func (l *Memory) Allow(_ context.Context, key string, perMinute, burst int) (Result, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, perMinute, burst, now)
	perSec := float64(perMinute) / 60
	res := Result{Limit: perMinute}
	res.Allowed = b.lim.AllowN(now, 1)
	tokens := b.lim.TokensAt(now)
	if !res.Allowed {
		res.RetryAfter = retryAfter(tokens, perMinute)
	}
	res.Remaining = max(0, int(tokens))
	res.Reset = int(math.Ceil((float64(burst) - tokens) / perSec))
	return res, nil
}

// Exhausted reports whether the bucket has no token left, without taking one.
func (l *Memory) Exhausted(key string, perMinute, burst int) (bool, int) {
	now := l.now()
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

// Take takes one token (used to count failures).
func (l *Memory) Take(key string, perMinute, burst int) {
	now := l.now()
	l.mu.Lock()
	l.bucket(key, perMinute, burst, now).lim.AllowN(now, 1)
	l.mu.Unlock()
}

// Sweep forgets buckets idle for 10 minutes (they are full again by then).
func (l *Memory) Sweep() {
	now := l.now()
	l.mu.Lock()
	for k, b := range l.m {
		if now.Sub(b.last) > 10*time.Minute {
			delete(l.m, k)
		}
	}
	l.mu.Unlock()
}

// Redis shares buckets across nodes through Redis (GCRA, go-redis/redis_rate).
type Redis struct{ l *redis_rate.Limiter }

// redisTimeout bounds each dial, read and write to Redis. A rate limit check sits on the
// token path: when Redis is slow or gone, the request should fall back at once rather than
// wait out go-redis's defaults (5 s timeouts, 3 command retries, 5 dial attempts).
const redisTimeout = 150 * time.Millisecond

// NewRedis connects to the Redis at url (redis://host:port/db). Timeouts the URL leaves
// unset are short and nothing is retried (see redisTimeout).
func NewRedis(url string) (*Redis, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = redisTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = redisTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = redisTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = redisTimeout
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = -1 // -1, not 0, disables command retries in go-redis
	}
	opt.DialerRetries = 1 // one dial attempt; the caller falls back instead
	return &Redis{l: redis_rate.NewLimiter(redis.NewClient(opt))}, nil
}

// Allow takes one token of key's bucket, shared by every node.
func (r *Redis) Allow(ctx context.Context, key string, perMinute, burst int) (Result, error) {
	res, err := r.l.Allow(ctx, "twinid:rl:"+key, redis_rate.Limit{Rate: perMinute, Burst: burst, Period: time.Minute})
	if err != nil {
		return Result{}, err
	}
	out := Result{
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

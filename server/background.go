package server

import (
	"context"
	"time"

	"github.com/twinid/twinid/server/ratelimit"
)

// Run runs the background work (lastUsedAt batches, scheduled key rotation, cache sweeps,
// the janitor) until ctx ends, then flushes what is pending.
func (s *Server) Run(ctx context.Context) {
	flush := time.NewTicker(s.cfg.UsageFlushInterval)
	minute := time.NewTicker(time.Minute)
	defer flush.Stop()
	defer minute.Stop()
	s.keys.RotateDue(ctx)
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			s.FlushUsage(fctx)
			cancel()
			return
		case <-flush.C:
			s.FlushUsage(ctx)
		case <-minute.C:
			s.accounts.Sweep()
			s.keys.Sweep()
			s.tokens.Sweep()
			s.clients.Sweep()
			switch l := s.limits.(type) {
			case *ratelimit.Memory:
				l.Sweep()
			case *ratelimit.Fallback:
				l.Memory().Sweep()
			}
			s.keys.RotateDue(ctx)
			if _, err := s.SweepExpired(ctx); err != nil {
				s.log.Warn("janitor: sweeping expired rows failed", "err", err)
			}
		}
	}
}

// Janitor limits: each statement deletes at most sweepBatch rows, and one run at most
// sweepRounds batches per table, so the janitor never holds long locks; what is left goes
// next minute.
const (
	sweepBatch   = 500
	sweepRounds  = 20
	keepThrottle = 24 * time.Hour
)

// DefaultAuditRetention is Config.AuditRetention when it is not set: 90 days.
const DefaultAuditRetention = 90 * 24 * time.Hour

// SweepExpired deletes expired refresh tokens, used or expired codes, revoked access tokens
// past their expiry, idle login counters, and audit events older than the retention, in
// small batches. It reports the rows deleted.
func (s *Server) SweepExpired(ctx context.Context) (int64, error) {
	var total int64
	for _, sweep := range []func() (int64, error){
		func() (int64, error) { return s.store.Sweep(ctx, s.now(), keepThrottle, sweepBatch) },
		func() (int64, error) {
			return s.store.Events().DeleteBefore(ctx, s.now().Add(-s.cfg.AuditRetention), sweepBatch)
		},
	} {
		for round := 0; round < sweepRounds; round++ {
			n, err := sweep()
			total += n
			if err != nil {
				return total, err
			}
			if n == 0 {
				break
			}
		}
	}
	return total, nil
}

// FlushUsage writes pending lastUsedAt values now (tests and shutdown).
func (s *Server) FlushUsage(ctx context.Context) {
	if err := s.clients.FlushUsage(ctx); err != nil {
		s.log.Warn("recording secret use failed", "err", err)
	}
}

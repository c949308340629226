package login

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// overloadQuiet is how long no login may have been refused before the overload counts as
// over: a flood refuses some logins and serves others all the time, and the log must not
// flap with them.
const overloadQuiet = time.Second

// overload tracks logins refused because the password pool is full. It logs once when the
// refusals begin and once when they are over (with their count), not once per refusal, and
// counts each refusal on the metric: a flood must not write a log line per refused request.
type overload struct {
	log     *slog.Logger
	now     func() time.Time
	counter func() // the refusals metric
	workers int
	queue   int

	on      atomic.Bool
	refused atomic.Int64 // refusals since the overload began
	last    atomic.Int64 // time of the last refusal, Unix nanoseconds
}

// refuse records one refused login.
func (o *overload) refuse() {
	o.counter()
	o.refused.Add(1)
	o.last.Store(o.now().UnixNano())
	if !o.on.Load() && o.on.CompareAndSwap(false, true) {
		o.log.Warn("login: the password pool is full; refusing logins with 503 until it has room",
			"workers", o.workers, "queue", o.queue)
	}
}

// served notes a login that got a worker: it ends the overload once no login has been
// refused for overloadQuiet.
func (o *overload) served() {
	if !o.on.Load() || o.now().UnixNano()-o.last.Load() < int64(overloadQuiet) {
		return
	}
	if o.on.CompareAndSwap(true, false) {
		o.log.Info("login: the password pool has room again", "refused", o.refused.Swap(0))
	}
}

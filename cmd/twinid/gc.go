package main

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/twinid/twinid/server/passwords"
)

// The garbage collector of a serving twinid. Most of what it allocates is argon2id's memory:
// every password hash allocates passwords.Default.Memory KiB (19 MiB) and drops it when it
// is done, so at the Go default (GOGC=100, a cycle whenever the heap doubles) a login costs
// about half a collection, each marking the whole live heap: a tenth of a login's CPU. A
// higher GOGC spaces the cycles out over several hashes; the memory limit caps what that
// costs in memory: the live heap plus room for four hashes per worker. GOGC and GOMEMLIMIT
// in the environment override both.
const (
	gcPercent    = 400
	gcLimitBase  = 128 << 20
	gcLimitPerHW = 4 // hashes' worth of room per password worker
)

// tuneGC applies those settings, unless the environment chose its own.
func tuneGC(log *slog.Logger) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		workers := int64(runtime.GOMAXPROCS(0)) // the password pool's default size
		limit := gcLimitBase + gcLimitPerHW*workers*int64(passwords.Default.Memory)<<10
		debug.SetMemoryLimit(limit)
	}
	log.Debug("garbage collector", "gogc_env", os.Getenv("GOGC"), "memory_limit_mib", debug.SetMemoryLimit(-1)>>20)
}

package main

import (
	"io"
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/twinid/twinid/server/passwords"
)

// serve spaces collections out (GOGC 400) under a memory limit of 128 MiB plus four hashes
// per password worker, unless GOGC or GOMEMLIMIT chose otherwise. Not parallel: it sets the
// environment and the process's collector.
func TestTuneGC(t *testing.T) {
	oldPercent, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	tuneGC(log)
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("GOGC = %d, want 400", got)
	}
	want := int64(128<<20) + 4*int64(runtime.GOMAXPROCS(0))*int64(passwords.Default.Memory)*1024
	if got := debug.SetMemoryLimit(math.MaxInt64); got != want {
		t.Errorf("memory limit = %d MiB, want %d MiB", got>>20, want>>20)
	}

	t.Setenv("GOGC", "50")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetGCPercent(50)
	debug.SetMemoryLimit(1 << 30)
	tuneGC(log)
	if got := debug.SetGCPercent(100); got != 50 {
		t.Errorf("GOGC from the environment replaced: %d", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != 1<<30 {
		t.Errorf("GOMEMLIMIT from the environment replaced: %d", got)
	}
}

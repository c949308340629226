package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// writes records each write(2) the log writer makes.
type writes struct {
	mu    sync.Mutex
	calls []string
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, string(p))
	return len(p), nil
}

func (w *writes) snapshot() (int, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.calls), strings.Join(w.calls, "")
}

func TestLogBatchesInfoLinesAndWritesWarningsAtOnce(t *testing.T) {
	var out writes
	lw := newLogWriter(&out, time.Hour) // only a warning, a full buffer or Flush writes
	log := newLogger(&config{LogLevel: "info", LogFormat: "text"}, lw)
	for i := range 1000 {
		log.Info("request", "n", i)
	}
	n, text := out.snapshot()
	if strings.Count(text, "msg=request") >= 1000 || n > 1000*120/logBufferSize+1 {
		t.Fatalf("1,000 info lines took %d writes (%d lines written): not batched", n, strings.Count(text, "msg=request"))
	}
	log.Warn("database unreachable")
	_, text = out.snapshot()
	if strings.Count(text, "msg=request") != 1000 || !strings.HasSuffix(text, "msg=\"database unreachable\"\n") {
		t.Fatalf("after a warning: %d info lines written, ends %q", strings.Count(text, "msg=request"), text[max(0, len(text)-80):])
	}
	// In order: every line before the warning, then the warning.
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, l := range lines[:1000] {
		if !strings.HasSuffix(l, fmt.Sprintf(" n=%d", i)) {
			t.Fatalf("line %d out of order: %s", i, l)
		}
	}
}

func TestLogLinesWaitAtMostTheDelay(t *testing.T) {
	var out writes
	lw := newLogWriter(&out, 50*time.Millisecond)
	log := newLogger(&config{LogLevel: "info", LogFormat: "json"}, lw)
	log.Info("twinid listening", "addr", "127.0.0.1:1")
	if n, _ := out.snapshot(); n != 0 {
		t.Fatal("an info line was written at once, not batched")
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, text := out.snapshot(); strings.Contains(text, `"msg":"twinid listening"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an info line was not written within 2s of a 50ms flush delay")
		}
		time.Sleep(5 * time.Millisecond)
	}
	log.With("component", "x").Error("boom") // handlers made With flush too
	if _, text := out.snapshot(); !strings.Contains(text, `"msg":"boom"`) {
		t.Fatal("an error line made through With was held back")
	}
}

func TestRunFlushesTheLogBeforeItReturns(t *testing.T) {
	t.Setenv("TWINID_DATABASE_URL", "")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "--data-dir", t.TempDir()}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errb.String(), "database ready") {
		t.Fatalf("the info line logged during migrate was lost: %q", errb.String())
	}
}

// On a terminal that shows both, what migrate prints comes after the log lines before it.
func TestMigratePrintsAfterItsLogLines(t *testing.T) {
	t.Setenv("TWINID_DATABASE_URL", "")
	var terminal syncBuffer
	if err := run(context.Background(), []string{"migrate", "--data-dir", t.TempDir()}, nil, &terminal, &terminal); err != nil {
		t.Fatal(err)
	}
	out := terminal.String()
	logged, printed := strings.Index(out, "database ready"), strings.Index(out, "applied ")
	if logged < 0 || printed < 0 || logged > printed {
		t.Fatalf("the log line (at %d) does not precede what migrate printed (at %d):\n%s", logged, printed, out)
	}
}

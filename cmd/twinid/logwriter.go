package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// The log is written in batches: one write(2) per access-log line cost about 3 % of the CPU
// of a token request under load. Lines wait at most logFlushDelay, or until logBufferSize
// of them are pending; a warning or an error is written at once, with every line before
// it, so what precedes a failure is never held back; and run flushes before it returns.
const (
	logFlushDelay = 100 * time.Millisecond
	logBufferSize = 64 << 10
)

// logWriter batches writes to w.
type logWriter struct {
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
	timer *time.Timer // armed while buf holds lines
	armed bool
	delay time.Duration
}

func newLogWriter(w io.Writer, delay time.Duration) *logWriter {
	lw := &logWriter{w: w, buf: make([]byte, 0, logBufferSize), delay: delay}
	lw.timer = time.AfterFunc(time.Hour, lw.Flush)
	lw.timer.Stop()
	return lw
}

// Write keeps p for the next flush (a handler writes one whole line per call).
func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if len(lw.buf)+len(p) > logBufferSize {
		lw.flushLocked()
		if len(p) > logBufferSize {
			return lw.w.Write(p)
		}
	}
	lw.buf = append(lw.buf, p...)
	if !lw.armed {
		lw.armed = true
		lw.timer.Reset(lw.delay)
	}
	return len(p), nil
}

// Flush writes what is pending.
func (lw *logWriter) Flush() {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	lw.flushLocked()
}

func (lw *logWriter) flushLocked() {
	if lw.armed {
		lw.timer.Stop()
		lw.armed = false
	}
	if len(lw.buf) == 0 {
		return
	}
	// A log that cannot be written has nowhere to say so: the lines are dropped, as an
	// unbuffered handler's would be.
	lw.w.Write(lw.buf)
	lw.buf = lw.buf[:0]
}

// flushOnWarn writes the batch out after every record at warning level or above.
type flushOnWarn struct {
	slog.Handler
	w *logWriter
}

func (h flushOnWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.w.Flush()
	}
	return err
}

func (h flushOnWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushOnWarn{h.Handler.WithAttrs(attrs), h.w}
}

func (h flushOnWarn) WithGroup(name string) slog.Handler {
	return flushOnWarn{h.Handler.WithGroup(name), h.w}
}

// flushLog writes out what log holds back, when it is one of newLogger's.
func flushLog(log *slog.Logger) {
	if h, ok := log.Handler().(flushOnWarn); ok {
		h.w.Flush()
	}
}

package mail

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

const (
	testCode = "48213975"
	testLink = "https://id.example.com/reset?code=48213975&aid=acme"
)

func resetMessage(t *testing.T, to, fromName, account string) Message {
	t.Helper()
	subject, text, html, err := Render(KindPasswordReset, TemplateData{
		AccountName:  account,
		CustomerName: "Alice",
		Code:         testCode,
		Link:         testLink,
		ExpiresIn:    15 * time.Minute,
	})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return Message{To: to, FromName: fromName, Subject: subject, Text: text, HTML: html}
}

package store_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

// TestSlowStatementIsUnavailable: a statement past Config.Timeout ends at the deadline as
// ErrUnavailable, whose text names nothing of the driver or the SQL; the Postgres session
// carries the same bound as statement_timeout.
func TestSlowStatementIsUnavailable(t *testing.T) {
	t.Parallel()
	if pg == nil {
		t.Skip("no Postgres (TWINID_TEST_POSTGRES_URL)")
	}
	dbURL, err := pg.Schema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, store.Config{DatabaseURL: dbURL, MaxOpenConns: 2, Timeout: time.Second}, store.DialectPostgres)
	var setting string
	if err := st.DB().WithContext(t.Context()).Raw("SHOW statement_timeout").Scan(&setting).Error; err != nil {
		t.Fatal(err)
	}
	if setting != "1s" {
		t.Errorf("statement_timeout is %q, want 1s", setting)
	}
	start := time.Now()
	err = st.DB().WithContext(t.Context()).Exec("SELECT pg_sleep(10)").Error
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the slow statement took %s, want about 1s", took)
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("want ErrUnavailable, got %v", err)
	}
	if err.Error() != store.ErrUnavailable.Error() || store.Cause(err) == nil {
		t.Errorf("the error's text is %q (cause %v): want only %q", err, store.Cause(err), store.ErrUnavailable)
	}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "err", err)
	if !strings.Contains(logged.String(), "57014") && !strings.Contains(logged.String(), "deadline") {
		t.Errorf("a log line of the error lacks its cause: %s", logged.String())
	}
	// The pool recovers: the next statement runs.
	if err := st.Ping(t.Context()); err != nil {
		t.Fatalf("ping after the timeout: %v", err)
	}
}

// TestUnreachableDatabaseIsUnavailable: Open against a port nobody listens on fails
// promptly with ErrUnavailable (its text, for the operator, may say where it tried).
func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	start := time.Now()
	_, err = store.Open(context.Background(), store.Config{DatabaseURL: "postgres://u@" + addr + "/db?sslmode=disable", Timeout: time.Second})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Open took %s", took)
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("want ErrUnavailable, got %v", err)
	}
}

// TestTransactionPastItsDeadlineIsUnavailable: a transaction whose deadline passes between
// its statements (a database slow on every answer) ends as ErrUnavailable, on both
// databases, not as database/sql's "transaction has already been committed or rolled
// back", which the server would answer as an internal error.
func TestTransactionPastItsDeadlineIsUnavailable(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, cfg store.Config, dialect string) {
		cfg.Timeout = time.Second
		st := openStore(t, cfg, dialect)
		err := st.InTx(t.Context(), func(tx *store.Store) error {
			if err := tx.DB().WithContext(t.Context()).Exec("SELECT 1").Error; err != nil {
				return err
			}
			time.Sleep(1200 * time.Millisecond)
			return nil
		})
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("want ErrUnavailable, got %v", err)
		}
		if err := st.Ping(t.Context()); err != nil {
			t.Fatalf("ping after the timeout: %v", err)
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		run(t, store.Config{DataDir: t.TempDir()}, store.DialectSQLite)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		if pg == nil {
			t.Skip("no Postgres (TWINID_TEST_POSTGRES_URL)")
		}
		dbURL, err := pg.Schema(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		run(t, store.Config{DatabaseURL: dbURL}, store.DialectPostgres)
	})
}

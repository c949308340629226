package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/twinid/twinid/store"
	"github.com/twinid/twinid/store/storetest"
)

// pg is the Postgres database of this test run; nil without TWINID_TEST_POSTGRES_URL.
var pg *storetest.Postgres

// sqliteTemplate is the directory of a freshly migrated SQLite database that openSQLite
// copies: migrating costs a few hundred milliseconds under the race detector, copying a
// quarter-megabyte file almost nothing.
var sqliteTemplate string

func TestMain(m *testing.M) {
	var err error
	if pg, err = storetest.NewPostgres("twinid_storetest_"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if pg == nil {
		fmt.Fprintln(os.Stderr, "TWINID_TEST_POSTGRES_URL not set: skipping the Postgres half of the tests")
	}
	cleanup := func() {
		if pg != nil {
			pg.Close()
		}
	}
	dir, err := setupSQLiteTemplate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlite template:", err)
		cleanup()
		os.Exit(1)
	}
	sqliteTemplate = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	cleanup()
	os.Exit(code)
}

// setupSQLiteTemplate migrates an SQLite database from nothing and closes it, which
// checkpoints the write-ahead log into the database file.
func setupSQLiteTemplate() (string, error) {
	dir, err := os.MkdirTemp("", "twinid-storetest-")
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: dir})
	if err == nil {
		var applied []int64
		applied, err = st.Migrate(ctx)
		if err == nil && len(applied) == 0 {
			err = errors.New("a new database applied no migration")
		}
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// TestConformance runs the store's conformance suite on SQLite (a real file) and, when
// available, on Postgres.
func TestConformance(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, openSQLite)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		if pg == nil {
			t.Skip("no Postgres (TWINID_TEST_POSTGRES_URL)")
		}
		storetest.Run(t, openPostgres)
	})
}

// openSQLite opens a store on a fresh database file: a copy of the migrated template.
func openSQLite(t *testing.T) *store.Store {
	t.Helper()
	dir := t.TempDir()
	files, err := os.ReadDir(sqliteTemplate)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(sqliteTemplate, f.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, f.Name()), b, 0o600)
		}
		if err != nil {
			t.Fatalf("copy the sqlite template: %v", err)
		}
	}
	// The copy is migrated already; Migrate would only parse the migrations again, which
	// under the race detector costs more than the rest of opening.
	return openStore(t, store.Config{DataDir: dir}, store.DialectSQLite)
}

// openPostgres opens a migrated store on a fresh schema of the run's database: a schema is
// much cheaper to create than a database, and search_path keeps each store inside its own.
func openPostgres(t *testing.T) *store.Store {
	t.Helper()
	dbURL, err := pg.Schema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// A small pool: two stores run at once, and the race tests need a handful of connections
	// each, not the production default of 20.
	st := openStore(t, store.Config{DatabaseURL: dbURL, MaxOpenConns: 8}, store.DialectPostgres)
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// openStore opens a store closed when t ends, and checks that it is of the dialect asked for.
func openStore(t *testing.T, cfg store.Config, dialect string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if st.Dialect() != dialect {
		t.Fatalf("opened a %s store, want %s", st.Dialect(), dialect)
	}
	return st
}

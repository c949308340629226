package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/twinid/twinid/store"
	"github.com/twinid/twinid/store/storetest"
)

// pg is the Postgres database created for this test run: its URL, and a handle used to
// create one schema per store. Both are empty without TWINID_TEST_POSTGRES_URL.
var pg struct {
	url     string
	db      *sql.DB
	schemas atomic.Int64
}

// sqliteTemplate is the directory of a freshly migrated SQLite database that openSQLite
// copies: migrating costs a few hundred milliseconds under the race detector, copying a
// quarter-megabyte file almost nothing.
var sqliteTemplate string

func TestMain(m *testing.M) {
	code, cleanup := setupPostgres()
	if code != 0 {
		os.Exit(code)
	}
	dir, err := setupSQLiteTemplate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlite template:", err)
		cleanup()
		os.Exit(1)
	}
	sqliteTemplate = dir
	code = m.Run()
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

// setupPostgres creates a database of its own for this run, so that runs never see each
// other's rows; cleanup drops it, connections and all.
func setupPostgres() (int, func()) {
	admin := os.Getenv("TWINID_TEST_POSTGRES_URL")
	if admin == "" {
		if os.Getenv("TWINID_TEST_REQUIRE_POSTGRES") != "" {
			fmt.Fprintln(os.Stderr, "TWINID_TEST_REQUIRE_POSTGRES is set but TWINID_TEST_POSTGRES_URL is empty")
			return 1, nil
		}
		fmt.Fprintln(os.Stderr, "TWINID_TEST_POSTGRES_URL not set: skipping the Postgres half of the tests")
		return 0, func() {}
	}
	adminDB, err := sql.Open("pgx", admin)
	if err == nil {
		err = adminDB.Ping()
	}
	if err != nil {
		// Asked for Postgres and cannot have it: fail, whether or not it is required, rather
		// than pass having tested half.
		fmt.Fprintln(os.Stderr, "postgres unreachable:", err)
		if adminDB != nil {
			_ = adminDB.Close()
		}
		return 1, nil
	}
	u, err := url.Parse(admin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parse TWINID_TEST_POSTGRES_URL:", err)
		return 1, nil
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "twinid_storetest_" + hex.EncodeToString(b)
	if _, err := adminDB.Exec("CREATE DATABASE " + name); err != nil {
		fmt.Fprintln(os.Stderr, "create test database:", err)
		_ = adminDB.Close()
		return 1, nil
	}
	// Durability is not what this database is for: commits that do not wait for the WAL
	// flush make the hundred schema migrations of a run quicker. Isolation and locking,
	// which the suite does test, are unchanged.
	if _, err := adminDB.Exec("ALTER DATABASE " + name + " SET synchronous_commit = off"); err != nil {
		fmt.Fprintln(os.Stderr, "configure test database:", err)
	}
	u.Path = "/" + name
	pg.url = u.String()
	drop := func() {
		if _, err := adminDB.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "drop test database:", err)
		}
		_ = adminDB.Close()
	}
	if pg.db, err = sql.Open("pgx", pg.url); err != nil {
		fmt.Fprintln(os.Stderr, "open test database:", err)
		drop()
		return 1, nil
	}
	return 0, func() {
		_ = pg.db.Close()
		drop()
	}
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
		if pg.url == "" {
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
	schema := fmt.Sprintf("s%d", pg.schemas.Add(1))
	if _, err := pg.db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	sep := "?"
	if strings.Contains(pg.url, "?") {
		sep = "&"
	}
	// A small pool: two stores run at once, and the race tests need a handful of connections
	// each, not the production default of 20.
	st := openStore(t, store.Config{DatabaseURL: pg.url + sep + "search_path=" + schema, MaxOpenConns: 8}, store.DialectPostgres)
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

package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"

	// The Postgres driver of database/sql, for creating databases and schemas.
	_ "github.com/jackc/pgx/v5/stdlib"
)

// Postgres is a database of its own for one test run, made on the server that
// TWINID_TEST_POSTGRES_URL names, so runs never see each other's rows. Each store of the
// run gets a schema of it (Schema): much cheaper than a database.
type Postgres struct {
	// URL is the run's database.
	URL     string
	admin   *sql.DB
	db      *sql.DB
	name    string
	schemas atomic.Int64
}

// NewPostgres creates the run's database, named prefix plus random hex. Without
// TWINID_TEST_POSTGRES_URL it returns nil and no error, unless TWINID_TEST_REQUIRE_POSTGRES
// is set (CI): then, as when the server cannot be reached, it is an error, so a run never
// passes having tested half.
func NewPostgres(prefix string) (*Postgres, error) {
	admin := os.Getenv("TWINID_TEST_POSTGRES_URL")
	if admin == "" {
		if os.Getenv("TWINID_TEST_REQUIRE_POSTGRES") != "" {
			return nil, errors.New("TWINID_TEST_REQUIRE_POSTGRES is set but TWINID_TEST_POSTGRES_URL is empty")
		}
		return nil, nil
	}
	u, err := url.Parse(admin)
	if err != nil {
		return nil, fmt.Errorf("parse TWINID_TEST_POSTGRES_URL: %w", err)
	}
	p := &Postgres{}
	if p.admin, err = sql.Open("pgx", admin); err == nil {
		err = p.admin.Ping()
	}
	if err != nil {
		if p.admin != nil {
			_ = p.admin.Close()
		}
		return nil, fmt.Errorf("postgres unreachable: %w", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	p.name = prefix + hex.EncodeToString(b)
	if _, err := p.admin.Exec("CREATE DATABASE " + p.name); err != nil {
		_ = p.admin.Close()
		return nil, fmt.Errorf("create test database: %w", err)
	}
	// Durability is not what this database is for: commits that do not wait for the WAL
	// flush make the many schema migrations of a run quicker. Isolation and locking, which
	// the tests do check, are unchanged.
	_, _ = p.admin.Exec("ALTER DATABASE " + p.name + " SET synchronous_commit = off")
	u.Path = "/" + p.name
	p.URL = u.String()
	if p.db, err = sql.Open("pgx", p.URL); err != nil {
		p.Close()
		return nil, fmt.Errorf("open test database: %w", err)
	}
	return p, nil
}

// Schema creates a fresh schema in the run's database and returns the URL whose
// search_path keeps a store inside it.
func (p *Postgres) Schema(ctx context.Context) (string, error) {
	schema := fmt.Sprintf("s%d", p.schemas.Add(1))
	if _, err := p.db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", fmt.Errorf("create schema: %w", err)
	}
	sep := "?"
	if strings.Contains(p.URL, "?") {
		sep = "&"
	}
	return p.URL + sep + "search_path=" + schema, nil
}

// Close drops the run's database, connections and all.
func (p *Postgres) Close() {
	if p.db != nil {
		_ = p.db.Close()
	}
	if _, err := p.admin.Exec("DROP DATABASE " + p.name + " WITH (FORCE)"); err != nil {
		fmt.Fprintln(os.Stderr, "drop test database:", err)
	}
	_ = p.admin.Close()
}

package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

//go:embed migrations
var migrations embed.FS

// Dialects.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Config says where the data lives.
type Config struct {
	// DatabaseURL is a postgres:// URL; empty means the embedded SQLite database.
	DatabaseURL string
	// DataDir holds the SQLite file when DatabaseURL is empty.
	DataDir string
	// MaxOpenConns bounds the connection pool (Postgres); 0 means 20.
	MaxOpenConns int
	// Now is the clock of the timestamps the store writes itself (default time.Now).
	Now func() time.Time
}

// Store is the database handle. Its methods are safe for concurrent use.
type Store struct {
	db      *gorm.DB
	dialect string
	queries *atomic.Uint64
	now     func() time.Time
}

// Open connects to the database. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	var (
		dialector gorm.Dialector
		dialect   string
	)
	switch {
	case cfg.DatabaseURL == "":
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		dialect = DialectSQLite
		dialector = sqlite.Open(sqliteDSN(filepath.Join(cfg.DataDir, "twinid.db")))
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://"), strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		dialect = DialectPostgres
		dialector = postgres.Open(cfg.DatabaseURL)
	default:
		return nil, errors.New("database URL must start with postgres://")
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		Logger:                 logger.Discard,
		// Microseconds: what Postgres keeps (see times.go).
		NowFunc: func() time.Time { return now().UTC().Truncate(time.Microsecond) },
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if err := truncateTimes(db); err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if dialect == DialectSQLite {
		// One writer at a time is all SQLite does; a small pool with WAL lets readers run
		// beside it, and busy_timeout queues writers instead of failing them.
		sqlDB.SetMaxOpenConns(4)
	} else {
		n := cfg.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, dialect: dialect, queries: new(atomic.Uint64), now: now}
	if err := s.countQueries(); err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect %s database: %w", dialect, err)
	}
	return s, nil
}

func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// countQueries counts every statement GORM sends, so benchmarks can show that the token path
// runs none in steady state.
func (s *Store) countQueries() error {
	inc := func(*gorm.DB) { s.queries.Add(1) }
	cb := s.db.Callback()
	for _, err := range []error{
		cb.Create().Before("gorm:create").Register("twinid:count", inc),
		cb.Query().Before("gorm:query").Register("twinid:count", inc),
		cb.Update().Before("gorm:update").Register("twinid:count", inc),
		cb.Delete().Before("gorm:delete").Register("twinid:count", inc),
		cb.Row().Before("gorm:row").Register("twinid:count", inc),
		cb.Raw().Before("gorm:raw").Register("twinid:count", inc),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// Queries is the number of SQL statements run through this Store so far.
func (s *Store) Queries() uint64 { return s.queries.Load() }

// Dialect is DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Migrate applies the embedded migrations of the dialect that are not applied yet and
// returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrations, "migrations/"+s.dialect)
	if err != nil {
		return nil, err
	}
	d := goose.DialectPostgres
	if s.dialect == DialectSQLite {
		d = goose.DialectSQLite3
	}
	p, err := goose.NewProvider(d, sqlDB, sub)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied := make([]int64, 0, len(res))
	for _, r := range res {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// InTx runs fn in one transaction: either everything it wrote stays, or nothing does.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, dialect: s.dialect, queries: s.queries, now: s.now})
	})
}

func (s *Store) q(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// Page is a cursor page request: rows with an id after After, at most Limit of them.
type Page struct {
	Limit int
	After string
}

// pageOf trims the extra row fetched to tell whether another page exists.
func pageOf[T any](rows []T, limit int, id func(T) string) ([]T, string) {
	if len(rows) > limit {
		rows = rows[:limit]
		return rows, id(rows[len(rows)-1])
	}
	return rows, ""
}

func (p Page) apply(db *gorm.DB, col string) *gorm.DB {
	if p.After != "" {
		db = db.Where(col+" > ?", p.After)
	}
	return db.Order(col).Limit(p.Limit + 1)
}

// DB is the underlying GORM handle, for tests and benchmarks that inspect tables.
func (s *Store) DB() *gorm.DB { return s.db }

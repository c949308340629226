package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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
	// Timeout bounds database work; 0 means DefaultTimeout. It is the connect timeout, the
	// deadline of each statement (waiting for a pooled connection included) and of each
	// transaction, and on Postgres the server-side statement_timeout too, so a database
	// that is down or stuck answers ErrUnavailable instead of holding requests.
	Timeout time.Duration
}

// DefaultTimeout is Config.Timeout when it is not set.
const DefaultTimeout = 5 * time.Second

// Store is the database handle. Its methods are safe for concurrent use.
type Store struct {
	db      *gorm.DB
	dialect string
	queries *atomic.Uint64
	now     func() time.Time
	timeout time.Duration
	// stmts are the prepared statements of the hot reads (prepared.go), by SQL text; each
	// is a *sql.Stmt of the pool, shared by the Stores of its transactions.
	stmts *sync.Map
}

// Open connects to the database. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
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
		dsn, err := postgresDSN(cfg.DatabaseURL, timeout)
		if err != nil {
			return nil, err
		}
		dialector = postgres.Open(dsn)
	default:
		return nil, errors.New("database URL must start with postgres://")
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		TranslateError: true,
		// Open pings below, within the timeout and worded as ErrUnavailable.
		DisableAutomaticPing:   true,
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
	s := &Store{db: db, dialect: dialect, queries: new(atomic.Uint64), now: now, timeout: timeout,
		stmts: new(sync.Map)}
	if err := s.countQueries(); err != nil {
		return nil, err
	}
	if err := s.bound(); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.Ping(pctx); err != nil {
		_ = sqlDB.Close()
		// An operator reads this one: it keeps the driver's words beside the sentinel.
		if cause := Cause(err); cause != nil {
			return nil, fmt.Errorf("connect %s database: %w: %v", dialect, err, cause)
		}
		return nil, fmt.Errorf("connect %s database: %w", dialect, err)
	}
	return s, nil
}

// postgresDSN adds the connect timeout (whole seconds, at least 1) and the server-side
// statement_timeout to the URL, unless it sets them itself.
func postgresDSN(raw string, timeout time.Duration) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// The parse error quotes the URL, password included.
		return "", errors.New("database URL: not a valid URL")
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", strconv.Itoa(max(1, int(timeout.Round(time.Second)/time.Second))))
	}
	if q.Get("statement_timeout") == "" {
		q.Set("statement_timeout", strconv.FormatInt(timeout.Milliseconds(), 10))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
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

// bound gives each statement a deadline and words connection failures as ErrUnavailable,
// whichever method ran it: the sentinels are the contract, and a statement without a
// deadline would hold its request as long as a dead server keeps the socket open. The Row
// processor gets no deadline: its rows are read after the callbacks return, so a deadline
// cancelled there would cut them off (statement_timeout still bounds it on Postgres).
func (s *Store) bound() error {
	const key = "twinid:cancel"
	start := func(db *gorm.DB) {
		ctx, cancel := context.WithTimeout(db.Statement.Context, s.timeout)
		db.Statement.Context = ctx
		db.InstanceSet(key, cancel)
	}
	end := func(db *gorm.DB) {
		if c, ok := db.InstanceGet(key); ok {
			c.(context.CancelFunc)()
		}
		if db.Error != nil && unavailable(db.Error) {
			db.Error = &unavailableError{cause: db.Error}
		}
	}
	cb := s.db.Callback()
	for _, err := range []error{
		cb.Create().Before("*").Register("twinid:deadline", start),
		cb.Query().Before("*").Register("twinid:deadline", start),
		cb.Update().Before("*").Register("twinid:deadline", start),
		cb.Delete().Before("*").Register("twinid:deadline", start),
		cb.Raw().Before("*").Register("twinid:deadline", start),
		cb.Create().After("*").Register("twinid:unavailable", end),
		cb.Query().After("*").Register("twinid:unavailable", end),
		cb.Update().After("*").Register("twinid:unavailable", end),
		cb.Delete().After("*").Register("twinid:unavailable", end),
		cb.Raw().After("*").Register("twinid:unavailable", end),
		// Row gets the wording but no deadline of its own (see above).
		cb.Row().After("*").Register("twinid:unavailable", end),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// Timeout is the bound of database work the store was opened with (Config.Timeout).
func (s *Store) Timeout() time.Duration { return s.timeout }

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
	return translate(sqlDB.PingContext(ctx))
}

// Close closes the prepared statements and the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	s.stmts.Range(func(k, v any) bool {
		_ = v.(io.Closer).Close()
		s.stmts.Delete(k)
		return true
	})
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
// The whole transaction shares one deadline, so a stuck database releases the connection.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, dialect: s.dialect, queries: s.queries, now: s.now, timeout: s.timeout,
			stmts: s.stmts})
	})
	if err != nil && ctx.Err() != nil && !errors.Is(err, ErrUnavailable) {
		// The deadline (or the caller) ended the transaction: database/sql rolled it back
		// (unless its commit had reached the database), and what fails next says only
		// "transaction has already been committed or rolled back". A retry may succeed.
		return &unavailableError{cause: fmt.Errorf("transaction ended: %w: %w", ctx.Err(), err)}
	}
	return translate(err)
}

func (s *Store) q(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// Page is a cursor page request: rows with an id after After, at most Limit of them. A
// Limit of zero or less means DefaultPageLimit, so the zero Page is a usable first page.
type Page struct {
	Limit int
	After string
}

// DefaultPageLimit is the page size of a Page without a positive Limit; it matches the
// default the management API applies when a request names no limit.
const DefaultPageLimit = 20

// size is the effective limit: without it a zero Limit fetched one row and pageOf cut the
// slice at index -1.
func (p Page) size() int {
	if p.Limit <= 0 {
		return DefaultPageLimit
	}
	return p.Limit
}

// pageOf trims the extra row fetched to tell whether another page exists. limit is the
// requested Limit; one of zero or less means DefaultPageLimit, as in Page.apply.
func pageOf[T any](rows []T, limit int, id func(T) string) ([]T, string) {
	limit = Page{Limit: limit}.size()
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
	return db.Order(col).Limit(p.size() + 1)
}

// stamped is q for an Updates that writes the UpdatedAt its caller set: GORM's
// autoUpdateTime would replace it with a reading of its own clock, so the stored time
// was not SetPassword's now and differed from the UpdatedAt left in the caller's struct.
// SkipHooks turns that off (and model hooks, of which there are none on updates).
func (s *Store) stamped(ctx context.Context) *gorm.DB {
	return s.q(ctx).Session(&gorm.Session{SkipHooks: true})
}

// stamp is an update time: Config.Now in UTC at the microsecond Postgres keeps, as
// GORM's NowFunc gives for created_at.
func (s *Store) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// DB is the underlying GORM handle, for tests and benchmarks that inspect tables.
func (s *Store) DB() *gorm.DB { return s.db }

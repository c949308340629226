package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Sentinel errors are the storage contract: callers match them with errors.Is and never look
// at driver errors.
var (
	// ErrNotFound: no row matched.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique key (name, scope string, client id, ...) is taken.
	ErrConflict = errors.New("already exists")
	// ErrInUse: the row is still referenced by another (a foreign key forbids the delete).
	ErrInUse = errors.New("in use")
	// ErrUnavailable: the database cannot be reached, failed the connection, or did not
	// answer in time. Retrying later may succeed. Its text names nothing of the driver, the
	// SQL or the address, so it is safe to word for a client; Cause gives the original
	// error for the logs.
	ErrUnavailable = errors.New("database unavailable")
)

// unavailableError is ErrUnavailable carrying the driver's error for the logs only: it does
// not unwrap to it, so no caller can match on (or print) driver details by accident.
type unavailableError struct{ cause error }

func (e *unavailableError) Error() string        { return ErrUnavailable.Error() }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// LogValue keeps the cause in log lines that pass the error itself ("err", err): operators
// need it, clients never see logs.
func (e *unavailableError) LogValue() slog.Value {
	return slog.StringValue(ErrUnavailable.Error() + ": " + e.cause.Error())
}

// Cause is the driver error behind an ErrUnavailable, for logging; nil for other errors.
func Cause(err error) error {
	var ue *unavailableError
	if errors.As(err, &ue) {
		return ue.cause
	}
	return nil
}

// unavailable reports whether err means the database is down, unreachable or too slow,
// rather than that the statement itself was wrong.
func unavailable(err error) bool {
	var (
		pe *pgconn.PgError
		ce *pgconn.ConnectError
		ne net.Error
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &ce), errors.As(err, &ne), pgconn.Timeout(err):
		return true
	case errors.As(err, &pe):
		// Class 08: connection exception. 57014: query_canceled (statement_timeout);
		// 57P01-57P03: the server is shutting down or not accepting connections yet;
		// 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57014" || strings.HasPrefix(pe.Code, "57P") ||
			pe.Code == "53300"
	}
	msg := err.Error()
	// What pgx says of a connection that died under it, SQLite's busy_timeout expiring, and
	// a SQLite statement interrupted when its context's deadline passed.
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "database is locked") ||
		strings.Contains(msg, "SQLSTATE 57014") || strings.Contains(msg, "SQLITE_INTERRUPT")
}

// translate maps driver errors to the sentinels. gorm's TranslateError does the work for
// Postgres and for SQLite's extended codes; the string checks catch what slips through
// (errors wrapped by the migration or raw-SQL paths).
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnavailable):
		return err
	case unavailable(err):
		return &unavailableError{cause: err}
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return ErrConflict
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return ErrInUse
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "SQLSTATE 23505"):
		return ErrConflict
	case strings.Contains(msg, "FOREIGN KEY constraint failed"), strings.Contains(msg, "SQLSTATE 23503"):
		return ErrInUse
	}
	return err
}

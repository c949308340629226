package store

import (
	"errors"
	"strings"

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
)

// translate maps driver errors to the sentinels. gorm's TranslateError does the work for
// Postgres and for SQLite's extended codes; the string checks catch what slips through
// (errors wrapped by the migration or raw-SQL paths).
func translate(err error) error {
	switch {
	case err == nil:
		return nil
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

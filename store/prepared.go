package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// The hot reads (a client with its secrets and scopes or grants, loaded once per client and
// cache TTL on every node) skip GORM: building the statement and scanning by reflection
// cost more than the query, and SQLite parsed the same SQL text again for every statement.
// They run fixed SQL through database/sql, prepared once per pool, with what the GORM
// callbacks give every other statement (store.go): the count (Queries), the deadline
// (Config.Timeout) and the sentinel errors.

// each runs the read text (placeholders ?) with args and calls scan on each row.
func (s *Store) each(ctx context.Context, text string, args []any, scan func(*sql.Rows) error) error {
	s.queries.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	rows, err := s.rows(ctx, text, args)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return translate(err)
		}
	}
	return translate(rows.Err())
}

// rows runs text on the pool through its prepared statement, or unprepared on the
// connection of the transaction s runs in.
func (s *Store) rows(ctx context.Context, text string, args []any) (*sql.Rows, error) {
	db, ok := s.db.Statement.ConnPool.(*sql.DB)
	if !ok {
		return s.db.Statement.ConnPool.QueryContext(ctx, s.rebind(text), args...)
	}
	if st, ok := s.stmts.Load(text); ok {
		return st.(*sql.Stmt).QueryContext(ctx, args...)
	}
	st, err := db.PrepareContext(ctx, s.rebind(text))
	if err != nil {
		return nil, err
	}
	if prev, raced := s.stmts.LoadOrStore(text, st); raced {
		_ = st.Close()
		st = prev.(*sql.Stmt)
	}
	return st.QueryContext(ctx, args...)
}

// rebind writes the placeholders of text as the dialect wants them: Postgres numbers them.
// The statements are the store's own and hold no ? in a literal.
func (s *Store) rebind(text string) string {
	if s.dialect != DialectPostgres {
		return text
	}
	var b strings.Builder
	n := 0
	for _, part := range strings.SplitAfter(text, "?") {
		if strings.HasSuffix(part, "?") {
			n++
			part = part[:len(part)-1] + "$" + strconv.Itoa(n)
		}
		b.WriteString(part)
	}
	return b.String()
}

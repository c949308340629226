// Package store is twinid's persistence: GORM models, versioned migrations and queries, on
// the embedded SQLite database (pure Go) or on Postgres. It knows nothing of HTTP.
package store

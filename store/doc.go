// Package store is twinid's persistence: GORM models, versioned migrations per dialect and
// queries, on the embedded SQLite database (pure Go) or on Postgres. It knows nothing of
// HTTP or of the API types.
//
// The Store hands out one small type per table group (Accounts, Scopes, Clients, Secrets,
// Grants, Customers, Codes, Throttle, Tokens, Sessions, AuthCodes, Keys, Events; see groups.go),
// each in the file of its tables. Driver errors are translated at this boundary into the
// sentinels ErrNotFound, ErrConflict, ErrInUse (and ErrLimit, ErrRotated, ErrRevoked,
// ErrUsed where documented); callers match them with errors.Is. A database that is down,
// unreachable or slower than Config.Timeout gives ErrUnavailable from any method, so a
// caller can answer "retry later" without reading driver text. Times are stored in UTC.
// Writes that span tables run in one transaction (InTx). The conformance suite in storetest
// runs every method on every dialect. The protocol's hot read (Clients.ForProtocol) runs
// fixed SQL through database/sql instead of GORM, with the same count, deadline and errors
// (prepared.go).
//
// It imports only GORM, its drivers and goose. Start with Open and Migrate in store.go.
package store

// Package audit records the audit trail: each security-relevant event is written to the
// store's events table and as one structured log line ("audit", at Info).
//
// Contract: a surface or a domain package calls Recorder.Record once the change it reports
// has happened (after its transaction committed), so a failed request records no change.
// Record fills in what the request context knows: the time (the server's one clock), the
// source address and request id (reqctx.Info), and, when the caller names no actor, the
// management principal (reqctx.Principal: an admin client, or a person signed in with a
// customer token) or else "anonymous". An Event carries ids and names only; no field
// ever holds a secret, password, token or code. A failure to store an event is logged and
// does not fail the request whose change already stands.
//
// It may import reqctx, store and gen (layer 2). Start with Record in audit.go.
package audit

// Package login authenticates customers: the throttled password check (a hashing worker
// taken first, so that a refusal for a full pool writes nothing; then attempts reserved
// per identifier and per address before any hash), password hashing through the bounded
// argon2id pool, emailed verification codes for resets and invitations (a reset request is
// worked in the background, so that its answer and its time tell nothing: RequestReset,
// RunResets), and the normal forms of emails and phone numbers.
//
// Domain errors: ErrBadCredentials, ErrBusy, ErrBadCode, *LockedOut, *RequestError; each
// surface words them in its own dialect. It imports tokens' lower layers (account, keys,
// metrics), mail, passwords and store (layer 5). Start with Login.Check.
package login

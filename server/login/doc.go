// Package login authenticates customers: the throttled password check (a hashing worker
// taken first, so that a refusal for a full pool writes nothing; then attempts reserved
// per identifier and per address before any hash), password hashing through the bounded
// argon2id pool, emailed verification codes for resets and invitations (a reset request is
// worked in the background, so that its answer and its time tell nothing: RequestReset,
// RunResets), and the normal forms of emails and phone numbers.
// Second factors: TOTP (RFC 6238, totp.go; secrets sealed with the master key, a time step
// accepted once), recovery codes (keyed hashes, single use), the mfa policy (account
// setting tightened by the client), and the single-use mfa_token of an API login
// (mfatoken.go). Wrong codes are throttled per customer with the password's limits.
//
// Domain errors: ErrBadCredentials, ErrBusy, ErrBadCode, ErrBadOTP, ErrMFAToken, *LockedOut, *RequestError; each
// surface words them in its own dialect. It imports tokens' lower layers (account, keys,
// metrics), mail, passwords and store (layer 5). Start with Login.Check.
package login

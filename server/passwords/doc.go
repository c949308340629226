// Package passwords hashes and verifies user passwords with argon2id and
// enforces the password policy.
//
// # Hashing
//
// [Hash] and [Verify] use argon2id (RFC 9106) and store the result as a PHC
// string:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// where salt and hash are unpadded standard base64 (the encoding used by the
// argon2 reference implementation). [Default] holds the OWASP-recommended
// parameters (m=19 MiB, t=2, p=1). Verify reports needsRehash when the
// stored parameters are weaker than the current ones, so callers can upgrade
// the stored hash after a successful login.
//
// Parameters read from a stored string are bounded (memory ≤ 1 GiB,
// time ≤ 100, salt and key ≤ 1 KiB) so that a corrupted or hostile row cannot
// make the server allocate unbounded memory or spin forever.
//
// # Memory use under load
//
// Every argon2id computation allocates Memory KiB for its whole duration.
// Calling Hash or Verify directly from request handlers therefore lets a
// flood of login attempts allocate Memory KiB per concurrent request, which
// can exhaust the process. [Pool] bounds this: at most `workers` hashes run at
// once, at most `queue` further callers wait (holding no argon2 memory while
// they wait), and everyone else fails fast with [ErrBusy]. Peak argon2 memory
// is therefore ≈ workers × Memory (e.g. 4 workers × 19 MiB ≈ 76 MiB with
// [Default]), independent of the request rate. A stored hash made with a larger
// m than the pool's Params costs its own m while it is verified, so the hard
// upper bound is workers × max(Memory, largest stored m) ≤ workers × 1 GiB.
// With Threads > 1 each hash also uses Threads goroutines, so CPU concurrency
// is workers × Threads.
//
// # Policy
//
// [Check] enforces the password policy: 8 to 256 characters (Unicode code
// points after NFC normalisation), no control characters, and not in the
// embedded list of common passwords.
//
// It imports nothing of the project. Start with Hash and Verify in argon2id.go, then Pool.
package passwords

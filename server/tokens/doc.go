// Package tokens issues and verifies twinid's tokens: access tokens (RFC 9068 JWTs, with a
// per-node cache of verified ones), OpenID Connect ID tokens, and refresh tokens in rotation
// families with reuse detection.
//
// Domain errors: a rejected access token is an *InvalidError; a refused refresh exchange
// is one of the ErrRefresh values. Each surface maps them to its dialect.
//
// It imports keys, account, cache, metrics, reqctx and store, and jwx (layer 4). Start with
// Tokens.Issue and Tokens.Verify.
package tokens

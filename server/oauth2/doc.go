// Package oauth2 is the RFC 6749 vocabulary shared by the protocol endpoints: the error
// codes as immutable values (fosite style: ErrInvalidGrant.WithDescription(...), matched
// with errors.Is), the grant type names, the body-only parameter reader, and the error
// writer.
//
// It imports nothing of the project (layer 1). Start with Error.
package oauth2

// Package protocol holds the RFC 6749 endpoints and the customer API of
// openapi/openapi.yaml: the token endpoint (the request parsed once, one small type per
// grant in grant_*.go, the shared steps run in one place by CreateToken), revocation
// (RFC 7009), introspection (RFC 7662), UserInfo, discovery and the JWKS, customer login,
// password reset start, and the password setter.
//
// OAuth handlers pass every error through oauthError, the one function that words domain
// errors (clients, login, tokens) in RFC 6749 form; the password setter answers in
// problem+json. It imports the layers below it (reqctx, problem, oauth2, ratelimit,
// metrics, account, keys, tokens, clients, login) and store, gen, passwords; never echo,
// jwx, GORM or another surface. Start with CreateToken in token.go.
package protocol

// Package upstream is login through an upstream OpenID Connect provider ("Login with
// Vipps", the customer API of openapi/openapi.yaml): twinid is the provider's client, with PKCE and a nonce,
// verifies its ID token, links the identity to a customer (by a stored link, or a verified
// email or phone number when the grant allows), and issues the customer's access token.
//
// UpstreamAuthorize answers with pages, UpstreamToken in RFC 6749 form. It imports the
// layers below it (reqctx, oauth2, page, cache, account, keys, tokens, clients, login) and
// store, gen, and go-oidc, which checks the provider's ID token; never echo, GORM or another
// surface. Start with UpstreamAuthorize.
package upstream

// Package pages holds the hosted browser endpoints: the authorization endpoint with PKCE
// (RFC 6749 §4.1, RFC 7636), the login form with its SSO session, logout (OpenID Connect
// RP-initiated logout), the forgot-password, reset and accept-invitation forms, the
// second step of a sign-in (TOTP or recovery code, or a first enrolment; step-up for
// acr_values) and the signed-in customer's factors page (factors.go).
//
// Errors are pages (page.Error); a refused sign-in or code is worded for the person in
// one function, failure, and shown on the form again. Forms carry CSRF cookies; the login
// form carries the authorization request sealed with the master key. It imports the
// layers below it (reqctx, oauth2, page, account, keys, tokens, clients, login) and store,
// gen, passwords; never echo, jwx, GORM or another surface. Start with Authorize.
package pages

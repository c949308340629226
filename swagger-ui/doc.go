// Package swaggerui serves an embedded, pinned copy of Swagger UI 5
// (npm package swagger-ui-dist, see Version) that is pre-wired for the OAuth 2
// authorization code flow with PKCE.
//
// The page contains no inline script: the configuration is rendered into a
// separate swagger-initializer.js (values JSON-encoded on the Go side), so the
// UI works under a Content-Security-Policy such as
//
//	default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'
//
// To bump the pinned version run ./update.sh <version> in this directory.
//
// It imports nothing of the project; the server mounts Handler at /swagger/. Start with
// Handler.
package swaggerui

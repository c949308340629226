package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/twinid/twinid/server/reqctx"
)

// CORS (the Fetch standard's CORS protocol; RFC 6749 says nothing of it): a browser app on
// another origin may call the API when a client of the account lists that origin exactly in
// its allowedOrigins, as Keycloak's web origins and Auth0's allowed origins work. The
// answer then names that one origin (never *) and allows credentials, so the upstream
// login's cookie reaches /auth/oidc/token from a fetch with credentials: "include". Every
// other origin gets no CORS header at all, and the browser keeps the answer from it.
const (
	corsMethods = "GET, POST, PUT, PATCH, DELETE"
	corsHeaders = "Authorization, Content-Type"
	// corsExpose are the answers' headers a script may read besides the safelisted ones.
	corsExpose = "Location, Retry-After, WWW-Authenticate, X-Request-Id, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset"
	// corsMaxAge is how long (seconds) a browser may reuse a preflight; Chromium caps it at 7200.
	corsMaxAge = "600"
)

// varyOrigin is the Vary of every /v1 answer, one value shared as secureHeaders' are, so
// setting it allocates nothing; no other code sets or appends to Vary.
var varyOrigin = []string{echo.HeaderOrigin}

// cors answers preflights (OPTIONS with Access-Control-Request-Method) itself and adds the
// CORS headers to the answers of the API: every /v1 operation that is not a hosted page.
// The protocol endpoints (token, revoke, introspect, UserInfo, customer login and
// change_password, the upstream token endpoint, discovery, JWKS) allow the origins of the
// account in the path; the Management API those and the origins of the root account's
// clients, whose admins manage every account. A request without Origin costs nothing here.
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			return next(c)
		}
		h := c.Response().Header()
		// The answer differs by Origin: shared caches must keep them apart.
		h[echo.HeaderVary] = varyOrigin
		origin := r.Header.Get(echo.HeaderOrigin)
		if origin == "" {
			return next(c) // not a browser's cross-origin request: nothing to decide
		}
		aids := s.corsAccounts(r)
		if aids == nil {
			return next(c)
		}
		preflight := r.Method == http.MethodOptions && r.Header.Get(echo.HeaderAccessControlRequestMethod) != ""
		allowed, err := s.clients.AllowsOrigin(r.Context(), origin, aids...)
		if err != nil {
			return err
		}
		if allowed {
			h.Set(echo.HeaderAccessControlAllowOrigin, origin)
			h.Set(echo.HeaderAccessControlAllowCredentials, "true")
		}
		if !preflight {
			if allowed {
				h.Set(echo.HeaderAccessControlExposeHeaders, corsExpose)
			}
			return next(c)
		}
		// A refused preflight is the same 204 without the allowing headers: the browser
		// then sends nothing, and the answer says no more about the account.
		if allowed {
			h.Set(echo.HeaderAccessControlAllowMethods, corsMethods)
			h.Set(echo.HeaderAccessControlAllowHeaders, corsHeaders)
			h.Set(echo.HeaderAccessControlMaxAge, corsMaxAge)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// corsAccounts are the accounts whose clients' origins a request to this path may come
// from; nil where CORS does not apply (hosted pages, paths outside /v1, URLs no account
// can have).
func (s *Server) corsAccounts(r *http.Request) []string {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/accounts")
	if !ok {
		return nil
	}
	if rest == "" || rest == "/" {
		return []string{reqctx.RootAID}
	}
	aid, _, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	// No account has an empty id, a NUL or invalid UTF-8 in it. cors runs before prepare,
	// which refuses such URLs only later, in the API group: the check here keeps them from
	// the origins lookup, whose store query Postgres would fail (text cannot hold a NUL).
	if aid == "" || unusableString(aid) {
		return nil
	}
	switch s.dialects.of(r.URL.Path) {
	case pageDialect:
		return nil
	case oauthDialect:
		return []string{aid}
	}
	if aid == reqctx.RootAID {
		return []string{aid}
	}
	return []string{aid, reqctx.RootAID}
}

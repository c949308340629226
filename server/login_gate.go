package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/twinid/twinid/server/protocol"
)

// loginRoute is the route of customer password logins (loginCustomer in
// openapi/openapi.yaml).
const loginRoute = "/v1/accounts/:aid/customers/login"

// shedLogins refuses a customer login while the password pool is full, before its body is
// read or its client token checked, with the 503 and Retry-After the pool's own refusal
// answers: under a flood, a refused login then costs neither a signature check nor a
// database statement, and the core stays with the logins the pool serves. The refusal is
// counted and logged once per overload (login.Login.Shed), not per request: no access line
// is written for it.
func (s *Server) shedLogins(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Path() != loginRoute || c.Request().Method != http.MethodPost {
			return next(c)
		}
		if s.login.Shed(c.Request().Context()) {
			c.Set(shedKey, true)
			return protocol.Busy()
		}
		// A login that passed here may still find the pool full (or wait in its queue past
		// the pool's bound): the same refusal, logged the same way.
		err := next(c)
		if protocol.IsBusy(err) {
			c.Set(shedKey, true)
		}
		return err
	}
}

// shedKey marks a request refused for overload in its echo.Context: the access log skips
// it (the overload is logged once, and counted).
const shedKey = "twinid.shed"

// shed reports whether the request was refused for overload.
func shed(c echo.Context) bool {
	v, _ := c.Get(shedKey).(bool)
	return v
}

package server

import (
	"github.com/labstack/echo/v4"

	"github.com/twinid/twinid/gen"
)

// tokenRoute is the generated handler with the token endpoint's binding left out. prepare
// already read and checked its body against the document (oauth2.ReadParams into
// reqctx.Params), and the endpoint reads only those; the generated strict handler would
// parse the form again, into a body nothing reads. The route, the path parameter and the
// answers stay the generated ones.
type tokenRoute struct {
	gen.ServerInterface
	s *Server
}

// CreateToken runs the token endpoint on the parameters prepare read.
func (t tokenRoute) CreateToken(c echo.Context, aid gen.Aid) error {
	res, err := t.s.CreateToken(c.Request().Context(), gen.CreateTokenRequestObject{Aid: aid})
	if err != nil {
		return err
	}
	return res.VisitCreateTokenResponse(c.Response())
}

package server

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/twinid/twinid/gen"
)

// tokenRoute is the generated handler with the RFC 6749 endpoints' binding left out. prepare
// already read and checked their bodies against the document (oauth2.ReadParams into
// reqctx.Params), and the endpoints read only those; the generated strict handler would
// parse the form (or decode the JSON) again, into a body nothing reads. The routes, the path
// parameter and the answers stay the generated ones.
type tokenRoute struct {
	gen.ServerInterface
	s *Server
}

// runOnParams calls an endpoint with the request object of its path parameter alone and writes its
// answer as the generated strict handler does.
func runOnParams[Req, Res any](c echo.Context, endpoint func(context.Context, Req) (Res, error), req Req, visit func(Res, http.ResponseWriter) error) error {
	res, err := endpoint(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return visit(res, c.Response())
}

// The RFC 6749 endpoints run on the parameters prepare read: the token endpoint, revocation
// (RFC 7009), introspection (RFC 7662), the customer login (from a form or a JSON body
// alike), the password reset request and UserInfo by POST.
func (t tokenRoute) CreateToken(c echo.Context, aid gen.Aid) error {
	return runOnParams(c, t.s.CreateToken, gen.CreateTokenRequestObject{Aid: aid}, gen.CreateTokenResponseObject.VisitCreateTokenResponse)
}

func (t tokenRoute) RevokeToken(c echo.Context, aid gen.Aid) error {
	return runOnParams(c, t.s.RevokeToken, gen.RevokeTokenRequestObject{Aid: aid}, gen.RevokeTokenResponseObject.VisitRevokeTokenResponse)
}

func (t tokenRoute) IntrospectToken(c echo.Context, aid gen.Aid) error {
	return runOnParams(c, t.s.IntrospectToken, gen.IntrospectTokenRequestObject{Aid: aid}, gen.IntrospectTokenResponseObject.VisitIntrospectTokenResponse)
}

func (t tokenRoute) LoginCustomer(c echo.Context, aid gen.Aid) error {
	return runOnParams(c, t.s.LoginCustomer, gen.LoginCustomerRequestObject{Aid: aid}, gen.LoginCustomerResponseObject.VisitLoginCustomerResponse)
}

func (t tokenRoute) RequestPasswordChange(c echo.Context, aid gen.Aid) error {
	return runOnParams(c, t.s.RequestPasswordChange, gen.RequestPasswordChangeRequestObject{Aid: aid}, gen.RequestPasswordChangeResponseObject.VisitRequestPasswordChangeResponse)
}

func (t tokenRoute) PostUserInfo(c echo.Context, aid gen.Aid) error {
	return runOnParams(c, t.s.PostUserInfo, gen.PostUserInfoRequestObject{Aid: aid}, gen.PostUserInfoResponseObject.VisitPostUserInfoResponse)
}

package protocol

import (
	"context"
	"errors"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/server/tokens"
)

// GetUserInfo implements GET .../userinfo (OpenID Connect Core §5.3).
func (e *Endpoints) GetUserInfo(ctx context.Context, req gen.GetUserInfoRequestObject) (_ gen.GetUserInfoResponseObject, err error) {
	defer mapped(&err)
	info, err := e.userInfo(ctx, req.Aid, "")
	if err != nil {
		return nil, err
	}
	return gen.GetUserInfo200JSONResponse(*info), nil
}

// PostUserInfo implements POST .../userinfo (token in the header or the form body, RFC 6750
// §2.2).
func (e *Endpoints) PostUserInfo(ctx context.Context, req gen.PostUserInfoRequestObject) (_ gen.PostUserInfoResponseObject, err error) {
	defer mapped(&err)
	body := ""
	if p := reqctx.ParamsFrom(ctx); p != nil {
		body = p.Get("access_token")
	}
	info, err := e.userInfo(ctx, req.Aid, body)
	if err != nil {
		return nil, err
	}
	return gen.PostUserInfo200JSONResponse(*info), nil
}

// userInfo checks the customer's access token (from the header or the body, not both:
// RFC 6750 §2) and returns the claims its scopes release.
func (e *Endpoints) userInfo(ctx context.Context, aid, bodyToken string) (*gen.UserInfo, error) {
	bad := func(desc string) error {
		return oauth2.ErrInvalidToken.WithDescription(desc).WithHeader("WWW-Authenticate", `Bearer realm="twinid", error="invalid_token"`)
	}
	tok, ok := oauth2.BearerOf(reqctx.InfoFrom(ctx).Authorization)
	if ok && bodyToken != "" {
		return nil, oauth2.InvalidRequest("send the access token once: in the Authorization header or in the body")
	}
	if !ok {
		tok = bodyToken
	}
	if tok == "" {
		return nil, bad("an access token is required")
	}
	c, err := e.Tokens.Verify(ctx, tok)
	if err != nil || c.AID != aid || c.IsClient() {
		return nil, bad("the access token is not valid")
	}
	if !c.Has("openid") {
		return nil, oauth2.ErrInsufficientScope.WithDescription("the token lacks the scope openid").
			WithHeader("WWW-Authenticate", `Bearer realm="twinid", error="insufficient_scope", scope="openid"`)
	}
	cu, err := e.Tokens.Standing(ctx, c)
	var inv *tokens.InvalidError
	if errors.As(err, &inv) {
		return nil, bad(inv.Detail)
	}
	if err != nil {
		return nil, err
	}
	out := &gen.UserInfo{Sub: cu.ID, AdditionalProperties: map[string]any{}}
	for k, v := range tokens.StandardClaims(cu, c.Scopes) {
		switch k {
		case "name":
			n := v.(string)
			out.Name = &n
		case "email":
			em := v.(string)
			out.Email = &em
		case "email_verified":
			b := v.(bool)
			out.EmailVerified = &b
		case "phone_number":
			ph := v.(string)
			out.PhoneNumber = &ph
		case "phone_number_verified":
			b := v.(bool)
			out.PhoneNumberVerified = &b
		default:
			out.AdditionalProperties[k] = v
		}
	}
	return out, nil
}

package pages

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/reqctx"
)

// Logout implements GET .../auth/logout (RP-initiated logout).
func (p *Pages) Logout(ctx context.Context, req gen.LogoutRequestObject) (gen.LogoutResponseObject, error) {
	return p.logout(ctx, req.Aid, req.Params)
}

// LogoutForm implements POST .../auth/logout: the same request, form-serialized (OpenID
// Connect RP-Initiated Logout 1.0 §2), answered by the same code. Only the body is read.
func (p *Pages) LogoutForm(ctx context.Context, req gen.LogoutFormRequestObject) (gen.LogoutFormResponseObject, error) {
	var b gen.LogoutForm
	if req.Body != nil {
		b = *req.Body
	}
	res, err := p.logout(ctx, req.Aid, gen.LogoutParams{IDTokenHint: b.IDTokenHint,
		PostLogoutRedirectURI: b.PostLogoutRedirectURI, ClientID: b.ClientID, State: b.State,
		TwinidSession: req.Params.TwinidSession})
	if err != nil {
		return nil, err
	}
	return logoutFormResponse{res}, nil
}

// logoutFormResponse answers the POST exactly as the GET: the document gives both the same
// responses.
type logoutFormResponse struct{ gen.LogoutResponseObject }

func (r logoutFormResponse) VisitLogoutFormResponse(w http.ResponseWriter) error {
	return r.VisitLogoutResponse(w)
}

// logout is RP-initiated logout for both methods.
func (p *Pages) logout(ctx context.Context, aid string, q gen.LogoutParams) (gen.LogoutResponseObject, error) {
	acct, err := p.account(ctx, aid)
	if err != nil {
		return nil, err
	}
	clientID := page.Str(q.ClientID)
	if hint := page.Str(q.IDTokenHint); hint != "" {
		t, err := p.Tokens.VerifyIDToken(ctx, acct.AID, hint)
		if err != nil {
			return nil, page.Fail(http.StatusBadRequest, "The id_token_hint is not an ID token of this account.")
		}
		aud, _ := t["aud"].(string)
		if clientID != "" && clientID != aud {
			return nil, page.Fail(http.StatusBadRequest, "client_id does not match the id_token_hint.")
		}
		clientID = aud
	}
	target := page.Str(q.PostLogoutRedirectURI)
	if target != "" {
		cc, err := p.Clients.Get(ctx, acct.AID, clientID)
		if err != nil {
			return nil, err
		}
		if cc == nil || !slices.Contains(cc.PostLogoutRedirectURIs, target) {
			return nil, page.Fail(http.StatusBadRequest, "The post_logout_redirect_uri is not registered for this application.")
		}
	}
	ri := reqctx.InfoFrom(ctx)
	if se, _ := p.currentSession(ctx, acct.AID, ri); se != nil {
		if err := p.Store.Sessions().Delete(ctx, se.ID); err != nil {
			return nil, err
		}
	}
	p.setCookie(ri, acct.AID, sessionCookie, "", -1)
	if target != "" {
		v := url.Values{}
		if st := page.Str(q.State); st != "" {
			v.Set("state", st)
		}
		loc := page.WithQuery(target, v)
		return gen.Logout303Response{Headers: gen.Logout303ResponseHeaders{Location: &loc}}, nil
	}
	body, err := page.Render("message", page.Data{Title: "Signed out", Account: account.Effective(acct).EmailSenderName,
		Message: "You are signed out."})
	if err != nil {
		return nil, err
	}
	return page.HTML{Status: http.StatusOK, Body: body}, nil
}

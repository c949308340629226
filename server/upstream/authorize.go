package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// upstreamGrant finds the client's grant with an oidc block for the audience.
func upstreamGrant(cc *clients.Client, audience string) *store.Grant {
	for i, g := range cc.Grants {
		if g.OIDCAuthority != "" && (audience == "" || g.Audience == audience) {
			return &cc.Grants[i]
		}
	}
	return nil
}

// UpstreamAuthorize implements GET .../auth/oidc/authorize.
func (u *Login) UpstreamAuthorize(ctx context.Context, req gen.UpstreamAuthorizeRequestObject) (gen.UpstreamAuthorizeResponseObject, error) {
	acct, err := u.account(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	q := req.Params
	redirect := page.Str(q.RedirectURI)
	cc, err := u.Clients.ForRedirect(ctx, acct.AID, page.Str(q.ClientID), redirect)
	var re *clients.RedirectError
	if errors.As(err, &re) {
		return nil, page.Unregistered(re.Param)
	}
	if err != nil {
		return nil, err
	}
	if page.Str(q.ResponseType) != "code" {
		return nil, page.Fail(http.StatusBadRequest, "Only response_type=code is supported.")
	}
	g := upstreamGrant(cc, page.Str(q.Audience))
	if g == nil {
		return nil, page.Fail(http.StatusBadRequest, "The application has no upstream login for this audience.")
	}
	meta, err := u.provider(ctx, g.OIDCAuthority)
	if err != nil {
		u.Log.Warn("upstream login: provider unavailable", "authority", g.OIDCAuthority, "err", err)
		return nil, page.Fail(http.StatusBadGateway, "The identity provider cannot be reached. Try again later.")
	}
	verifier := keys.NewJTI() + keys.NewJTI()
	st := upstreamLogin{ClientID: cc.ClientID, RedirectURI: redirect, Audience: g.Audience, Verifier: verifier,
		Nonce: keys.NewJTI(), Exp: u.Now().Add(upstreamTTL).Unix()}
	sealed, err := u.Keyring.SealJSON(st, "upstream:"+acct.AID)
	if err != nil {
		return nil, err
	}
	// The SPA posts the code to /auth/oidc/token with fetch from its own origin; on another
	// site only SameSite=None lets this cookie go along (CORS allows the credentials).
	page.SetCrossSiteCookie(reqctx.InfoFrom(ctx).Header, u.Accounts.HTTPS(), upstreamCookiePath(acct.AID), upstreamCookie, sealed, int(upstreamTTL/time.Second))
	scopes := strings.Fields(page.Str(q.Scope))
	if !slices.Contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	sum := sha256.Sum256([]byte(verifier))
	v := url.Values{"response_type": {"code"}, "client_id": {g.OIDCClientID}, "redirect_uri": {redirect},
		"scope": {strings.Join(scopes, " ")}, "nonce": {st.Nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	if state := page.Str(q.State); state != "" {
		v.Set("state", state)
	}
	loc := page.WithQuery(meta.AuthorizationEndpoint, v)
	return gen.UpstreamAuthorize303Response{Headers: gen.UpstreamAuthorize303ResponseHeaders{Location: &loc}}, nil
}

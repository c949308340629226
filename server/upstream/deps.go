package upstream

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/cache"
	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

// Deps are what the upstream login works with.
type Deps struct {
	Store    *store.Store
	Accounts *account.Accounts
	Keyring  *keys.Keyring
	Tokens   *tokens.Tokens
	Clients  *clients.Clients
	Log      *slog.Logger
	// Audit records linked identities.
	Audit *audit.Recorder
	Now   func() time.Time
	// CacheTTL bounds how long a node trusts a fetched discovery document.
	CacheTTL time.Duration
}

// Login implements the upstream login operations of the generated strict interface.
type Login struct {
	Deps
	providers *cache.Cache[*providerMeta]
}

// New returns the upstream login.
func New(d Deps) *Login {
	return &Login{Deps: d, providers: cache.New[*providerMeta](d.CacheTTL, d.Now)}
}

// account loads the account of the authorization page, a 404 page when unknown.
func (u *Login) account(ctx context.Context, aid string) (*store.Account, error) {
	acct, err := u.Accounts.Get(ctx, aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, page.Fail(http.StatusNotFound, "There is no such account.")
	}
	return acct, err
}

// request parses the token request and loads its account (404 in RFC 6749 form).
func (u *Login) request(ctx context.Context, aid string) (*store.Account, *oauth2.Request, error) {
	values, dup := reqctx.ParamsFrom(ctx).Parts()
	r, err := oauth2.ParseRequest(reqctx.InfoFrom(ctx).Authorization, values, dup)
	if err != nil {
		return nil, nil, err
	}
	acct, err := u.Accounts.Get(ctx, aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, oauth2.InvalidRequest("unknown account").WithStatus(http.StatusNotFound)
	}
	return acct, r, err
}

// providerMeta is the part of an upstream discovery document twinid uses, and the go-oidc
// provider made from it once its issuer is checked. The provider holds the remote JWKS and
// its key cache, so a node fetches the keys again only for an unknown kid or after the
// discovery document expires from the node cache.
type providerMeta struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	SigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
	op                    *oidc.Provider
}

const (
	upstreamCookie     = "twinid_oidc"
	upstreamTTL        = 10 * time.Minute
	upstreamTimeout    = 10 * time.Second
	upstreamMaxBody    = 1 << 20
	upstreamDiscovery  = 10 * time.Minute
	matchEmailScope    = "user:customers:/users?type=customer&email"
	matchPhoneScope    = "user:customers:/users?type=customer&phone_number"
	upstreamScopeStart = "user:customers"
)

// upstreamLogin is what the browser's cookie keeps between the two steps, sealed.
type upstreamLogin struct {
	ClientID    string `json:"c"`
	RedirectURI string `json:"r"`
	Audience    string `json:"a"`
	Verifier    string `json:"v"`
	Nonce       string `json:"n"`
	Exp         int64  `json:"e"`
}

// upstreamCookiePath limits the upstream login cookie to the upstream endpoints.
func upstreamCookiePath(aid string) string { return "/v1/accounts/" + aid + "/auth/oidc" }

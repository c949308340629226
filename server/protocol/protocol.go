package protocol

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/metrics"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/ratelimit"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

// The built-in scopes of the customer API (openapi/openapi.yaml, tag Customers).
const (
	scopeUsers       = "accounts:auth:users"
	scopeRefresh     = "create:accounts:auth:refresh_token"
	scopeSetPassword = "accounts:auth:set_password"
	authAudience     = "api://auth"
	setPasswordTTL   = 10 * time.Minute
)

// Deps are what the protocol endpoints work with.
type Deps struct {
	Store    *store.Store
	Accounts *account.Accounts
	Keyring  *keys.Keyring
	Keys     *keys.Keys
	Tokens   *tokens.Tokens
	Clients  *clients.Clients
	Login    *login.Login
	// Limits are the token buckets of client_credentials (per node or through Redis).
	Limits  ratelimit.Limiter
	Metrics *metrics.Metrics
	Log     *slog.Logger
	// Audit records code replays and password changes.
	Audit *audit.Recorder
	Now   func() time.Time
}

// Endpoints implements the protocol operations of the generated strict interface.
type Endpoints struct{ Deps }

// New returns the protocol endpoints.
func New(d Deps) *Endpoints { return &Endpoints{Deps: d} }

// request parses a protocol request once and loads its account (404 in RFC 6749 form).
func (e *Endpoints) request(ctx context.Context, aid string) (*store.Account, *oauth2.Request, string, error) {
	ri := reqctx.InfoFrom(ctx)
	values, dup := reqctx.ParamsFrom(ctx).Parts()
	r, err := oauth2.ParseRequest(ri.Authorization, values, dup)
	if err != nil {
		return nil, nil, "", err
	}
	acct, err := e.Accounts.Get(ctx, aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, "", oauth2.InvalidRequest("unknown account").WithStatus(http.StatusNotFound)
	}
	return acct, r, ri.Remote, err
}

// authedClient is a client that authenticated at a protocol endpoint.
type authedClient struct {
	*clients.Client
	// token is the client token it authenticated with (Bearer), if any.
	token *reqctx.Claims
	// public: identified by client_id alone (a public client has no secret).
	public bool
}

// loginCapable: the client may log customers in (its token, or its grants, carry
// accounts:auth:users).
func (ac *authedClient) loginCapable() bool {
	if ac.token != nil {
		return ac.token.Has(scopeUsers)
	}
	return !ac.public && ac.Holds(scopeUsers)
}

// clientFor authenticates the client of a protocol request: HTTP Basic or client_secret, a
// client token of this account as Bearer, or client_id alone for a public client. The
// request's log line names the client it found (Clients.Authenticate notes a secret's
// client itself, for the endpoints that call it directly).
func (e *Endpoints) clientFor(ctx context.Context, aid string, r *oauth2.Request, remote string) (*authedClient, error) {
	ac, err := e.findClient(ctx, aid, r, remote)
	if a := reqctx.AuthFrom(ctx); err == nil && a != nil {
		a.Client = ac.ClientID
	}
	return ac, err
}

func (e *Endpoints) findClient(ctx context.Context, aid string, r *oauth2.Request, remote string) (*authedClient, error) {
	switch {
	case r.Bearer != "":
		c, err := e.Tokens.Verify(ctx, r.Bearer)
		if err != nil {
			if tokens.IsInvalid(err) {
				return nil, oauth2.ErrInvalidClient
			}
			return nil, err
		}
		if c.AID != aid || !c.IsClient() || (r.ClientID != "" && r.ClientID != c.ClientID) {
			return nil, oauth2.ErrInvalidClient
		}
		cc, err := e.Clients.Get(ctx, aid, c.ClientID)
		if err != nil {
			return nil, err
		}
		if cc == nil {
			return nil, oauth2.ErrInvalidClient
		}
		return &authedClient{Client: cc, token: c}, nil
	case r.ClientSecret != "":
		cc, err := e.Clients.Authenticate(ctx, aid, r.ClientID, r.ClientSecret, remote)
		if err != nil {
			return nil, err
		}
		return &authedClient{Client: cc}, nil
	case r.ClientID != "":
		cc, err := e.Clients.Get(ctx, aid, r.ClientID)
		if err != nil {
			return nil, err
		}
		if cc == nil || cc.Kind != store.KindPublic {
			return nil, oauth2.ErrInvalidClient
		}
		return &authedClient{Client: cc, public: true}, nil
	}
	return nil, oauth2.ErrInvalidClient
}

// oauthError is the one place the protocol endpoints word domain errors in RFC 6749 form;
// every OAuth handler passes its error through it. Anything else stays an internal error.
func oauthError(err error) error {
	if err == nil {
		return nil // before the targets of errors.As, which live on the heap
	}
	var th *clients.Throttled
	var se *clients.ScopeError
	var lo *login.LockedOut
	var re *login.RequestError
	switch {
	case errors.Is(err, clients.ErrBadSecret):
		return oauth2.ErrInvalidClient
	case errors.As(err, &th):
		return oauth2.RetryLater(http.StatusTooManyRequests, strconv.Itoa(th.RetryAfter),
			"too many failed client authentications; retry later")
	case errors.As(err, &se):
		return oauth2.InvalidScope(se.Detail)
	case errors.Is(err, login.ErrBadCredentials), errors.Is(err, login.ErrBadCode),
		errors.Is(err, login.ErrBadOTP), errors.Is(err, login.ErrMFAToken):
		return oauth2.InvalidGrant(err.Error())
	case errors.Is(err, login.ErrBusy):
		return Busy()
	case errors.As(err, &lo):
		d := "too many failed logins; try again in " + strconv.Itoa(lo.Seconds()) + " seconds"
		if lo.Codes {
			d = "too many wrong verification codes; retry later"
		}
		return oauth2.RetryLater(http.StatusTooManyRequests, strconv.Itoa(lo.Seconds()), d)
	case errors.As(err, &re):
		return oauth2.InvalidRequest(re.Detail)
	case errors.Is(err, tokens.ErrRefreshInvalid), errors.Is(err, tokens.ErrRefreshOtherClient),
		errors.Is(err, tokens.ErrRefreshExpired), errors.Is(err, tokens.ErrRefreshCustomer),
		errors.Is(err, tokens.ErrRefreshReused):
		return oauth2.InvalidGrant(err.Error())
	}
	return err
}

// busyDescription is the error_description of Busy.
const busyDescription = "too many logins at once; retry in a second"

// Busy is the answer to a login the password pool refuses: 503 with Retry-After, in RFC 6749
// form.
func Busy() *oauth2.Error {
	return oauth2.RetryLater(http.StatusServiceUnavailable, "1", busyDescription)
}

// IsBusy reports whether err is the answer Busy gives.
func IsBusy(err error) bool {
	var oe *oauth2.Error
	return errors.As(err, &oe) && oe.Status == http.StatusServiceUnavailable && oe.Description == busyDescription
}

// mapped passes a handler's error through oauthError (deferred by every OAuth handler).
func mapped(err *error) { *err = oauthError(*err) }

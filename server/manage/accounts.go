package manage

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// BuiltinScope is a scope every account's catalogue starts with; built-in scopes are
// read-only (see Scope.builtin in openapi/openapi.yaml).
type BuiltinScope struct{ ServiceName, Audience, Scope, Description string }

// BuiltinScopes are in every account's catalogue: the management scopes its admins hold
// and the scopes of customer login.
var BuiltinScopes = []BuiltinScope{
	{"ManagementAPI", reqctx.ManagementAudience, reqctx.ScopeManage, "Full management of the account"},
	{"ManagementAPI", reqctx.ManagementAudience, reqctx.ScopeRead, "Read-only management of the account"},
	{"Auth", "api://auth", "accounts:auth:users", "Log in and create end users"},
	{"Auth", "api://auth", "create:accounts:auth:refresh_token", "Issue refresh tokens at login"},
}

// NewAccountRows builds an account with its built-in scopes and first signing keys, active
// from now, for CreateAccount and the server's bootstrap to store in one go. An account
// that names no signingAlg stores the default one, which it keeps if the default changes.
func NewAccountRows(k *keys.Keys, now time.Time, aid, name string, set store.AccountSettings) (*store.Account, []store.Scope, []*store.SigningKey, error) {
	now = now.UTC()
	if set.SigningAlg == "" {
		set.SigningAlg = account.DefaultSigningAlg
	}
	a := &store.Account{AID: aid, Name: name, Settings: set, CreatedAt: now, UpdatedAt: now}
	scopes := make([]store.Scope, len(BuiltinScopes))
	for i, b := range BuiltinScopes {
		scopes[i] = store.Scope{ID: keys.NewID(), AID: aid, ServiceName: b.ServiceName, Audience: b.Audience,
			Scope: b.Scope, Description: b.Description, Builtin: true, CreatedAt: now}
	}
	alg := account.Effective(a).SigningAlg
	key, err := k.NewSigningKey(aid, alg, now)
	if err != nil {
		return nil, nil, nil, err
	}
	signing := []*store.SigningKey{key}
	if alg != "RS256" {
		// ID tokens are RS256 (OpenID Connect's default) whatever signs access tokens.
		companion, err := k.NewSigningKey(aid, "RS256", now)
		if err != nil {
			return nil, nil, nil, err
		}
		signing = append(signing, companion)
	}
	return a, scopes, signing, nil
}

// requireRoot: creating, listing and deleting accounts is for root-account admins.
func requireRoot(ctx context.Context) error {
	if p := reqctx.PrincipalFrom(ctx); p == nil || !p.Root() {
		return problem.Forbidden("root_required", "only admins of the root account may do this")
	}
	return nil
}

// accountOr404 loads the account through the node cache, or answers 404.
func accountOr404(ctx context.Context, accts *account.Accounts, aid string) (*store.Account, error) {
	a, err := accts.Get(ctx, aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("account")
	}
	return a, err
}

// applySettings merges API settings into stored ones and checks what the schema cannot.
func applySettings(dst *store.AccountSettings, in *gen.AccountSettings) error {
	if in == nil {
		return nil
	}
	if in.SigningAlg != nil {
		dst.SigningAlg = string(*in.SigningAlg)
	}
	if in.AccessTokenLifetime != nil {
		dst.AccessTokenLifetime = *in.AccessTokenLifetime
	}
	if in.KeyPropagationDelay != nil {
		d := *in.KeyPropagationDelay
		dst.KeyPropagationDelay = &d
	}
	if in.KeyRotationInterval != nil {
		// Rotating more often than hourly would outrun the verifiers' JWKS caches.
		if v := *in.KeyRotationInterval; v != 0 && v < 3600 {
			return problem.Unprocessable("invalid_setting", "keyRotationInterval must be 0 or at least 3600 seconds",
				problem.FieldError{Field: "settings.keyRotationInterval", Message: "must be 0 or at least 3600"})
		}
		dst.KeyRotationInterval = *in.KeyRotationInterval
	}
	if in.TokenRateLimit != nil {
		dst.TokenRatePerMinute, dst.TokenRateBurst = in.TokenRateLimit.PerMinute, in.TokenRateLimit.Burst
	}
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&dst.RefreshIdleLifetime, in.RefreshTokenIdleLifetime)
	set(&dst.RefreshAbsoluteLifetime, in.RefreshTokenAbsoluteLifetime)
	if in.RefreshTokenReuseGrace != nil {
		g := *in.RefreshTokenReuseGrace
		dst.RefreshReuseGrace = &g
	}
	set(&dst.LoginMaxFailures, in.LoginMaxFailures)
	set(&dst.LoginIPMaxFailures, in.LoginIPMaxFailures)
	set(&dst.LoginLockoutSeconds, in.LoginLockoutSeconds)
	set(&dst.InvitationLifetime, in.InvitationLifetime)
	set(&dst.SessionIdleLifetime, in.SessionIdleLifetime)
	set(&dst.SessionAbsoluteLifetime, in.SessionAbsoluteLifetime)
	if in.Mfa != nil {
		// The validator checked the enum.
		dst.MFA = string(*in.Mfa)
	}
	if in.EmailSenderName != nil {
		// The sender name goes into mail headers.
		if strings.ContainsFunc(*in.EmailSenderName, unicode.IsControl) {
			return problem.Unprocessable("invalid_setting", "emailSenderName must not contain control characters",
				problem.FieldError{Field: "settings.emailSenderName", Message: "control characters"})
		}
		dst.EmailSenderName = *in.EmailSenderName
	}
	// Checked on the merged values: a PATCH may change only one of the two.
	if dst.RefreshIdleLifetime != 0 && dst.RefreshAbsoluteLifetime != 0 && dst.RefreshIdleLifetime > dst.RefreshAbsoluteLifetime {
		return problem.Unprocessable("invalid_setting", "refreshTokenIdleLifetime cannot exceed refreshTokenAbsoluteLifetime",
			problem.FieldError{Field: "settings.refreshTokenIdleLifetime", Message: "exceeds refreshTokenAbsoluteLifetime"})
	}
	return nil
}

// randomAID makes a 12-character account id that starts with a letter.
func randomAID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	if b[0] >= '0' && b[0] <= '9' {
		b[0] = 'a' + b[0] - '0'
	}
	return string(b)
}

// ListAccounts implements GET /v1/accounts.
func (a *API) ListAccounts(ctx context.Context, req gen.ListAccountsRequestObject) (gen.ListAccountsResponseObject, error) {
	if err := requireRoot(ctx); err != nil {
		return nil, err
	}
	pg, err := page(a.keyring, "accounts", req.Params.Limit, req.Params.StartingAfter)
	if err != nil {
		return nil, err
	}
	rows, next, err := a.store.Accounts().List(ctx, pg)
	if err != nil {
		return nil, err
	}
	items := make([]gen.Account, len(rows))
	for i := range rows {
		items[i] = toAccount(&rows[i], a.accounts.Issuer(rows[i].AID))
	}
	return gen.ListAccounts200JSONResponse{Items: items, NextCursor: nextCursor(a.keyring, "accounts", next)}, nil
}

// CreateAccount implements POST /v1/accounts.
func (a *API) CreateAccount(ctx context.Context, req gen.CreateAccountRequestObject) (gen.CreateAccountResponseObject, error) {
	if err := requireRoot(ctx); err != nil {
		return nil, err
	}
	aid := randomAID()
	if req.Body.Aid != nil {
		aid = *req.Body.Aid
	}
	var set store.AccountSettings
	if err := applySettings(&set, req.Body.Settings); err != nil {
		return nil, err
	}
	acct, scopes, signing, err := NewAccountRows(a.keys, a.now(), aid, req.Body.Name, set)
	if err != nil {
		return nil, err
	}
	if err := a.store.Accounts().Create(ctx, acct, scopes, signing...); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, problem.Conflict("an account with this aid already exists")
		}
		return nil, err
	}
	// An earlier lookup may have cached the aid as unknown.
	a.accounts.Forget(aid)
	a.record(ctx, aid, gen.AccountCreated, "account", aid)
	loc := "/v1/accounts/" + aid
	return gen.CreateAccount201JSONResponse{Body: toAccount(acct, a.accounts.Issuer(aid)),
		Headers: gen.CreateAccount201ResponseHeaders{Location: &loc}}, nil
}

// GetAccount implements GET /v1/accounts/{aid}. It reads the database, not the node cache,
// so an admin always sees the current settings.
func (a *API) GetAccount(ctx context.Context, req gen.GetAccountRequestObject) (gen.GetAccountResponseObject, error) {
	acct, err := a.store.Accounts().Get(ctx, req.Aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("account")
	}
	if err != nil {
		return nil, err
	}
	return gen.GetAccount200JSONResponse(toAccount(acct, a.accounts.Issuer(acct.AID))), nil
}

// UpdateAccount implements PATCH /v1/accounts/{aid}.
func (a *API) UpdateAccount(ctx context.Context, req gen.UpdateAccountRequestObject) (gen.UpdateAccountResponseObject, error) {
	// From the database: the merge must start from the stored settings, not a cached copy.
	acct, err := a.store.Accounts().Get(ctx, req.Aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("account")
	}
	if err != nil {
		return nil, err
	}
	if req.Body.Name != nil {
		acct.Name = *req.Body.Name
	}
	if err := applySettings(&acct.Settings, req.Body.Settings); err != nil {
		return nil, err
	}
	if err := a.store.Accounts().Update(ctx, acct); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, problem.NotFound("account")
		}
		return nil, err
	}
	a.accounts.Forget(acct.AID)
	a.record(ctx, acct.AID, gen.AccountUpdated, "account", acct.AID)
	return gen.UpdateAccount200JSONResponse(toAccount(acct, a.accounts.Issuer(acct.AID))), nil
}

// DeleteAccount implements DELETE /v1/accounts/{aid}.
func (a *API) DeleteAccount(ctx context.Context, req gen.DeleteAccountRequestObject) (gen.DeleteAccountResponseObject, error) {
	if err := requireRoot(ctx); err != nil {
		return nil, err
	}
	// The root account holds the admins; deleting it would lock everyone out.
	if req.Aid == reqctx.RootAID {
		return nil, problem.Unprocessable("root_account", "the root account cannot be deleted")
	}
	if err := a.store.Accounts().Delete(ctx, req.Aid); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, problem.NotFound("account")
		}
		return nil, err
	}
	// Its clients, keys and tokens went with it: nothing of it may keep working on this node.
	a.accounts.Forget(req.Aid)
	a.clients.ForgetAccount(req.Aid)
	a.keys.Forget(req.Aid)
	a.tokens.ForgetAccount(req.Aid)
	// The account's own trail is no longer listed, so its deletion goes on the caller's.
	a.record(ctx, reqctx.PrincipalFrom(ctx).AID, gen.AccountDeleted, "account", req.Aid)
	return gen.DeleteAccount204Response{}, nil
}

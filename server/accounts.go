package server

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

// builtinScopes are in every account's catalogue (DESIGN: Resources).
var builtinScopes = []struct{ serviceName, audience, scope, description string }{
	{"ManagementAPI", ManagementAudience, scopeManage, "Full management of the account"},
	{"ManagementAPI", ManagementAudience, scopeRead, "Read-only management of the account"},
	{"Auth", "api://auth", "accounts:auth:users", "Log in and create end users"},
	{"Auth", "api://auth", "create:accounts:auth:refresh_token", "Issue refresh tokens at login"},
}

// newAccountRows builds an account with its built-in scopes and first signing key.
func (s *Server) newAccountRows(aid, name string, set store.AccountSettings) (*store.Account, []store.Scope, []*store.SigningKey, error) {
	now := time.Now().UTC()
	a := &store.Account{AID: aid, Name: name, Settings: set, CreatedAt: now, UpdatedAt: now}
	scopes := make([]store.Scope, len(builtinScopes))
	for i, b := range builtinScopes {
		scopes[i] = store.Scope{ID: newID(), AID: aid, ServiceName: b.serviceName, Audience: b.audience,
			Scope: b.scope, Description: b.description, Builtin: true, CreatedAt: now}
	}
	alg := s.settings(a).SigningAlg
	key, err := s.newSigningKey(aid, alg, now)
	if err != nil {
		return nil, nil, nil, err
	}
	keys := []*store.SigningKey{key}
	if alg != "RS256" {
		// ID tokens are RS256 (OpenID Connect's default) whatever signs access tokens.
		companion, err := s.newSigningKey(aid, "RS256", now)
		if err != nil {
			return nil, nil, nil, err
		}
		keys = append(keys, companion)
	}
	return a, scopes, keys, nil
}

// requireRoot: creating, listing and deleting accounts is for root-account admins.
func requireRoot(ctx context.Context) error {
	if p := principalFrom(ctx); p == nil || !p.root() {
		return forbidden("root_required", "only admins of the root account may do this")
	}
	return nil
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
		if v := *in.KeyRotationInterval; v != 0 && v < 3600 {
			return unprocessable("invalid_setting", "keyRotationInterval must be 0 or at least 3600 seconds",
				fieldError{Field: "settings.keyRotationInterval", Message: "must be 0 or at least 3600"})
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
	if in.EmailSenderName != nil {
		if strings.ContainsFunc(*in.EmailSenderName, unicode.IsControl) {
			return unprocessable("invalid_setting", "emailSenderName must not contain control characters",
				fieldError{Field: "settings.emailSenderName", Message: "control characters"})
		}
		dst.EmailSenderName = *in.EmailSenderName
	}
	if dst.RefreshIdleLifetime != 0 && dst.RefreshAbsoluteLifetime != 0 && dst.RefreshIdleLifetime > dst.RefreshAbsoluteLifetime {
		return unprocessable("invalid_setting", "refreshTokenIdleLifetime cannot exceed refreshTokenAbsoluteLifetime",
			fieldError{Field: "settings.refreshTokenIdleLifetime", Message: "exceeds refreshTokenAbsoluteLifetime"})
	}
	return nil
}

// randomAID makes a 12-character account id.
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
func (s *Server) ListAccounts(ctx context.Context, req gen.ListAccountsRequestObject) (gen.ListAccountsResponseObject, error) {
	if err := requireRoot(ctx); err != nil {
		return nil, err
	}
	rows, next, err := s.store.ListAccounts(ctx, page(req.Params.Limit, req.Params.StartingAfter))
	if err != nil {
		return nil, err
	}
	items := make([]gen.Account, len(rows))
	for i := range rows {
		items[i] = s.toAccount(&rows[i])
	}
	return gen.ListAccounts200JSONResponse{Items: items, NextCursor: nextCursor(next)}, nil
}

// CreateAccount implements POST /v1/accounts.
func (s *Server) CreateAccount(ctx context.Context, req gen.CreateAccountRequestObject) (gen.CreateAccountResponseObject, error) {
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
	a, scopes, keys, err := s.newAccountRows(aid, req.Body.Name, set)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateAccount(ctx, a, scopes, keys...); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, conflict("an account with this aid already exists")
		}
		return nil, err
	}
	s.cache.drop("acct\x00" + aid)
	loc := "/v1/accounts/" + aid
	return gen.CreateAccount201JSONResponse{Body: s.toAccount(a), Headers: gen.CreateAccount201ResponseHeaders{Location: &loc}}, nil
}

// GetAccount implements GET /v1/accounts/{aid}.
func (s *Server) GetAccount(ctx context.Context, req gen.GetAccountRequestObject) (gen.GetAccountResponseObject, error) {
	a, err := s.store.GetAccount(ctx, req.Aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("account")
	}
	if err != nil {
		return nil, err
	}
	return gen.GetAccount200JSONResponse(s.toAccount(a)), nil
}

// UpdateAccount implements PATCH /v1/accounts/{aid}.
func (s *Server) UpdateAccount(ctx context.Context, req gen.UpdateAccountRequestObject) (gen.UpdateAccountResponseObject, error) {
	a, err := s.store.GetAccount(ctx, req.Aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("account")
	}
	if err != nil {
		return nil, err
	}
	if req.Body.Name != nil {
		a.Name = *req.Body.Name
	}
	if err := applySettings(&a.Settings, req.Body.Settings); err != nil {
		return nil, err
	}
	if err := s.store.UpdateAccount(ctx, a); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("account")
		}
		return nil, err
	}
	s.cache.drop("acct\x00" + a.AID)
	return gen.UpdateAccount200JSONResponse(s.toAccount(a)), nil
}

// DeleteAccount implements DELETE /v1/accounts/{aid}.
func (s *Server) DeleteAccount(ctx context.Context, req gen.DeleteAccountRequestObject) (gen.DeleteAccountResponseObject, error) {
	if err := requireRoot(ctx); err != nil {
		return nil, err
	}
	if req.Aid == RootAID {
		return nil, unprocessable("root_account", "the root account cannot be deleted")
	}
	if err := s.store.DeleteAccount(ctx, req.Aid); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("account")
		}
		return nil, err
	}
	s.cache.dropPrefix("acct\x00" + req.Aid)
	s.cache.dropPrefix("client\x00" + req.Aid + "\x00")
	s.cache.drop(keysCacheKey(req.Aid))
	return gen.DeleteAccount204Response{}, nil
}

package manage

import (
	"context"
	"errors"
	"fmt"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/store"
)

// resolveScopes finds the named scopes in the account's catalogue, in the order given and
// without repeats; unknown ones are 422 with the field that named them.
func resolveScopes(ctx context.Context, st *store.Store, aid string, names []string) ([]store.Scope, error) {
	found, err := st.Scopes().ByName(ctx, aid, names)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]store.Scope, len(found))
	for _, sc := range found {
		byName[sc.Scope] = sc
	}
	out := make([]store.Scope, 0, len(names))
	seen := map[string]bool{}
	var bad []problem.FieldError
	for i, n := range names {
		sc, ok := byName[n]
		if !ok {
			bad = append(bad, problem.FieldError{Field: fmt.Sprintf("scopes[%d]", i), Message: "unknown scope: " + n})
			continue
		}
		if !seen[sc.ID] {
			seen[sc.ID] = true
			out = append(out, sc)
		}
	}
	if len(bad) > 0 {
		return nil, problem.Unprocessable("unknown_scope", bad[0].Message, bad...)
	}
	return out, nil
}

func scopeIDs(scopes []store.Scope) []string {
	ids := make([]string, len(scopes))
	for i, sc := range scopes {
		ids[i] = sc.ID
	}
	return ids
}

// serviceAccountOr404 loads a service account by its id (not its client id), or answers 404.
func serviceAccountOr404(ctx context.Context, st *store.Store, aid, id string) (*store.Client, error) {
	c, err := st.Clients().Get(ctx, aid, store.KindServiceAccount, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("service account")
	}
	return c, err
}

// ListServiceAccounts implements GET .../service-accounts.
func (a *API) ListServiceAccounts(ctx context.Context, req gen.ListServiceAccountsRequestObject) (gen.ListServiceAccountsResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	pg, err := page(a.keyring, "service-accounts/"+req.Aid, req.Params.Limit, req.Params.StartingAfter)
	if err != nil {
		return nil, err
	}
	rows, next, err := a.store.Clients().List(ctx, req.Aid, store.KindServiceAccount, pg)
	if err != nil {
		return nil, err
	}
	items := make([]gen.ServiceAccount, len(rows))
	for i := range rows {
		items[i] = toServiceAccount(&rows[i], a.accounts.Issuer(rows[i].AID))
	}
	return gen.ListServiceAccounts200JSONResponse{Items: items, NextCursor: nextCursor(a.keyring, "service-accounts/"+req.Aid, next)}, nil
}

// CreateServiceAccount implements POST .../service-accounts.
func (a *API) CreateServiceAccount(ctx context.Context, req gen.CreateServiceAccountRequestObject) (gen.CreateServiceAccountResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	scopes, err := resolveScopes(ctx, a.store, req.Aid, req.Body.Scopes)
	if err != nil {
		return nil, err
	}
	now := a.now().UTC()
	c := &store.Client{
		// Client ids are random UUIDs: unguessable and unordered, unlike row ids.
		ID: keys.NewID(), AID: req.Aid, ClientID: keys.NewUUID4(), Kind: store.KindServiceAccount,
		Name: req.Body.Name, CreatedAt: now, UpdatedAt: now,
		RedirectURIs: []string{}, PostLogoutRedirectURIs: []string{}, Scopes: scopes,
	}
	if req.Body.Description != nil {
		c.Description = *req.Body.Description
	}
	if rl := req.Body.TokenRateLimit; rl != nil {
		c.RatePerMinute, c.RateBurst = &rl.PerMinute, &rl.Burst
	}
	if err := a.store.Clients().Create(ctx, c, scopeIDs(scopes)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, problem.Conflict("a service account with this name already exists")
		}
		return nil, err
	}
	// The protocol caches unknown clients too.
	a.clients.Forget(req.Aid, c.ClientID)
	a.record(ctx, req.Aid, gen.ServiceAccountCreated, "service_account", c.ID)
	loc := "/v1/accounts/" + req.Aid + "/service-accounts/" + c.ID
	return gen.CreateServiceAccount201JSONResponse{Body: toServiceAccount(c, a.accounts.Issuer(c.AID)),
		Headers: gen.CreateServiceAccount201ResponseHeaders{Location: &loc}}, nil
}

// GetServiceAccount implements GET .../service-accounts/{id}.
func (a *API) GetServiceAccount(ctx context.Context, req gen.GetServiceAccountRequestObject) (gen.GetServiceAccountResponseObject, error) {
	c, err := serviceAccountOr404(ctx, a.store, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	return gen.GetServiceAccount200JSONResponse(toServiceAccount(c, a.accounts.Issuer(c.AID))), nil
}

// UpdateServiceAccount implements PATCH .../service-accounts/{id}: only the fields given
// are written, and scopes, when given, replace the held ones.
func (a *API) UpdateServiceAccount(ctx context.Context, req gen.UpdateServiceAccountRequestObject) (gen.UpdateServiceAccountResponseObject, error) {
	c, err := serviceAccountOr404(ctx, a.store, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	var cols []string
	if req.Body.Name != nil {
		c.Name = *req.Body.Name
		cols = append(cols, "name")
	}
	if req.Body.Description != nil {
		c.Description = *req.Body.Description
		cols = append(cols, "description")
	}
	// null removes the client's own limit (the account's applies again).
	if req.Body.TokenRateLimit.IsSpecified() {
		cols = append(cols, "rate_per_minute", "rate_burst")
		if req.Body.TokenRateLimit.IsNull() {
			c.RatePerMinute, c.RateBurst = nil, nil
		} else {
			rl := req.Body.TokenRateLimit.MustGet()
			c.RatePerMinute, c.RateBurst = &rl.PerMinute, &rl.Burst
		}
	}
	var ids *[]string
	if req.Body.Scopes != nil {
		resolved, err := resolveScopes(ctx, a.store, req.Aid, *req.Body.Scopes)
		if err != nil {
			return nil, err
		}
		c.Scopes = resolved
		list := scopeIDs(resolved)
		ids = &list
	}
	if err := a.store.Clients().Update(ctx, c, cols, ids); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict):
			return nil, problem.Conflict("a service account with this name already exists")
		case errors.Is(err, store.ErrNotFound):
			return nil, problem.NotFound("service account")
		}
		return nil, err
	}
	a.clients.Forget(req.Aid, c.ClientID)
	a.record(ctx, req.Aid, gen.ServiceAccountUpdated, "service_account", c.ID)
	return gen.UpdateServiceAccount200JSONResponse(toServiceAccount(c, a.accounts.Issuer(c.AID))), nil
}

// DeleteServiceAccount implements DELETE .../service-accounts/{id}.
func (a *API) DeleteServiceAccount(ctx context.Context, req gen.DeleteServiceAccountRequestObject) (gen.DeleteServiceAccountResponseObject, error) {
	c, err := serviceAccountOr404(ctx, a.store, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	if err := a.store.Clients().Delete(ctx, req.Aid, store.KindServiceAccount, c.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, problem.NotFound("service account")
		}
		return nil, err
	}
	a.clients.Forget(req.Aid, c.ClientID)
	a.record(ctx, req.Aid, gen.ServiceAccountDeleted, "service_account", c.ID)
	return gen.DeleteServiceAccount204Response{}, nil
}

// ListServiceAccountSecrets implements GET .../secrets.
func (a *API) ListServiceAccountSecrets(ctx context.Context, req gen.ListServiceAccountSecretsRequestObject) (gen.ListServiceAccountSecretsResponseObject, error) {
	c, err := serviceAccountOr404(ctx, a.store, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	items, next, err := a.secrets.list(ctx, c, req.Params.Limit, req.Params.StartingAfter)
	if err != nil {
		return nil, err
	}
	return gen.ListServiceAccountSecrets200JSONResponse{Items: items, NextCursor: next}, nil
}

// CreateServiceAccountSecret implements POST .../secrets: the value is returned once, and
// Cache-Control: no-store keeps it out of caches.
func (a *API) CreateServiceAccountSecret(ctx context.Context, req gen.CreateServiceAccountSecretRequestObject) (gen.CreateServiceAccountSecretResponseObject, error) {
	c, err := serviceAccountOr404(ctx, a.store, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	out, err := a.secrets.add(ctx, c, req.Body)
	if err != nil {
		return nil, err
	}
	a.recordSecret(ctx, req.Aid, gen.SecretCreated, out.ID, c.ClientID)
	noStore := "no-store"
	loc := "/v1/accounts/" + req.Aid + "/service-accounts/" + c.ID + "/secrets/" + out.ID
	return gen.CreateServiceAccountSecret201JSONResponse{Body: out,
		Headers: gen.CreateServiceAccountSecret201ResponseHeaders{Location: &loc, CacheControl: &noStore}}, nil
}

// DeleteServiceAccountSecret implements DELETE .../secrets/{secretId}.
func (a *API) DeleteServiceAccountSecret(ctx context.Context, req gen.DeleteServiceAccountSecretRequestObject) (gen.DeleteServiceAccountSecretResponseObject, error) {
	c, err := serviceAccountOr404(ctx, a.store, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	if err := a.secrets.delete(ctx, c, req.SecretID); err != nil {
		return nil, err
	}
	a.recordSecret(ctx, req.Aid, gen.SecretDeleted, req.SecretID, c.ClientID)
	return gen.DeleteServiceAccountSecret204Response{}, nil
}

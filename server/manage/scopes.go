package manage

import (
	"context"
	"errors"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/store"
)

// scopeOr404 loads a scope of the account, or answers 404.
func scopeOr404(ctx context.Context, st *store.Store, aid, id string) (*store.Scope, error) {
	sc, err := st.Scopes().Get(ctx, aid, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("scope")
	}
	return sc, err
}

// ListScopes implements GET .../scopes.
func (a *API) ListScopes(ctx context.Context, req gen.ListScopesRequestObject) (gen.ListScopesResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	pg, err := page(a.keyring, "scopes/"+req.Aid, req.Params.Limit, req.Params.StartingAfter)
	if err != nil {
		return nil, err
	}
	rows, next, err := a.store.Scopes().List(ctx, req.Aid, pg)
	if err != nil {
		return nil, err
	}
	items := make([]gen.Scope, len(rows))
	for i := range rows {
		items[i] = toScope(&rows[i])
	}
	return gen.ListScopes200JSONResponse{Items: items, NextCursor: nextCursor(a.keyring, "scopes/"+req.Aid, next)}, nil
}

// CreateScope implements POST .../scopes.
func (a *API) CreateScope(ctx context.Context, req gen.CreateScopeRequestObject) (gen.CreateScopeResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	sc := &store.Scope{
		ID: keys.NewID(), AID: req.Aid, ServiceName: req.Body.ServiceName, Audience: req.Body.Audience,
		Scope: req.Body.Scope, CreatedAt: a.now().UTC(),
	}
	if req.Body.Description != nil {
		sc.Description = *req.Body.Description
	}
	if err := a.store.Scopes().Create(ctx, sc); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, problem.Conflict("a scope with this scope string already exists")
		}
		return nil, err
	}
	a.record(ctx, req.Aid, gen.ScopeCreated, "scope", sc.ID)
	loc := "/v1/accounts/" + req.Aid + "/scopes/" + sc.ID
	return gen.CreateScope201JSONResponse{Body: toScope(sc), Headers: gen.CreateScope201ResponseHeaders{Location: &loc}}, nil
}

// GetScope implements GET .../scopes/{scopeId}.
func (a *API) GetScope(ctx context.Context, req gen.GetScopeRequestObject) (gen.GetScopeResponseObject, error) {
	sc, err := scopeOr404(ctx, a.store, req.Aid, req.ScopeID)
	if err != nil {
		return nil, err
	}
	return gen.GetScope200JSONResponse(toScope(sc)), nil
}

// UpdateScope implements PATCH .../scopes/{scopeId}. The audience and scope string are
// fixed: tokens and grants name them.
func (a *API) UpdateScope(ctx context.Context, req gen.UpdateScopeRequestObject) (gen.UpdateScopeResponseObject, error) {
	sc, err := scopeOr404(ctx, a.store, req.Aid, req.ScopeID)
	if err != nil {
		return nil, err
	}
	if sc.Builtin {
		return nil, problem.Unprocessable("builtin_scope", "built-in scopes are read-only")
	}
	if req.Body.ServiceName != nil {
		sc.ServiceName = *req.Body.ServiceName
	}
	if req.Body.Description != nil {
		sc.Description = *req.Body.Description
	}
	if err := a.store.Scopes().Update(ctx, sc); err != nil {
		return nil, err
	}
	// serviceName shows in service accounts held in caches.
	a.clients.ForgetAccount(req.Aid)
	a.record(ctx, req.Aid, gen.ScopeUpdated, "scope", sc.ID)
	return gen.UpdateScope200JSONResponse(toScope(sc)), nil
}

// DeleteScope implements DELETE .../scopes/{scopeId}.
func (a *API) DeleteScope(ctx context.Context, req gen.DeleteScopeRequestObject) (gen.DeleteScopeResponseObject, error) {
	sc, err := scopeOr404(ctx, a.store, req.Aid, req.ScopeID)
	if err != nil {
		return nil, err
	}
	if sc.Builtin {
		return nil, problem.Unprocessable("builtin_scope", "built-in scopes cannot be deleted")
	}
	// A held scope is refused rather than silently taken from its holders.
	switch err := a.store.Scopes().Delete(ctx, req.Aid, req.ScopeID); {
	case errors.Is(err, store.ErrInUse):
		return nil, problem.Conflict("the scope is held by service accounts; remove it from them first")
	case errors.Is(err, store.ErrNotFound):
		return nil, problem.NotFound("scope")
	case err != nil:
		return nil, err
	}
	a.record(ctx, req.Aid, gen.ScopeDeleted, "scope", sc.ID)
	return gen.DeleteScope204Response{}, nil
}

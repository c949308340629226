package server

import (
	"context"
	"errors"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

// ListScopes implements GET .../scopes.
func (s *Server) ListScopes(ctx context.Context, req gen.ListScopesRequestObject) (gen.ListScopesResponseObject, error) {
	if _, err := s.accountOr404(ctx, req.Aid); err != nil {
		return nil, err
	}
	rows, next, err := s.store.ListScopes(ctx, req.Aid, page(req.Params.Limit, req.Params.StartingAfter))
	if err != nil {
		return nil, err
	}
	items := make([]gen.Scope, len(rows))
	for i := range rows {
		items[i] = toScope(&rows[i])
	}
	return gen.ListScopes200JSONResponse{Items: items, NextCursor: nextCursor(next)}, nil
}

// CreateScope implements POST .../scopes.
func (s *Server) CreateScope(ctx context.Context, req gen.CreateScopeRequestObject) (gen.CreateScopeResponseObject, error) {
	if _, err := s.accountOr404(ctx, req.Aid); err != nil {
		return nil, err
	}
	sc := &store.Scope{
		ID: newID(), AID: req.Aid, ServiceName: req.Body.ServiceName, Audience: req.Body.Audience,
		Scope: req.Body.Scope, CreatedAt: time.Now().UTC(),
	}
	if req.Body.Description != nil {
		sc.Description = *req.Body.Description
	}
	if err := s.store.CreateScope(ctx, sc); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, conflict("a scope with this scope string already exists")
		}
		return nil, err
	}
	loc := "/v1/accounts/" + req.Aid + "/scopes/" + sc.ID
	return gen.CreateScope201JSONResponse{Body: toScope(sc), Headers: gen.CreateScope201ResponseHeaders{Location: &loc}}, nil
}

func (s *Server) scopeOr404(ctx context.Context, aid, id string) (*store.Scope, error) {
	sc, err := s.store.GetScope(ctx, aid, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("scope")
	}
	return sc, err
}

// GetScope implements GET .../scopes/{scopeId}.
func (s *Server) GetScope(ctx context.Context, req gen.GetScopeRequestObject) (gen.GetScopeResponseObject, error) {
	sc, err := s.scopeOr404(ctx, req.Aid, req.ScopeID)
	if err != nil {
		return nil, err
	}
	return gen.GetScope200JSONResponse(toScope(sc)), nil
}

// UpdateScope implements PATCH .../scopes/{scopeId}.
func (s *Server) UpdateScope(ctx context.Context, req gen.UpdateScopeRequestObject) (gen.UpdateScopeResponseObject, error) {
	sc, err := s.scopeOr404(ctx, req.Aid, req.ScopeID)
	if err != nil {
		return nil, err
	}
	if sc.Builtin {
		return nil, unprocessable("builtin_scope", "built-in scopes are read-only")
	}
	if req.Body.ServiceName != nil {
		sc.ServiceName = *req.Body.ServiceName
	}
	if req.Body.Description != nil {
		sc.Description = *req.Body.Description
	}
	if err := s.store.UpdateScope(ctx, sc); err != nil {
		return nil, err
	}
	// serviceName shows in service accounts held in caches.
	s.cache.dropPrefix("client\x00" + req.Aid + "\x00")
	return gen.UpdateScope200JSONResponse(toScope(sc)), nil
}

// DeleteScope implements DELETE .../scopes/{scopeId}.
func (s *Server) DeleteScope(ctx context.Context, req gen.DeleteScopeRequestObject) (gen.DeleteScopeResponseObject, error) {
	sc, err := s.scopeOr404(ctx, req.Aid, req.ScopeID)
	if err != nil {
		return nil, err
	}
	if sc.Builtin {
		return nil, unprocessable("builtin_scope", "built-in scopes cannot be deleted")
	}
	switch err := s.store.DeleteScope(ctx, req.Aid, req.ScopeID); {
	case errors.Is(err, store.ErrInUse):
		return nil, conflict("the scope is held by service accounts; remove it from them first")
	case errors.Is(err, store.ErrNotFound):
		return nil, notFound("scope")
	case err != nil:
		return nil, err
	}
	return gen.DeleteScope204Response{}, nil
}

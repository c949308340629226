package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

// resolveScopes finds the named scopes in the account's catalogue, in the order given and
// without repeats; unknown ones are 422 with the field that named them.
func (s *Server) resolveScopes(ctx context.Context, aid string, names []string) ([]store.Scope, error) {
	found, err := s.store.ScopesByName(ctx, aid, names)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]store.Scope, len(found))
	for _, sc := range found {
		byName[sc.Scope] = sc
	}
	out := make([]store.Scope, 0, len(names))
	seen := map[string]bool{}
	var bad []fieldError
	for i, n := range names {
		sc, ok := byName[n]
		if !ok {
			bad = append(bad, fieldError{Field: fmt.Sprintf("scopes[%d]", i), Message: "unknown scope: " + n})
			continue
		}
		if !seen[sc.ID] {
			seen[sc.ID] = true
			out = append(out, sc)
		}
	}
	if len(bad) > 0 {
		return nil, unprocessable("unknown_scope", bad[0].Message, bad...)
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

func (s *Server) serviceAccountOr404(ctx context.Context, aid, id string) (*store.Client, error) {
	c, err := s.store.GetClient(ctx, aid, store.KindServiceAccount, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("service account")
	}
	return c, err
}

// ListServiceAccounts implements GET .../service-accounts.
func (s *Server) ListServiceAccounts(ctx context.Context, req gen.ListServiceAccountsRequestObject) (gen.ListServiceAccountsResponseObject, error) {
	if _, err := s.accountOr404(ctx, req.Aid); err != nil {
		return nil, err
	}
	rows, next, err := s.store.ListClients(ctx, req.Aid, store.KindServiceAccount, page(req.Params.Limit, req.Params.StartingAfter))
	if err != nil {
		return nil, err
	}
	items := make([]gen.ServiceAccount, len(rows))
	for i := range rows {
		items[i] = s.toServiceAccount(&rows[i])
	}
	return gen.ListServiceAccounts200JSONResponse{Items: items, NextCursor: nextCursor(next)}, nil
}

// CreateServiceAccount implements POST .../service-accounts.
func (s *Server) CreateServiceAccount(ctx context.Context, req gen.CreateServiceAccountRequestObject) (gen.CreateServiceAccountResponseObject, error) {
	if _, err := s.accountOr404(ctx, req.Aid); err != nil {
		return nil, err
	}
	scopes, err := s.resolveScopes(ctx, req.Aid, req.Body.Scopes)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	c := &store.Client{
		ID: newID(), AID: req.Aid, ClientID: newClientID(), Kind: store.KindServiceAccount,
		Name: req.Body.Name, CreatedAt: now, UpdatedAt: now,
		RedirectURIs: []string{}, PostLogoutRedirectURIs: []string{}, Scopes: scopes,
	}
	if req.Body.Description != nil {
		c.Description = *req.Body.Description
	}
	if rl := req.Body.TokenRateLimit; rl != nil {
		c.RatePerMinute, c.RateBurst = &rl.PerMinute, &rl.Burst
	}
	if err := s.store.CreateClient(ctx, c, scopeIDs(scopes)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, conflict("a service account with this name already exists")
		}
		return nil, err
	}
	s.dropClient(req.Aid, c.ClientID)
	loc := "/v1/accounts/" + req.Aid + "/service-accounts/" + c.ID
	return gen.CreateServiceAccount201JSONResponse{Body: s.toServiceAccount(c),
		Headers: gen.CreateServiceAccount201ResponseHeaders{Location: &loc}}, nil
}

// newClientID returns a client id: a random UUID, unguessable and unordered.
func newClientID() string { return newUUID4() }

// GetServiceAccount implements GET .../service-accounts/{id}.
func (s *Server) GetServiceAccount(ctx context.Context, req gen.GetServiceAccountRequestObject) (gen.GetServiceAccountResponseObject, error) {
	c, err := s.serviceAccountOr404(ctx, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	return gen.GetServiceAccount200JSONResponse(s.toServiceAccount(c)), nil
}

// UpdateServiceAccount implements PATCH .../service-accounts/{id}.
func (s *Server) UpdateServiceAccount(ctx context.Context, req gen.UpdateServiceAccountRequestObject) (gen.UpdateServiceAccountResponseObject, error) {
	c, err := s.serviceAccountOr404(ctx, req.Aid, req.ServiceAccountID)
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
		resolved, err := s.resolveScopes(ctx, req.Aid, *req.Body.Scopes)
		if err != nil {
			return nil, err
		}
		c.Scopes = resolved
		list := scopeIDs(resolved)
		ids = &list
	}
	if err := s.store.UpdateClient(ctx, c, cols, ids); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict):
			return nil, conflict("a service account with this name already exists")
		case errors.Is(err, store.ErrNotFound):
			return nil, notFound("service account")
		}
		return nil, err
	}
	s.dropClient(req.Aid, c.ClientID)
	return gen.UpdateServiceAccount200JSONResponse(s.toServiceAccount(c)), nil
}

// DeleteServiceAccount implements DELETE .../service-accounts/{id}.
func (s *Server) DeleteServiceAccount(ctx context.Context, req gen.DeleteServiceAccountRequestObject) (gen.DeleteServiceAccountResponseObject, error) {
	c, err := s.serviceAccountOr404(ctx, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteClient(ctx, req.Aid, store.KindServiceAccount, c.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("service account")
		}
		return nil, err
	}
	s.dropClient(req.Aid, c.ClientID)
	return gen.DeleteServiceAccount204Response{}, nil
}

// ListServiceAccountSecrets implements GET .../secrets.
func (s *Server) ListServiceAccountSecrets(ctx context.Context, req gen.ListServiceAccountSecretsRequestObject) (gen.ListServiceAccountSecretsResponseObject, error) {
	c, err := s.serviceAccountOr404(ctx, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	items, next, err := s.listSecrets(ctx, c, req.Params.Limit, req.Params.StartingAfter)
	if err != nil {
		return nil, err
	}
	return gen.ListServiceAccountSecrets200JSONResponse{Items: items, NextCursor: nextCursor(next)}, nil
}

// CreateServiceAccountSecret implements POST .../secrets: the value is returned once.
func (s *Server) CreateServiceAccountSecret(ctx context.Context, req gen.CreateServiceAccountSecretRequestObject) (gen.CreateServiceAccountSecretResponseObject, error) {
	c, err := s.serviceAccountOr404(ctx, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	out, err := s.addSecret(ctx, c, req.Body)
	if err != nil {
		return nil, err
	}
	noStore := "no-store"
	loc := "/v1/accounts/" + req.Aid + "/service-accounts/" + c.ID + "/secrets/" + out.ID
	return gen.CreateServiceAccountSecret201JSONResponse{Body: out,
		Headers: gen.CreateServiceAccountSecret201ResponseHeaders{Location: &loc, CacheControl: &noStore}}, nil
}

// DeleteServiceAccountSecret implements DELETE .../secrets/{secretId}: it stops working at once
// on this node (the node cache is dropped) and within the cache TTL on others.
func (s *Server) DeleteServiceAccountSecret(ctx context.Context, req gen.DeleteServiceAccountSecretRequestObject) (gen.DeleteServiceAccountSecretResponseObject, error) {
	c, err := s.serviceAccountOr404(ctx, req.Aid, req.ServiceAccountID)
	if err != nil {
		return nil, err
	}
	if err := s.deleteSecret(ctx, c, req.SecretID); err != nil {
		return nil, err
	}
	return gen.DeleteServiceAccountSecret204Response{}, nil
}

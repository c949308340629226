package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

func (s *Server) appClientOr404(ctx context.Context, aid, clientID string) (*store.Client, error) {
	c, err := s.store.GetAppClient(ctx, aid, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("client")
	}
	return c, err
}

func toOAuthClient(c *store.Client) gen.OAuthClient {
	return gen.OAuthClient{
		ClientID: c.ClientID, Name: c.Name, Description: c.Description, Type: gen.ClientType(c.Kind),
		RedirectUris: nonNil(c.RedirectURIs), PostLogoutRedirectUris: nonNil(c.PostLogoutRedirectURIs),
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// checkRedirectURIs enforces exact, absolute redirect URIs: no fragment, https, http only
// for loopback hosts (RFC 8252 §7.3), or a private-use scheme with a dot (RFC 8252 §7.1).
func checkRedirectURIs(field string, uris []string) ([]string, error) {
	out := make([]string, 0, len(uris))
	seen := map[string]bool{}
	for i, raw := range uris {
		bad := func(msg string) error {
			f := fmt.Sprintf("%s[%d]", field, i)
			return unprocessable("invalid_redirect_uri", f+": "+msg, fieldError{Field: f, Message: msg})
		}
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || strings.ContainsAny(raw, " \t\r\n\x00") {
			return nil, bad("must be an absolute URI")
		}
		if u.Fragment != "" || strings.Contains(raw, "#") {
			return nil, bad("must not contain a fragment")
		}
		switch u.Scheme {
		case "https":
			if u.Host == "" {
				return nil, bad("must name a host")
			}
		case "http":
			if !isLoopbackHost(u.Hostname()) {
				return nil, bad("http is allowed only for localhost and loopback addresses; use https")
			}
		case "javascript", "data", "file", "vbscript":
			return nil, bad("scheme " + u.Scheme + " is not allowed")
		default:
			if !strings.Contains(u.Scheme, ".") {
				return nil, bad("a private-use scheme must be a reverse domain name, such as com.example.app")
			}
		}
		if !seen[raw] {
			seen[raw] = true
			out = append(out, raw)
		}
	}
	return out, nil
}

// ListClients implements GET .../clients.
func (s *Server) ListClients(ctx context.Context, req gen.ListClientsRequestObject) (gen.ListClientsResponseObject, error) {
	if _, err := s.accountOr404(ctx, req.Aid); err != nil {
		return nil, err
	}
	rows, next, err := s.store.ListAppClients(ctx, req.Aid, page(req.Params.Limit, req.Params.StartingAfter))
	if err != nil {
		return nil, err
	}
	items := make([]gen.OAuthClient, len(rows))
	for i := range rows {
		items[i] = toOAuthClient(&rows[i])
	}
	return gen.ListClients200JSONResponse{Items: items, NextCursor: nextCursor(next)}, nil
}

// CreateClient implements POST .../clients.
func (s *Server) CreateClient(ctx context.Context, req gen.CreateClientRequestObject) (gen.CreateClientResponseObject, error) {
	if _, err := s.accountOr404(ctx, req.Aid); err != nil {
		return nil, err
	}
	b := req.Body
	now := time.Now().UTC()
	c := &store.Client{
		ID: newID(), AID: req.Aid, ClientID: newClientID(), Kind: string(b.Type), Name: b.Name,
		CreatedAt: now, UpdatedAt: now, Scopes: []store.Scope{},
	}
	if b.Description != nil {
		c.Description = *b.Description
	}
	var err error
	if c.RedirectURIs, err = checkRedirectURIs("redirectUris", deref(b.RedirectUris)); err != nil {
		return nil, err
	}
	if c.PostLogoutRedirectURIs, err = checkRedirectURIs("postLogoutRedirectUris", deref(b.PostLogoutRedirectUris)); err != nil {
		return nil, err
	}
	if err := s.store.CreateClient(ctx, c, nil); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, conflict("a client with this name already exists")
		}
		return nil, err
	}
	s.dropClient(req.Aid, c.ClientID)
	loc := "/v1/accounts/" + req.Aid + "/clients/" + c.ClientID
	return gen.CreateClient201JSONResponse{Body: toOAuthClient(c), Headers: gen.CreateClient201ResponseHeaders{Location: &loc}}, nil
}

func deref[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

// GetClient implements GET .../clients/{clientId}.
func (s *Server) GetClient(ctx context.Context, req gen.GetClientRequestObject) (gen.GetClientResponseObject, error) {
	c, err := s.appClientOr404(ctx, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	return gen.GetClient200JSONResponse(toOAuthClient(c)), nil
}

// UpdateClient implements PATCH .../clients/{clientId}.
func (s *Server) UpdateClient(ctx context.Context, req gen.UpdateClientRequestObject) (gen.UpdateClientResponseObject, error) {
	c, err := s.appClientOr404(ctx, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	b := req.Body
	var cols []string
	if b.Name != nil {
		c.Name = *b.Name
		cols = append(cols, "name")
	}
	if b.Description != nil {
		c.Description = *b.Description
		cols = append(cols, "description")
	}
	if b.RedirectUris != nil {
		if c.RedirectURIs, err = checkRedirectURIs("redirectUris", *b.RedirectUris); err != nil {
			return nil, err
		}
		cols = append(cols, "redirect_uris")
	}
	if b.PostLogoutRedirectUris != nil {
		if c.PostLogoutRedirectURIs, err = checkRedirectURIs("postLogoutRedirectUris", *b.PostLogoutRedirectUris); err != nil {
			return nil, err
		}
		cols = append(cols, "post_logout_redirect_uris")
	}
	if err := s.store.UpdateClient(ctx, c, cols, nil); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict):
			return nil, conflict("a client with this name already exists")
		case errors.Is(err, store.ErrNotFound):
			return nil, notFound("client")
		}
		return nil, err
	}
	s.dropClient(req.Aid, c.ClientID)
	return gen.UpdateClient200JSONResponse(toOAuthClient(c)), nil
}

// DeleteClient implements DELETE .../clients/{clientId}: secrets and grants go with it, and
// its refresh tokens stop working (they are bound to the client id, which no longer exists).
func (s *Server) DeleteClient(ctx context.Context, req gen.DeleteClientRequestObject) (gen.DeleteClientResponseObject, error) {
	c, err := s.appClientOr404(ctx, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteClient(ctx, req.Aid, c.Kind, c.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("client")
		}
		return nil, err
	}
	s.dropClient(req.Aid, c.ClientID)
	return gen.DeleteClient204Response{}, nil
}

// ListClientSecrets implements GET .../clients/{clientId}/secrets.
func (s *Server) ListClientSecrets(ctx context.Context, req gen.ListClientSecretsRequestObject) (gen.ListClientSecretsResponseObject, error) {
	c, err := s.appClientOr404(ctx, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	items, next, err := s.listSecrets(ctx, c, req.Params.Limit, req.Params.StartingAfter)
	if err != nil {
		return nil, err
	}
	return gen.ListClientSecrets200JSONResponse{Items: items, NextCursor: nextCursor(next)}, nil
}

// CreateClientSecret implements POST .../clients/{clientId}/secrets.
func (s *Server) CreateClientSecret(ctx context.Context, req gen.CreateClientSecretRequestObject) (gen.CreateClientSecretResponseObject, error) {
	c, err := s.appClientOr404(ctx, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	if c.Kind != store.KindConfidential {
		return nil, unprocessable("public_client", "public clients have no secrets; create a confidential client")
	}
	out, err := s.addSecret(ctx, c, req.Body)
	if err != nil {
		return nil, err
	}
	noStore := "no-store"
	loc := "/v1/accounts/" + req.Aid + "/clients/" + c.ClientID + "/secrets/" + out.ID
	return gen.CreateClientSecret201JSONResponse{Body: out,
		Headers: gen.CreateClientSecret201ResponseHeaders{Location: &loc, CacheControl: &noStore}}, nil
}

// DeleteClientSecret implements DELETE .../clients/{clientId}/secrets/{secretId}.
func (s *Server) DeleteClientSecret(ctx context.Context, req gen.DeleteClientSecretRequestObject) (gen.DeleteClientSecretResponseObject, error) {
	c, err := s.appClientOr404(ctx, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	if err := s.deleteSecret(ctx, c, req.SecretID); err != nil {
		return nil, err
	}
	return gen.DeleteClientSecret204Response{}, nil
}

// deleteSecret revokes a client's secret: it stops working at once on this node (the node
// cache is dropped) and within the cache TTL on others.
func (s *Server) deleteSecret(ctx context.Context, c *store.Client, secretID string) error {
	if err := s.store.DeleteSecret(ctx, c.ID, secretID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound("secret")
		}
		return err
	}
	s.dropClient(c.AID, c.ClientID)
	return nil
}

// listSecrets pages through a client's secrets (never their values).
func (s *Server) listSecrets(ctx context.Context, c *store.Client, limit *int, after *string) ([]gen.Secret, string, error) {
	rows, next, err := s.store.ListSecrets(ctx, c.ID, page(limit, after))
	if err != nil {
		return nil, "", err
	}
	now := time.Now()
	items := make([]gen.Secret, len(rows))
	for i := range rows {
		items[i] = toSecret(&rows[i], now)
	}
	return items, next, nil
}

// addSecret creates a secret of a client; its value is in the result only.
func (s *Server) addSecret(ctx context.Context, c *store.Client, body *gen.SecretCreate) (gen.SecretWithValue, error) {
	value, err := newSecret()
	if err != nil {
		return gen.SecretWithValue{}, err
	}
	now := time.Now().UTC()
	sec := &store.Secret{
		ID: newID(), ClientPK: c.ID, Hash: s.keyring.hashSecret(value), Hint: value[len(value)-4:],
		CreatedAt: now,
	}
	if body != nil {
		if body.Description != nil {
			sec.Description = *body.Description
		}
		if body.ExpiresAt != nil {
			if !body.ExpiresAt.After(now) {
				return gen.SecretWithValue{}, unprocessable("expires_in_past", "expiresAt must be in the future",
					fieldError{Field: "expiresAt", Message: "must be in the future"})
			}
			t := body.ExpiresAt.UTC()
			sec.ExpiresAt = &t
		}
	}
	if err := s.store.CreateSecret(ctx, sec, maxSecretsPerClient); err != nil {
		if errors.Is(err, store.ErrLimit) {
			return gen.SecretWithValue{}, unprocessable("too_many_secrets",
				fmt.Sprintf("a client has at most %d secrets; delete one first", maxSecretsPerClient))
		}
		return gen.SecretWithValue{}, err
	}
	s.dropClient(c.AID, c.ClientID)
	out := toSecret(sec, now)
	return gen.SecretWithValue{
		ID: out.ID, Hint: out.Hint, Description: out.Description, CreatedAt: out.CreatedAt,
		ExpiresAt: out.ExpiresAt, LastUsedAt: out.LastUsedAt,
		Status: gen.SecretWithValueStatus(out.Status), Secret: value,
	}, nil
}

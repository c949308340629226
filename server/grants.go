package server

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

func (s *Server) grantOr404(ctx context.Context, aid, id string) (*store.Grant, error) {
	g, err := s.store.GetGrant(ctx, aid, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("grant")
	}
	return g, err
}

func toGrant(g *store.Grant) gen.Grant {
	out := gen.Grant{
		ID: g.ID, ClientID: g.ClientID, Audience: g.Audience, Type: gen.GrantType(g.GrantType),
		Scopes: nonNil(g.Scopes), CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(),
	}
	if g.OIDCAuthority != "" {
		out.Oidc = &gen.GrantOIDC{Authority: g.OIDCAuthority, ClientID: g.OIDCClientID,
			HasClientSecret: len(g.OIDCClientSecret) > 0}
	}
	return out
}

// pick returns the value of a field that has a Dintero-style alias; both given must agree.
func pick[T comparable](field string, a, alias *T) (*T, error) {
	if a != nil && alias != nil && *a != *alias {
		return nil, unprocessable("conflicting_fields", field+" and its alias disagree",
			fieldError{Field: field, Message: "given twice with different values"})
	}
	if a != nil {
		return a, nil
	}
	return alias, nil
}

func pickList(field string, a, alias *[]string) (*[]string, error) {
	if a != nil && alias != nil {
		return nil, unprocessable("conflicting_fields", "give "+field+" once",
			fieldError{Field: field, Message: "given twice (with its alias)"})
	}
	if a != nil {
		return a, nil
	}
	return alias, nil
}

// applyOIDC validates an upstream provider block and seals its secret into g.
func (s *Server) applyOIDC(g *store.Grant, in *gen.GrantOIDCInput, creating bool) error {
	if g.GrantType != store.GrantAuthorizationCode {
		return unprocessable("oidc_needs_authorization_code", "an oidc block needs a grant of type authorization_code",
			fieldError{Field: "oidc", Message: "only for type authorization_code"})
	}
	u, err := url.Parse(in.Authority)
	if err != nil || u.Host == "" || u.Fragment != "" || !(u.Scheme == "https" || (u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
		return unprocessable("invalid_authority", "oidc.authority must be an https URL (http only for loopback)",
			fieldError{Field: "oidc.authority", Message: "must be an https URL"})
	}
	id, err := pick("oidc.clientId", in.ClientID, in.ClientIDAlias)
	if err != nil {
		return err
	}
	secret, err := pick("oidc.clientSecret", in.ClientSecret, in.ClientSecretAlias)
	if err != nil {
		return err
	}
	if id == nil {
		return unprocessable("missing_field", "oidc.clientId is required", fieldError{Field: "oidc.clientId", Message: "required"})
	}
	if secret == nil && (creating || len(g.OIDCClientSecret) == 0) {
		return unprocessable("missing_field", "oidc.clientSecret is required", fieldError{Field: "oidc.clientSecret", Message: "required"})
	}
	g.OIDCAuthority, g.OIDCClientID = in.Authority, *id
	if secret != nil {
		sealed, err := s.keyring.seal([]byte(*secret), "grant-oidc:"+g.ID)
		if err != nil {
			return err
		}
		g.OIDCClientSecret = sealed
	}
	return nil
}

// ListGrants implements GET .../grants.
func (s *Server) ListGrants(ctx context.Context, req gen.ListGrantsRequestObject) (gen.ListGrantsResponseObject, error) {
	if _, err := s.accountOr404(ctx, req.Aid); err != nil {
		return nil, err
	}
	clientID := ""
	if req.Params.ClientID != nil {
		clientID = *req.Params.ClientID
	}
	rows, next, err := s.store.ListGrants(ctx, req.Aid, clientID, page(req.Params.Limit, req.Params.StartingAfter))
	if err != nil {
		return nil, err
	}
	items := make([]gen.Grant, len(rows))
	for i := range rows {
		items[i] = toGrant(&rows[i])
	}
	return gen.ListGrants200JSONResponse{Items: items, NextCursor: nextCursor(next)}, nil
}

// CreateGrant implements POST .../grants.
func (s *Server) CreateGrant(ctx context.Context, req gen.CreateGrantRequestObject) (gen.CreateGrantResponseObject, error) {
	if _, err := s.accountOr404(ctx, req.Aid); err != nil {
		return nil, err
	}
	b := req.Body
	clientID, err := pick("clientId", b.ClientID, b.ClientIDAlias)
	if err != nil {
		return nil, err
	}
	if clientID == nil {
		return nil, unprocessable("missing_field", "clientId is required", fieldError{Field: "clientId", Message: "required"})
	}
	scopes, err := pickList("scopes", b.Scopes, b.ScopeAlias)
	if err != nil {
		return nil, err
	}
	if scopes == nil {
		return nil, unprocessable("missing_field", "scopes is required", fieldError{Field: "scopes", Message: "required"})
	}
	c, err := s.store.GetAppClient(ctx, req.Aid, *clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, unprocessable("unknown_client", "no client "+*clientID+" in this account",
			fieldError{Field: "clientId", Message: "unknown client"})
	}
	if err != nil {
		return nil, err
	}
	if c.Kind == store.KindPublic && (b.Type == gen.GrantTypeClientCredentials || b.Type == gen.GrantTypePassword) {
		return nil, unprocessable("public_client", "a public client cannot authenticate, so it cannot hold a "+string(b.Type)+" grant",
			fieldError{Field: "type", Message: "needs a confidential client"})
	}
	now := time.Now().UTC()
	g := &store.Grant{
		ID: newID(), AID: req.Aid, ClientPK: c.ID, ClientID: c.ClientID, Audience: b.Audience,
		GrantType: string(b.Type), Scopes: dedupe(*scopes), CreatedAt: now, UpdatedAt: now,
	}
	if b.Oidc != nil {
		if err := s.applyOIDC(g, b.Oidc, true); err != nil {
			return nil, err
		}
	}
	if err := s.store.CreateGrant(ctx, g); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, conflict("the client already has a " + g.GrantType + " grant for this audience")
		}
		return nil, err
	}
	s.dropClient(req.Aid, c.ClientID)
	loc := "/v1/accounts/" + req.Aid + "/grants/" + g.ID
	return gen.CreateGrant201JSONResponse{Body: toGrant(g), Headers: gen.CreateGrant201ResponseHeaders{Location: &loc}}, nil
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// GetGrant implements GET .../grants/{grantId}.
func (s *Server) GetGrant(ctx context.Context, req gen.GetGrantRequestObject) (gen.GetGrantResponseObject, error) {
	g, err := s.grantOr404(ctx, req.Aid, req.GrantID)
	if err != nil {
		return nil, err
	}
	return gen.GetGrant200JSONResponse(toGrant(g)), nil
}

// UpdateGrant implements PATCH .../grants/{grantId}.
func (s *Server) UpdateGrant(ctx context.Context, req gen.UpdateGrantRequestObject) (gen.UpdateGrantResponseObject, error) {
	g, err := s.grantOr404(ctx, req.Aid, req.GrantID)
	if err != nil {
		return nil, err
	}
	var cols []string
	if req.Body.Scopes != nil {
		g.Scopes = dedupe(*req.Body.Scopes)
		cols = append(cols, "scopes")
	}
	if req.Body.Oidc.IsSpecified() {
		cols = append(cols, "oidc_authority", "oidc_client_id", "oidc_client_secret")
		if req.Body.Oidc.IsNull() {
			g.OIDCAuthority, g.OIDCClientID, g.OIDCClientSecret = "", "", nil
		} else {
			in := req.Body.Oidc.MustGet()
			if err := s.applyOIDC(g, &in, false); err != nil {
				return nil, err
			}
		}
	}
	if err := s.store.UpdateGrant(ctx, g, cols); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("grant")
		}
		return nil, err
	}
	s.dropClient(req.Aid, g.ClientID)
	return gen.UpdateGrant200JSONResponse(toGrant(g)), nil
}

// DeleteGrant implements DELETE .../grants/{grantId}.
func (s *Server) DeleteGrant(ctx context.Context, req gen.DeleteGrantRequestObject) (gen.DeleteGrantResponseObject, error) {
	g, err := s.grantOr404(ctx, req.Aid, req.GrantID)
	if err != nil {
		return nil, err
	}
	if err := s.store.DeleteGrant(ctx, req.Aid, g.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("grant")
		}
		return nil, err
	}
	s.dropClient(req.Aid, g.ClientID)
	return gen.DeleteGrant204Response{}, nil
}

package manage

import (
	"context"
	"errors"
	"net/url"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/store"
)

// grantOr404 loads a grant of the account, or answers 404.
func grantOr404(ctx context.Context, st *store.Store, aid, id string) (*store.Grant, error) {
	g, err := st.Grants().Get(ctx, aid, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("grant")
	}
	return g, err
}

// pick returns the value of a field that has a Dintero-style alias (client_id for
// clientId); when both are given they must agree.
func pick[T comparable](field string, a, alias *T) (*T, error) {
	if a != nil && alias != nil && *a != *alias {
		return nil, problem.Unprocessable("conflicting_fields", field+" and its alias disagree",
			problem.FieldError{Field: field, Message: "given twice with different values"})
	}
	if a != nil {
		return a, nil
	}
	return alias, nil
}

// pickList is pick for lists, which are refused when given twice at all: comparing them
// element by element would invite questions of order and repeats.
func pickList(field string, a, alias *[]string) (*[]string, error) {
	if a != nil && alias != nil {
		return nil, problem.Unprocessable("conflicting_fields", "give "+field+" once",
			problem.FieldError{Field: field, Message: "given twice (with its alias)"})
	}
	if a != nil {
		return a, nil
	}
	return alias, nil
}

// applyOIDC validates an upstream provider block and seals its secret into g. On an update
// the stored secret is kept when none is given.
func applyOIDC(kr *keys.Keyring, g *store.Grant, in *gen.GrantOIDCInput, creating bool) error {
	if g.GrantType != store.GrantAuthorizationCode {
		return problem.Unprocessable("oidc_needs_authorization_code", "an oidc block needs a grant of type authorization_code",
			problem.FieldError{Field: "oidc", Message: "only for type authorization_code"})
	}
	u, err := url.Parse(in.Authority)
	if err != nil || u.Host == "" || u.Fragment != "" || !(u.Scheme == "https" || (u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
		return problem.Unprocessable("invalid_authority", "oidc.authority must be an https URL (http only for loopback)",
			problem.FieldError{Field: "oidc.authority", Message: "must be an https URL"})
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
		return problem.Unprocessable("missing_field", "oidc.clientId is required",
			problem.FieldError{Field: "oidc.clientId", Message: "required"})
	}
	if secret == nil && (creating || len(g.OIDCClientSecret) == 0) {
		return problem.Unprocessable("missing_field", "oidc.clientSecret is required",
			problem.FieldError{Field: "oidc.clientSecret", Message: "required"})
	}
	g.OIDCAuthority, g.OIDCClientID = in.Authority, *id
	if secret != nil {
		// Bound to the grant: a sealed secret copied into another grant does not open.
		sealed, err := kr.Seal([]byte(*secret), "grant-oidc:"+g.ID)
		if err != nil {
			return err
		}
		g.OIDCClientSecret = sealed
	}
	return nil
}

// dedupe drops repeated values, keeping the first of each.
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

// ListGrants implements GET .../grants.
func (a *API) ListGrants(ctx context.Context, req gen.ListGrantsRequestObject) (gen.ListGrantsResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	clientID := ""
	if req.Params.ClientID != nil {
		clientID = *req.Params.ClientID
	}
	pg, err := page(a.keyring, "grants/"+req.Aid, req.Params.Limit, req.Params.StartingAfter)
	if err != nil {
		return nil, err
	}
	rows, next, err := a.store.Grants().List(ctx, req.Aid, clientID, pg)
	if err != nil {
		return nil, err
	}
	items := make([]gen.Grant, len(rows))
	for i := range rows {
		items[i] = toGrant(&rows[i])
	}
	return gen.ListGrants200JSONResponse{Items: items, NextCursor: nextCursor(a.keyring, "grants/"+req.Aid, next)}, nil
}

// CreateGrant implements POST .../grants.
func (a *API) CreateGrant(ctx context.Context, req gen.CreateGrantRequestObject) (gen.CreateGrantResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	b := req.Body
	// The schema cannot require "one of a field and its alias", so it is checked here.
	clientID, err := pick("clientId", b.ClientID, b.ClientIDAlias)
	if err != nil {
		return nil, err
	}
	if clientID == nil {
		return nil, problem.Unprocessable("missing_field", "clientId is required",
			problem.FieldError{Field: "clientId", Message: "required"})
	}
	scopes, err := pickList("scopes", b.Scopes, b.ScopeAlias)
	if err != nil {
		return nil, err
	}
	if scopes == nil {
		return nil, problem.Unprocessable("missing_field", "scopes is required",
			problem.FieldError{Field: "scopes", Message: "required"})
	}
	c, err := a.store.Clients().App(ctx, req.Aid, *clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.Unprocessable("unknown_client", "no client "+*clientID+" in this account",
			problem.FieldError{Field: "clientId", Message: "unknown client"})
	}
	if err != nil {
		return nil, err
	}
	if c.Kind == store.KindPublic && (b.Type == gen.GrantTypeClientCredentials || b.Type == gen.GrantTypePassword) {
		return nil, problem.Unprocessable("public_client", "a public client cannot authenticate, so it cannot hold a "+string(b.Type)+" grant",
			problem.FieldError{Field: "type", Message: "needs a confidential client"})
	}
	now := a.now().UTC()
	g := &store.Grant{
		ID: keys.NewID(), AID: req.Aid, ClientPK: c.ID, ClientID: c.ClientID, Audience: b.Audience,
		GrantType: string(b.Type), Scopes: dedupe(*scopes), CreatedAt: now, UpdatedAt: now,
	}
	if b.Oidc != nil {
		if err := applyOIDC(a.keyring, g, b.Oidc, true); err != nil {
			return nil, err
		}
	}
	if err := a.store.Grants().Create(ctx, g); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, problem.Conflict("the client already has a " + g.GrantType + " grant for this audience")
		}
		return nil, err
	}
	// The cached client carries its grants.
	a.clients.Forget(req.Aid, c.ClientID)
	a.record(ctx, req.Aid, gen.GrantCreated, "grant", g.ID)
	loc := "/v1/accounts/" + req.Aid + "/grants/" + g.ID
	return gen.CreateGrant201JSONResponse{Body: toGrant(g), Headers: gen.CreateGrant201ResponseHeaders{Location: &loc}}, nil
}

// GetGrant implements GET .../grants/{grantId}.
func (a *API) GetGrant(ctx context.Context, req gen.GetGrantRequestObject) (gen.GetGrantResponseObject, error) {
	g, err := grantOr404(ctx, a.store, req.Aid, req.GrantID)
	if err != nil {
		return nil, err
	}
	return gen.GetGrant200JSONResponse(toGrant(g)), nil
}

// UpdateGrant implements PATCH .../grants/{grantId}: scopes replace the held ones, and
// oidc: null removes the upstream provider.
func (a *API) UpdateGrant(ctx context.Context, req gen.UpdateGrantRequestObject) (gen.UpdateGrantResponseObject, error) {
	g, err := grantOr404(ctx, a.store, req.Aid, req.GrantID)
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
			if err := applyOIDC(a.keyring, g, &in, false); err != nil {
				return nil, err
			}
		}
	}
	if err := a.store.Grants().Update(ctx, g, cols); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, problem.NotFound("grant")
		}
		return nil, err
	}
	a.clients.Forget(req.Aid, g.ClientID)
	a.record(ctx, req.Aid, gen.GrantUpdated, "grant", g.ID)
	return gen.UpdateGrant200JSONResponse(toGrant(g)), nil
}

// DeleteGrant implements DELETE .../grants/{grantId}.
func (a *API) DeleteGrant(ctx context.Context, req gen.DeleteGrantRequestObject) (gen.DeleteGrantResponseObject, error) {
	g, err := grantOr404(ctx, a.store, req.Aid, req.GrantID)
	if err != nil {
		return nil, err
	}
	if err := a.store.Grants().Delete(ctx, req.Aid, g.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, problem.NotFound("grant")
		}
		return nil, err
	}
	a.clients.Forget(req.Aid, g.ClientID)
	a.record(ctx, req.Aid, gen.GrantDeleted, "grant", g.ID)
	return gen.DeleteGrant204Response{}, nil
}

package manage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/store"
)

// appClientOr404 loads an application client (public or confidential) by its client id, or
// answers 404; service accounts are not found here.
func appClientOr404(ctx context.Context, st *store.Store, aid, clientID string) (*store.Client, error) {
	c, err := st.Clients().App(ctx, aid, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("client")
	}
	return c, err
}

// isLoopbackHost: http is allowed only for these hosts (RFC 8252 §7.3; tests).
func isLoopbackHost(h string) bool {
	ip := net.ParseIP(h)
	return h == "localhost" || (ip != nil && ip.IsLoopback())
}

// checkEach checks each entry of a list field with check (a message, or "" when the entry
// is fine), naming the first bad one as field[i] with code; duplicates are dropped, the
// order kept.
func checkEach(field, code string, list []string, check func(string) string) ([]string, error) {
	out := make([]string, 0, len(list))
	seen := map[string]bool{}
	for i, raw := range list {
		if msg := check(raw); msg != "" {
			f := fmt.Sprintf("%s[%d]", field, i)
			return nil, problem.Unprocessable(code, f+": "+msg, problem.FieldError{Field: f, Message: msg})
		}
		if !seen[raw] {
			seen[raw] = true
			out = append(out, raw)
		}
	}
	return out, nil
}

// checkRedirectURIs enforces exact, absolute redirect URIs: no fragment (RFC 6749 §3.1.2),
// https, http only for loopback hosts (RFC 8252 §7.3), or a private-use scheme with a dot
// (RFC 8252 §7.1).
func checkRedirectURIs(field string, uris []string) ([]string, error) {
	return checkEach(field, "invalid_redirect_uri", uris, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil || !u.IsAbs() || strings.ContainsAny(raw, " \t\r\n\x00") {
			return "must be an absolute URI"
		}
		// url.Parse drops an empty fragment, so the "#" itself is looked for too.
		if u.Fragment != "" || strings.Contains(raw, "#") {
			return "must not contain a fragment"
		}
		switch u.Scheme {
		case "https":
			if u.Host == "" {
				return "must name a host"
			}
		case "http":
			if !isLoopbackHost(u.Hostname()) {
				return "http is allowed only for localhost and loopback addresses; use https"
			}
		case "javascript", "data", "file", "vbscript":
			return "scheme " + u.Scheme + " is not allowed"
		default:
			if !strings.Contains(u.Scheme, ".") {
				return "a private-use scheme must be a reverse domain name, such as com.example.app"
			}
		}
		return ""
	})
}

// checkOrigins enforces web origins as a browser sends them in Origin (RFC 6454 §6.1):
// scheme://host[:port] and nothing more, lower case, no wildcard; https, or http only for
// loopback hosts, as for redirect URIs.
func checkOrigins(field string, origins []string) ([]string, error) {
	return checkEach(field, "invalid_origin", origins, func(raw string) string {
		u, err := url.Parse(raw)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" || strings.ContainsAny(raw, " \t\r\n\x00"):
			return "must be an origin such as https://app.example.com"
		case strings.Contains(raw, "*"):
			return "wildcards are not allowed; list each origin"
		case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, "?#"):
			return "an origin has no path, query, fragment or user; use scheme://host[:port]"
		case raw != strings.ToLower(raw):
			return "must be lower case, as browsers send it"
		case u.Scheme != "http" && u.Scheme != "https":
			return "the scheme must be https (or http for loopback)"
		case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
			return "http is allowed only for localhost and loopback addresses; use https"
		case strings.HasSuffix(u.Host, ":"):
			return "an empty port is not allowed"
		case (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80"):
			return "leave out the default port: browsers send the origin without it"
		}
		return ""
	})
}

func deref[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

// ListClients implements GET .../clients.
func (a *API) ListClients(ctx context.Context, req gen.ListClientsRequestObject) (gen.ListClientsResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	pg, err := page(a.keyring, "clients/"+req.Aid, req.Params.Limit, req.Params.StartingAfter)
	if err != nil {
		return nil, err
	}
	rows, next, err := a.store.Clients().ListApps(ctx, req.Aid, pg)
	if err != nil {
		return nil, err
	}
	items := make([]gen.OAuthClient, len(rows))
	for i := range rows {
		items[i] = toOAuthClient(&rows[i])
	}
	return gen.ListClients200JSONResponse{Items: items, NextCursor: nextCursor(a.keyring, "clients/"+req.Aid, next)}, nil
}

// CreateClient implements POST .../clients.
func (a *API) CreateClient(ctx context.Context, req gen.CreateClientRequestObject) (gen.CreateClientResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	b := req.Body
	now := a.now().UTC()
	c := &store.Client{
		// Client ids are random UUIDs: unguessable and unordered, unlike row ids.
		ID: keys.NewID(), AID: req.Aid, ClientID: keys.NewUUID4(), Kind: string(b.Type), Name: b.Name,
		CreatedAt: now, UpdatedAt: now, Scopes: []store.Scope{},
	}
	if b.Description != nil {
		c.Description = *b.Description
	}
	c.MFA = clientMFA(b.Mfa)
	var err error
	if c.RedirectURIs, err = checkRedirectURIs("redirectUris", deref(b.RedirectUris)); err != nil {
		return nil, err
	}
	if c.PostLogoutRedirectURIs, err = checkRedirectURIs("postLogoutRedirectUris", deref(b.PostLogoutRedirectUris)); err != nil {
		return nil, err
	}
	if c.AllowedOrigins, err = checkOrigins("allowedOrigins", deref(b.AllowedOrigins)); err != nil {
		return nil, err
	}
	if err := a.store.Clients().Create(ctx, c, nil); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, problem.Conflict("a client with this name already exists")
		}
		return nil, err
	}
	// The protocol caches unknown clients too.
	a.clients.Forget(req.Aid, c.ClientID)
	a.record(ctx, req.Aid, gen.ClientCreated, "client", c.ClientID)
	loc := "/v1/accounts/" + req.Aid + "/clients/" + c.ClientID
	return gen.CreateClient201JSONResponse{Body: toOAuthClient(c), Headers: gen.CreateClient201ResponseHeaders{Location: &loc}}, nil
}

// GetClient implements GET .../clients/{clientId}.
func (a *API) GetClient(ctx context.Context, req gen.GetClientRequestObject) (gen.GetClientResponseObject, error) {
	c, err := appClientOr404(ctx, a.store, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	return gen.GetClient200JSONResponse(toOAuthClient(c)), nil
}

// UpdateClient implements PATCH .../clients/{clientId}: only the fields given are written;
// the type is fixed, since secrets and grants depend on it.
func (a *API) UpdateClient(ctx context.Context, req gen.UpdateClientRequestObject) (gen.UpdateClientResponseObject, error) {
	c, err := appClientOr404(ctx, a.store, req.Aid, req.ClientID)
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
	if b.AllowedOrigins != nil {
		if c.AllowedOrigins, err = checkOrigins("allowedOrigins", *b.AllowedOrigins); err != nil {
			return nil, err
		}
		cols = append(cols, "allowed_origins")
	}
	if b.Mfa != nil {
		c.MFA = clientMFA(b.Mfa)
		cols = append(cols, "mfa")
	}
	if err := a.store.Clients().Update(ctx, c, cols, nil); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict):
			return nil, problem.Conflict("a client with this name already exists")
		case errors.Is(err, store.ErrNotFound):
			return nil, problem.NotFound("client")
		}
		return nil, err
	}
	a.clients.Forget(req.Aid, c.ClientID)
	a.record(ctx, req.Aid, gen.ClientUpdated, "client", c.ClientID)
	return gen.UpdateClient200JSONResponse(toOAuthClient(c)), nil
}

// DeleteClient implements DELETE .../clients/{clientId}: secrets and grants go with it, and
// its refresh tokens stop working (they are bound to the client id, which no longer exists).
func (a *API) DeleteClient(ctx context.Context, req gen.DeleteClientRequestObject) (gen.DeleteClientResponseObject, error) {
	c, err := appClientOr404(ctx, a.store, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	if err := a.store.Clients().Delete(ctx, req.Aid, c.Kind, c.ID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, problem.NotFound("client")
		}
		return nil, err
	}
	a.clients.Forget(req.Aid, c.ClientID)
	a.record(ctx, req.Aid, gen.ClientDeleted, "client", c.ClientID)
	return gen.DeleteClient204Response{}, nil
}

// ListClientSecrets implements GET .../clients/{clientId}/secrets.
func (a *API) ListClientSecrets(ctx context.Context, req gen.ListClientSecretsRequestObject) (gen.ListClientSecretsResponseObject, error) {
	c, err := appClientOr404(ctx, a.store, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	items, next, err := a.secrets.list(ctx, c, req.Params.Limit, req.Params.StartingAfter)
	if err != nil {
		return nil, err
	}
	return gen.ListClientSecrets200JSONResponse{Items: items, NextCursor: next}, nil
}

// CreateClientSecret implements POST .../clients/{clientId}/secrets: the value is returned
// once, and Cache-Control: no-store keeps it out of caches.
func (a *API) CreateClientSecret(ctx context.Context, req gen.CreateClientSecretRequestObject) (gen.CreateClientSecretResponseObject, error) {
	c, err := appClientOr404(ctx, a.store, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	// A public client runs where a secret cannot be kept (RFC 6749 §2.1).
	if c.Kind != store.KindConfidential {
		return nil, problem.Unprocessable("public_client", "public clients have no secrets; create a confidential client")
	}
	out, err := a.secrets.add(ctx, c, req.Body)
	if err != nil {
		return nil, err
	}
	a.recordSecret(ctx, req.Aid, gen.SecretCreated, out.ID, c.ClientID)
	noStore := "no-store"
	loc := "/v1/accounts/" + req.Aid + "/clients/" + c.ClientID + "/secrets/" + out.ID
	return gen.CreateClientSecret201JSONResponse{Body: out,
		Headers: gen.CreateClientSecret201ResponseHeaders{Location: &loc, CacheControl: &noStore}}, nil
}

// DeleteClientSecret implements DELETE .../clients/{clientId}/secrets/{secretId}.
func (a *API) DeleteClientSecret(ctx context.Context, req gen.DeleteClientSecretRequestObject) (gen.DeleteClientSecretResponseObject, error) {
	c, err := appClientOr404(ctx, a.store, req.Aid, req.ClientID)
	if err != nil {
		return nil, err
	}
	if err := a.secrets.delete(ctx, c, req.SecretID); err != nil {
		return nil, err
	}
	a.recordSecret(ctx, req.Aid, gen.SecretDeleted, req.SecretID, c.ClientID)
	return gen.DeleteClientSecret204Response{}, nil
}

// clientMFA is the stored override: "" inherits the account's setting.
func clientMFA(v *gen.ClientMFA) string {
	if v == nil || *v == gen.ClientMFAInherit {
		return ""
	}
	return string(*v)
}

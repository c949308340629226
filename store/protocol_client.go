package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"
)

// ProtocolClient is what the protocol needs of a client (the token endpoint, the browser
// sign-in), as every node loads it once per client and cache TTL: no names, descriptions or
// timestamps.
type ProtocolClient struct {
	ID, AID, ClientID, Kind              string
	RedirectURIs, PostLogoutRedirectURIs []string
	RatePerMinute, RateBurst             *int
	// MFA tightens the account's mfa setting for this client ("" keeps it).
	MFA string
	// Scopes of a service account, in the order they were assigned, with ID, AID, Audience
	// and Scope set. An application client holds none of its own (its grants carry them).
	Scopes []Scope
	// Secrets, every one (live or expired), in no particular order.
	Secrets []ClientSecretHash
	// Grants of an application client in id order, without their timestamps; none for a
	// service account.
	Grants []Grant
}

// ClientSecretHash is what checking a secret needs of it.
type ClientSecretHash struct {
	ID        string
	Hash      []byte
	ExpiresAt *time.Time
}

// Live reports whether the secret has not expired at now.
func (h ClientSecretHash) Live(now time.Time) bool {
	return h.ExpiresAt == nil || now.Before(*h.ExpiresAt)
}

// The statements of ForProtocol: the client with its secrets (a client without secrets is
// one row of NULL secret columns), then its scopes or its grants. They select only the
// columns the protocol reads: on SQLite each statement is compiled again every time, and
// the cost grows with each column and each time parsed.
const (
	protocolClientSQL = `SELECT c.id, c.kind, c.redirect_uris, c.post_logout_redirect_uris, c.rate_per_minute,
 c.rate_burst, c.mfa, s.id, s.hash, s.expires_at
FROM clients c LEFT JOIN client_secrets s ON s.client_pk = c.id
WHERE c.aid = ? AND c.client_id = ?`
	protocolScopesSQL = `SELECT s.id, s.audience, s.scope
FROM client_scopes cs JOIN scopes s ON s.id = cs.scope_id
WHERE cs.client_pk = ?
ORDER BY cs.position`
	protocolGrantsSQL = `SELECT id, audience, grant_type, scopes, oidc_authority, oidc_client_id, oidc_client_secret
FROM grants
WHERE client_pk = ?
ORDER BY id`
)

// ForProtocol loads a client of an account by its OAuth client_id with its secrets and its
// scopes or grants: two statements, one for an unknown client (ErrNotFound).
func (grp Clients) ForProtocol(ctx context.Context, aid, clientID string) (*ProtocolClient, error) {
	s := grp.s
	var pc *ProtocolClient
	err := s.each(ctx, protocolClientSQL, []any{aid, clientID}, func(r *sql.Rows) error {
		var (
			c                     ProtocolClient
			redirects, postLogout string
			perMinute, burst      sql.NullInt64
			secID                 sql.NullString
			sec                   ClientSecretHash
			expires               sql.NullTime
		)
		if err := r.Scan(&c.ID, &c.Kind, &redirects, &postLogout, &perMinute, &burst, &c.MFA, &secID, &sec.Hash,
			&expires); err != nil {
			return err
		}
		if pc == nil {
			var err error
			if c.RedirectURIs, err = jsonList(redirects); err != nil {
				return err
			}
			if c.PostLogoutRedirectURIs, err = jsonList(postLogout); err != nil {
				return err
			}
			c.AID, c.ClientID = aid, clientID
			c.RatePerMinute, c.RateBurst = intOrNil(perMinute), intOrNil(burst)
			c.Scopes, c.Secrets, c.Grants = []Scope{}, []ClientSecretHash{}, []Grant{}
			pc = &c
		}
		if secID.Valid {
			sec.ID = secID.String
			if expires.Valid {
				at := expires.Time.UTC()
				sec.ExpiresAt = &at
			}
			pc.Secrets = append(pc.Secrets, sec)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if pc == nil {
		return nil, ErrNotFound
	}
	if pc.Kind == KindServiceAccount {
		err = s.each(ctx, protocolScopesSQL, []any{pc.ID}, func(r *sql.Rows) error {
			sc := Scope{AID: pc.AID}
			if err := r.Scan(&sc.ID, &sc.Audience, &sc.Scope); err != nil {
				return err
			}
			pc.Scopes = append(pc.Scopes, sc)
			return nil
		})
	} else {
		err = s.each(ctx, protocolGrantsSQL, []any{pc.ID}, func(r *sql.Rows) error {
			g := Grant{AID: pc.AID, ClientPK: pc.ID, ClientID: pc.ClientID}
			var scopes string
			if err := r.Scan(&g.ID, &g.Audience, &g.GrantType, &scopes, &g.OIDCAuthority, &g.OIDCClientID,
				&g.OIDCClientSecret); err != nil {
				return err
			}
			var err error
			g.Scopes, err = jsonList(scopes)
			pc.Grants = append(pc.Grants, g)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	return pc, nil
}

// jsonList reads a JSON list column as GORM's serializer does (an empty list is empty, not
// nil), without the decoder for the common empty one.
func jsonList(text string) ([]string, error) {
	if text == "[]" {
		return []string{}, nil
	}
	var out []string
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return nil, err
	}
	return out, nil
}

func intOrNil(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

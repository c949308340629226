package server

import (
	"encoding/json"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

// Conversions from store rows to API types.

func (s *Server) toAccount(a *store.Account) gen.Account {
	set := s.settings(a)
	alg := gen.AccountSettingsSigningAlg(set.SigningAlg)
	return gen.Account{
		Aid: a.AID, Name: a.Name, Issuer: s.issuer(a.AID),
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(),
		Settings: gen.AccountSettings{
			SigningAlg:          &alg,
			AccessTokenLifetime: &set.AccessTokenLifetime,
			KeyPropagationDelay: set.KeyPropagationDelay,
			KeyRotationInterval: &set.KeyRotationInterval,
			TokenRateLimit:      &gen.RateLimit{PerMinute: set.TokenRatePerMinute, Burst: set.TokenRateBurst},

			RefreshTokenIdleLifetime:     &set.RefreshIdleLifetime,
			RefreshTokenAbsoluteLifetime: &set.RefreshAbsoluteLifetime,
			RefreshTokenReuseGrace:       set.RefreshReuseGrace,
			LoginMaxFailures:             &set.LoginMaxFailures,
			LoginIPMaxFailures:           &set.LoginIPMaxFailures,
			LoginLockoutSeconds:          &set.LoginLockoutSeconds,
			InvitationLifetime:           &set.InvitationLifetime,
			EmailSenderName:              &set.EmailSenderName,
			SessionIdleLifetime:          &set.SessionIdleLifetime,
			SessionAbsoluteLifetime:      &set.SessionAbsoluteLifetime,
		},
	}
}

func toScope(sc *store.Scope) gen.Scope {
	return gen.Scope{
		ID: sc.ID, ServiceName: sc.ServiceName, Audience: sc.Audience, Scope: sc.Scope,
		Description: sc.Description, Builtin: sc.Builtin, CreatedAt: sc.CreatedAt.UTC(),
	}
}

func (s *Server) toServiceAccount(c *store.Client) gen.ServiceAccount {
	scopes := make([]gen.ServiceAccountScope, len(c.Scopes))
	for i, sc := range c.Scopes {
		scopes[i] = gen.ServiceAccountScope{ServiceName: sc.ServiceName, Scope: sc.Scope}
	}
	out := gen.ServiceAccount{
		ID: c.ID, ClientID: c.ClientID, Name: c.Name, Description: c.Description,
		CreatedAt: c.CreatedAt.UTC(), GrantType: gen.ServiceAccountGrantTypeClientCredentials,
		TokenURI: s.issuer(c.AID) + "/auth/token", Scopes: scopes,
	}
	if c.RatePerMinute != nil && c.RateBurst != nil {
		out.TokenRateLimit = &gen.RateLimit{PerMinute: *c.RatePerMinute, Burst: *c.RateBurst}
	}
	return out
}

func toSecret(sec *store.Secret, now time.Time) gen.Secret {
	out := gen.Secret{
		ID: sec.ID, Hint: sec.Hint, Description: sec.Description, CreatedAt: sec.CreatedAt.UTC(),
		Status: gen.SecretStatusActive,
	}
	if sec.ExpiresAt != nil {
		out.ExpiresAt = nullable.NewNullableWithValue(sec.ExpiresAt.UTC())
		switch {
		case !now.Before(*sec.ExpiresAt):
			out.Status = gen.SecretStatusExpired
		case sec.ExpiresAt.Sub(now) < secretExpiringSoon:
			out.Status = gen.SecretStatusExpiring
		}
	} else {
		out.ExpiresAt = nullable.NewNullNullable[time.Time]()
	}
	if sec.LastUsedAt != nil {
		out.LastUsedAt = nullable.NewNullableWithValue(sec.LastUsedAt.UTC())
	} else {
		out.LastUsedAt = nullable.NewNullNullable[time.Time]()
	}
	return out
}

func toSigningKey(rows []store.SigningKey, i int, now time.Time) (gen.SigningKey, error) {
	k := rows[i]
	var jwk gen.JWK
	if err := json.Unmarshal([]byte(k.PublicJWK), &jwk); err != nil {
		return gen.SigningKey{}, err
	}
	out := gen.SigningKey{
		Kid: k.KID, Alg: gen.SigningKeyAlg(k.Alg), Use: gen.Sig,
		Status:    gen.SigningKeyStatus(keyStatus(rows, i, now)),
		CreatedAt: k.CreatedAt.UTC(), ActivatesAt: k.ActivatesAt.UTC(), PublicJwk: jwk,
		RetiresAt: nullable.NewNullNullable[time.Time](),
	}
	if k.RetiresAt != nil {
		out.RetiresAt = nullable.NewNullableWithValue(k.RetiresAt.UTC())
	}
	return out, nil
}

func nextCursor(next string) nullable.Nullable[string] {
	if next == "" {
		return nullable.NewNullNullable[string]()
	}
	return nullable.NewNullableWithValue(next)
}

// page turns the generated list parameters into a store page.
func page(limit *int, after *string) store.Page {
	p := store.Page{Limit: 20}
	if limit != nil {
		p.Limit = *limit
	}
	if after != nil {
		p.After = *after
	}
	return p
}

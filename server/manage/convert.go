package manage

import (
	"encoding/json"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/store"
)

// Conversions from store rows to API types. Times are shown in UTC whatever the database
// returned, and absent optional values as JSON null where the schema says nullable.

// secretExpiringSoon: a secret this close to its expiry shows as expiring, so that rotation
// starts in time.
const secretExpiringSoon = 14 * 24 * time.Hour

// toAccount shows the effective settings (defaults filled in), so clients see what applies.
func toAccount(a *store.Account, issuer string) gen.Account {
	set := account.Effective(a)
	alg := gen.AccountSettingsSigningAlg(set.SigningAlg)
	mfa := gen.AccountSettingsMfa(set.MFA)
	return gen.Account{
		Aid: a.AID, Name: a.Name, Issuer: issuer,
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
			Mfa:                          &mfa,
		},
	}
}

func toScope(sc *store.Scope) gen.Scope {
	return gen.Scope{
		ID: sc.ID, ServiceName: sc.ServiceName, Audience: sc.Audience, Scope: sc.Scope,
		Description: sc.Description, Builtin: sc.Builtin, CreatedAt: sc.CreatedAt.UTC(),
	}
}

// toServiceAccount names the token endpoint under the account's issuer, where the service
// account obtains its tokens.
func toServiceAccount(c *store.Client, issuer string) gen.ServiceAccount {
	scopes := make([]gen.ServiceAccountScope, len(c.Scopes))
	for i, sc := range c.Scopes {
		scopes[i] = gen.ServiceAccountScope{ServiceName: sc.ServiceName, Scope: sc.Scope}
	}
	out := gen.ServiceAccount{
		ID: c.ID, ClientID: c.ClientID, Name: c.Name, Description: c.Description,
		CreatedAt: c.CreatedAt.UTC(), GrantType: gen.ServiceAccountGrantTypeClientCredentials,
		TokenURI: issuer + "/auth/token", Scopes: scopes,
	}
	if c.RatePerMinute != nil && c.RateBurst != nil {
		out.TokenRateLimit = &gen.RateLimit{PerMinute: *c.RatePerMinute, Burst: *c.RateBurst}
	}
	return out
}

func toOAuthClient(c *store.Client) gen.OAuthClient {
	mfa := gen.ClientMFA(c.MFA)
	if mfa == "" {
		mfa = gen.ClientMFAInherit
	}
	return gen.OAuthClient{Mfa: &mfa,
		ClientID: c.ClientID, Name: c.Name, Description: c.Description, Type: gen.ClientType(c.Kind),
		RedirectUris: nonNil(c.RedirectURIs), PostLogoutRedirectUris: nonNil(c.PostLogoutRedirectURIs),
		AllowedOrigins: nonNil(c.AllowedOrigins),
		CreatedAt:      c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
}

// toSecret shows a secret without its value; its status is worked out at now.
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

// toSigningKey shows rows[i] with its status at now; rows are the live keys, newest
// activation first, since the status depends on the newer generations.
func toSigningKey(rows []store.SigningKey, i int, now time.Time) (gen.SigningKey, error) {
	k := rows[i]
	var jwk gen.JWK
	if err := json.Unmarshal([]byte(k.PublicJWK), &jwk); err != nil {
		return gen.SigningKey{}, err
	}
	out := gen.SigningKey{
		Kid: k.KID, Alg: gen.SigningKeyAlg(k.Alg), Use: gen.Sig,
		Status:    gen.SigningKeyStatus(keys.Status(rows, i, now)),
		CreatedAt: k.CreatedAt.UTC(), ActivatesAt: k.ActivatesAt.UTC(), PublicJwk: jwk,
		RetiresAt: nullable.NewNullNullable[time.Time](),
	}
	if k.RetiresAt != nil {
		out.RetiresAt = nullable.NewNullableWithValue(k.RetiresAt.UTC())
	}
	return out, nil
}

func toGrant(g *store.Grant) gen.Grant {
	out := gen.Grant{
		ID: g.ID, ClientID: g.ClientID, Audience: g.Audience, Type: gen.GrantType(g.GrantType),
		Scopes: nonNil(g.Scopes), CreatedAt: g.CreatedAt.UTC(), UpdatedAt: g.UpdatedAt.UTC(),
	}
	// The upstream secret is never shown, only whether there is one.
	if g.OIDCAuthority != "" {
		out.Oidc = &gen.GrantOIDC{Authority: g.OIDCAuthority, ClientID: g.OIDCClientID,
			HasClientSecret: len(g.OIDCClientSecret) > 0}
	}
	return out
}

// toCustomer shows whether a customer has a password, never its hash.
func toCustomer(c *store.Customer) gen.Customer {
	out := gen.Customer{
		CustomerID: c.ID, Name: c.Name, Type: gen.CustomerType(c.Type), Status: gen.CustomerStatus(c.Status),
		EmailVerified: c.EmailVerified, HasPassword: c.PasswordHash != "", Scopes: nonNil(c.Scopes),
		Metadata: c.Metadata, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
	if out.Metadata == nil {
		out.Metadata = map[string]any{}
	}
	if c.Email != nil {
		out.Email = nullable.NewNullableWithValue(*c.Email)
	} else {
		out.Email = nullable.NewNullNullable[string]()
	}
	if c.PhoneNumber != nil {
		out.PhoneNumber = nullable.NewNullableWithValue(*c.PhoneNumber)
	} else {
		out.PhoneNumber = nullable.NewNullNullable[string]()
	}
	return out
}

// nonNil makes an empty list JSON [] rather than null, as the schemas require.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

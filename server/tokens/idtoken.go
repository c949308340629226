package tokens

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/twinid/twinid/store"
)

// OIDCScopes are the OpenID Connect scopes twinid understands; other scopes are API scopes.
var OIDCScopes = []string{"openid", "profile", "email", "phone", "offline_access"}

// IsOIDCScope reports whether scope is one of OIDCScopes.
func IsOIDCScope(scope string) bool { return slices.Contains(OIDCScopes, scope) }

// IDToken signs an OpenID Connect ID token (Core §2) for the customer signed in with code,
// with at_hash of the access token issued beside it.
func (t *Tokens) IDToken(ctx context.Context, acct *store.Account, set store.AccountSettings, c *store.Customer, clientID string, code *store.AuthCode, accessToken string) (string, error) {
	ks, err := t.keys.Get(ctx, acct.AID)
	if err != nil {
		return "", err
	}
	if ks.IDSigner == nil {
		return "", errors.New("account " + acct.AID + " has no active signing key")
	}
	now := t.now()
	sum := sha256.Sum256([]byte(accessToken))
	claims := map[string]any{
		"iss": t.accounts.Issuer(acct.AID), "sub": c.ID, "aud": clientID, "azp": clientID,
		"iat": now.Unix(), "exp": now.Add(time.Duration(set.AccessTokenLifetime) * time.Second).Unix(),
		"auth_time": code.AuthTimeMS / 1000, "at_hash": base64.RawURLEncoding.EncodeToString(sum[:16]),
		"sid": code.SessionID,
	}
	if code.Nonce != "" {
		claims["nonce"] = code.Nonce
	}
	// How the customer signed in (OpenID Connect Core §2, RFC 8176).
	if amr := strings.Fields(code.AMR); len(amr) > 0 {
		claims["amr"], claims["acr"] = amr, ACR(amr)
	}
	for k, v := range StandardClaims(c, strings.Fields(code.Scopes)) {
		claims[k] = v
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return ks.IDSigner.SignID(payload)
}

// StandardClaims are the customer's claims that the scopes release (OpenID Connect §5.4).
func StandardClaims(c *store.Customer, scopes []string) map[string]any {
	out := map[string]any{}
	if slices.Contains(scopes, "profile") {
		out["name"] = c.Name
		out["updated_at"] = c.UpdatedAt.Unix()
	}
	if slices.Contains(scopes, "email") && c.Email != nil {
		out["email"] = *c.Email
		out["email_verified"] = c.EmailVerified
	}
	if slices.Contains(scopes, "phone") && c.PhoneNumber != nil {
		out["phone_number"] = *c.PhoneNumber
		out["phone_number_verified"] = false
	}
	return out
}

// VerifyIDToken checks an ID token this account issued: its signature (from the account's
// JWKS) and issuer, not its expiry (OpenID Connect allows expired ones as id_token_hint),
// and returns its claims.
func (t *Tokens) VerifyIDToken(ctx context.Context, aid, tok string) (map[string]any, error) {
	ks, err := t.keys.Get(ctx, aid)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify([]byte(tok), jws.WithKeySet(ks.Verify, jws.WithInferAlgorithmFromKey(true)))
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, err
	}
	if claims["iss"] != t.accounts.Issuer(aid) {
		return nil, errors.New("wrong issuer")
	}
	return claims, nil
}

package tokens

import (
	"slices"
	"time"

	"github.com/twinid/twinid/server/oauth2"
)

// Access is an access token to issue. A Lifetime of 0 means the account's
// accessTokenLifetime. FamilyID names the refresh family the token is issued with (at
// login, at the code exchange, at each refresh); the token ends with the family. Tokens
// without a family (client_credentials) leave it empty.
type Access struct {
	Sub, ClientID, Audience string
	FamilyID                string
	Scopes                  []string
	Lifetime                time.Duration
	// AMR are the customer's authentication methods (RFC 8176); ACR follows from them.
	AMR []string
}

// Authentication context classes of twinid's tokens (OpenID Connect Core §2 acr).
const (
	ACRPassword = "urn:twinid:acr:pwd"
	ACRMFA      = "urn:twinid:acr:mfa"
)

// ACR is the class of a sign-in with the methods amr: multi-factor with mfa, else
// single-factor ("" without methods: a client's own token).
func ACR(amr []string) string {
	switch {
	case slices.Contains(amr, "mfa"):
		return ACRMFA
	case len(amr) > 0:
		return ACRPassword
	}
	return ""
}

// appendAccessClaims appends the RFC 9068 claims of twinid's access token a, plus aid and,
// for a token issued with a refresh family, fid: the family's id (a private claim, RFC 7519
// §4.3); amr and acr say how the customer signed in (RFC 9068 §2.2.3.1, RFC 8176). The JSON
// is what encoding/json makes of the test's accessClaims, without its reflection: the issuer
// {publicURL}/v1/accounts/{aid} and the space-separated scope are written in place rather
// than built first.
func appendAccessClaims(dst []byte, publicURL, aid string, a Access, iat, exp int64, jti string) []byte {
	dst = append(dst, `{"iss":"`...)
	dst = oauth2.AppendEscaped(dst, publicURL)
	dst = append(dst, "/v1/accounts/"...)
	dst = oauth2.AppendEscaped(dst, aid)
	dst = append(dst, '"')
	dst = oauth2.AppendMember(dst, "sub", a.Sub)
	dst = oauth2.AppendMember(dst, "aud", a.Audience)
	dst = oauth2.AppendInt(dst, "exp", exp)
	dst = oauth2.AppendInt(dst, "iat", iat)
	dst = oauth2.AppendMember(dst, "jti", jti)
	dst = oauth2.AppendMember(dst, "client_id", a.ClientID)
	dst = oauth2.AppendJoined(dst, "scope", a.Scopes)
	dst = oauth2.AppendMember(dst, "aid", aid)
	if a.FamilyID != "" {
		dst = oauth2.AppendMember(dst, "fid", a.FamilyID)
	}
	if len(a.AMR) > 0 {
		dst = append(dst, `,"amr":[`...)
		for i, m := range a.AMR {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = oauth2.AppendString(dst, m)
		}
		dst = append(dst, ']')
		dst = oauth2.AppendMember(dst, "acr", ACR(a.AMR))
	}
	return append(dst, '}')
}

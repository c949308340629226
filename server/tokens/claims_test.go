package tokens

import (
	"encoding/json"
	"strings"
	"testing"
)

// accessClaims are the claims appendAccessClaims writes, in the form encoding/json gives
// them: the reference its output is compared with.
type accessClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Jti      string `json:"jti"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	AID      string `json:"aid"`
	FID      string `json:"fid,omitempty"`
	// AMR and ACR say how the customer signed in (RFC 9068 §2.2.3.1, RFC 8176).
	AMR []string `json:"amr,omitempty"`
	ACR string   `json:"acr,omitempty"`
}

// The appended claims are byte for byte what encoding/json makes of accessClaims, with and
// without a family, for ordinary and awkward values alike.
func TestAppendAccessClaimsMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, a := range []Access{
		{Sub: "sa_1", ClientID: "sa_1", Audience: "api://tenant-a", Scopes: []string{"api://tenant-a/.default"}},
		{Sub: "cu_2", ClientID: "web", Audience: "api://auth", FamilyID: "fam", Scopes: []string{"openid", "accounts:auth:users"}},
		{Sub: `q"uote\`, ClientID: "c\n", Audience: "é\u2028", Scopes: nil},
		{Sub: "cu_3", ClientID: "web", Audience: "api://auth", FamilyID: "fam", Scopes: []string{"openid"}, AMR: []string{"pwd", "otp", "mfa"}},
		{Sub: "cu_4", ClientID: "web", Audience: "api://auth", AMR: []string{"pwd"}},
	} {
		want, err := json.Marshal(accessClaims{Iss: "http://127.0.0.1:8080/v1/accounts/acme", Sub: a.Sub, Aud: a.Audience,
			Exp: 1700003600, Iat: 1700000000, Jti: "j-1", ClientID: a.ClientID, Scope: strings.Join(a.Scopes, " "),
			AID: "acme", FID: a.FamilyID, AMR: a.AMR, ACR: ACR(a.AMR)})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendAccessClaims(nil, "http://127.0.0.1:8080", "acme", a, 1700000000, 1700003600, "j-1"); string(got) != string(want) {
			t.Errorf("claims\n got %s\nwant %s", got, want)
		}
	}
}

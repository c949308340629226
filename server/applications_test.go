package server_test

import (
	"strings"
	"testing"
)

func TestClientsAndGrants(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": "shop", "name": "Shop"}), 201)
		base := "/v1/accounts/shop"

		spa := must(t, e.do("POST", base+"/clients", admin, map[string]any{
			"name": "My Page", "type": "public", "redirectUris": []string{"https://app.example.com/cb", "http://127.0.0.1:5173/cb", "com.example.app:/cb"}}), 201)
		if spa["type"] != "public" || len(spa["redirectUris"].([]any)) != 3 {
			t.Fatalf("client: %v", spa)
		}
		spaID := spa["clientId"].(string)
		// Public clients have no secrets and no grants that need client authentication.
		r := e.do("POST", base+"/clients/"+spaID+"/secrets", admin, map[string]any{})
		must(t, r, 422)
		r = e.do("POST", base+"/grants", admin, map[string]any{"clientId": spaID, "audience": "https://api.example.com", "type": "password", "scopes": []string{}})
		must(t, r, 422)

		for _, bad := range []string{"http://evil.example.com/cb", "https://app.example.com/cb#frag", "javascript:alert(1)", "/relative", "myapp:/cb"} {
			r := e.do("POST", base+"/clients", admin, map[string]any{"name": "bad", "type": "public", "redirectUris": []string{bad}})
			if r.status != 422 {
				t.Errorf("redirect URI %q: want 422, got %d %s", bad, r.status, r.body)
			}
		}

		login := must(t, e.do("POST", base+"/clients", admin, map[string]any{"name": "login", "type": "confidential"}), 201)
		loginID := login["clientId"].(string)
		sec := must(t, e.do("POST", base+"/clients/"+loginID+"/secrets", admin, nil), 201)
		if !strings.HasPrefix(sec["secret"].(string), "twid_") {
			t.Fatalf("secret: %v", sec)
		}
		// The Dintero JSON (snake_case aliases) is accepted as written.
		g := must(t, e.do("POST", base+"/grants", admin, map[string]any{
			"client_id": loginID, "audience": "https://api.example.com", "type": "client_credentials",
			"scope": []string{"accounts:auth:users", "customer_customers:read"}}), 201)
		if g["clientId"] != loginID || len(g["scopes"].([]any)) != 2 {
			t.Fatalf("grant: %v", g)
		}
		must(t, e.do("POST", base+"/grants", admin, map[string]any{
			"clientId": loginID, "audience": "https://api.example.com", "type": "client_credentials", "scopes": []string{"x"}}), 409)
		must(t, e.do("POST", base+"/grants", admin, map[string]any{
			"clientId": "nope", "audience": "a", "type": "client_credentials", "scopes": []string{"x"}}), 422)
		must(t, e.do("POST", base+"/grants", admin, map[string]any{
			"clientId": loginID, "audience": "a", "type": "client_credentials", "scopes": []string{"has space"}}), 400)

		// An upstream OIDC block: the secret is write-only and stored sealed.
		vipps := must(t, e.do("POST", base+"/grants", admin, map[string]any{
			"client_id": spaID, "audience": "https://api.example.com", "type": "authorization_code",
			"scope": []string{"user:customers", "user:customers:/users?type=customer&phone_number"},
			"oidc": map[string]any{"authority": "https://idp.example.com/.well-known/openid-configuration",
				"client_id": "vipps-client", "client_secret": "vipps-very-secret"}}), 201)
		if o := vipps["oidc"].(map[string]any); o["clientId"] != "vipps-client" || o["hasClientSecret"] != true || o["clientSecret"] != nil {
			t.Fatalf("oidc block: %v", o)
		}
		if strings.Contains(string(e.do("GET", base+"/grants/"+vipps["id"].(string), admin, nil).body), "vipps-very-secret") {
			t.Fatal("the upstream secret is returned")
		}
		var raw []byte
		e.st.DB().Table("grants").Where("id = ?", vipps["id"]).Select("oidc_client_secret").Row().Scan(&raw)
		if len(raw) == 0 || strings.Contains(string(raw), "vipps-very-secret") {
			t.Fatalf("the upstream secret is not stored sealed: %q", raw)
		}

		list := must(t, e.do("GET", base+"/grants?clientId="+loginID, admin, nil), 200)
		if n := len(list["items"].([]any)); n != 1 {
			t.Fatalf("grants of the login client: %d", n)
		}
		up := must(t, e.do("PATCH", base+"/grants/"+g["id"].(string), admin, map[string]any{"scopes": []string{"accounts:auth:users"}}), 200)
		if len(up["scopes"].([]any)) != 1 {
			t.Fatalf("patched grant: %v", up)
		}
		// Deleting a client takes its grants and secrets along.
		must(t, e.do("DELETE", base+"/clients/"+loginID, admin, nil), 204)
		must(t, e.do("GET", base+"/grants/"+g["id"].(string), admin, nil), 404)
		must(t, e.do("GET", base+"/clients/"+loginID, admin, nil), 404)
		// Service accounts are not clients here, and clients are not service accounts.
		must(t, e.do("GET", "/v1/accounts/root/clients/"+e.adminID, admin, nil), 404)
	})
}

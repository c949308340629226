package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// serviceToken creates a service account in aid holding scopes, gives it a secret and
// returns a client_credentials token of it.
func (e *env) serviceToken(admin, aid, name string, scopes ...string) string {
	e.t.Helper()
	sa := must(e.t, e.do("POST", "/v1/accounts/"+aid+"/service-accounts", admin, map[string]any{"name": name, "scopes": scopes}), 201)
	sec := must(e.t, e.do("POST", "/v1/accounts/"+aid+"/service-accounts/"+sa["id"].(string)+"/secrets", admin, nil), 201)
	tok := must(e.t, e.form("/v1/accounts/"+aid+"/auth/token", sa["clientId"].(string), sec["secret"].(string),
		url.Values{"grant_type": {"client_credentials"}}), 200)
	return tok["access_token"].(string)
}

// instant parses a date-time of an answer.
func instant(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("not a date-time: %v", v)
	}
	return ts
}

// sameInstant compares date-times to the microsecond: Postgres keeps no more, while the
// answer to a create carries the nanoseconds of the clock (see the report).
func sameInstant(t *testing.T, a, b any) bool {
	t.Helper()
	return instant(t, a).Truncate(time.Microsecond).Equal(instant(t, b).Truncate(time.Microsecond))
}

// problemCode is the `code` of a problem+json answer with that status.
func problemCode(t *testing.T, r resp, status int) string {
	t.Helper()
	p := must(t, r, status)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%d answer is %q, not problem+json: %s", status, ct, r.body)
	}
	code, _ := p["code"].(string)
	return code
}

// items is the items array of a page.
func items(t *testing.T, page map[string]any) []map[string]any {
	t.Helper()
	raw, ok := page["items"].([]any)
	if !ok {
		t.Fatalf("not a page: %v", page)
	}
	out := make([]map[string]any, len(raw))
	for i, it := range raw {
		out[i] = it.(map[string]any)
	}
	return out
}

func TestListAccountsPagesByAid(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		for _, aid := range []string{"acme", "beta", "zulu"} {
			must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": aid, "name": "Account " + aid}), 201)
		}
		var aids []string
		cursor := ""
		for pages := 0; ; pages++ {
			q := "/v1/accounts?limit=2"
			if cursor != "" {
				q += "&startingAfter=" + url.QueryEscape(cursor)
			}
			pg := must(t, e.do("GET", q, admin, nil), 200)
			its := items(t, pg)
			if len(its) > 2 {
				t.Fatalf("page of %d with limit=2", len(its))
			}
			for _, a := range its {
				aids = append(aids, a["aid"].(string))
				if a["issuer"] != e.url+"/v1/accounts/"+a["aid"].(string) {
					t.Fatalf("issuer of %v", a)
				}
			}
			if pg["nextCursor"] == nil {
				break
			}
			cursor = pg["nextCursor"].(string)
			if pages > 3 {
				t.Fatal("pagination does not end")
			}
		}
		if strings.Join(aids, ",") != "acme,beta,root,zulu" {
			t.Fatalf("accounts in pages: %v", aids)
		}
		// Read-only root admins may list; admins of other accounts may not, even with full scope.
		ro := e.serviceToken(admin, "root", "auditor", "api://management/read")
		if n := len(items(t, must(t, e.do("GET", "/v1/accounts?limit=100", ro, nil), 200))); n != 4 {
			t.Fatalf("read-only root admin sees %d accounts", n)
		}
		tenant := e.serviceToken(admin, "acme", "acme-admin", "api://management/.default")
		if code := problemCode(t, e.do("GET", "/v1/accounts", tenant, nil), 403); code != "root_required" {
			t.Fatalf("tenant admin listing accounts: code %q", code)
		}
		must(t, e.do("GET", "/v1/accounts", "", nil), 401)
		must(t, e.do("GET", "/v1/accounts?limit=0", admin, nil), 400)
	})
}

func TestUpdateAccount(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		created := must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": "acme", "name": "Acme",
			"settings": map[string]any{"accessTokenLifetime": 900}}), 201)
		// Merge: the name changes, the other settings stay.
		up := must(t, e.do("PATCH", "/v1/accounts/acme", admin, map[string]any{"name": "Acme Corp",
			"settings": map[string]any{"loginMaxFailures": 3}}), 200)
		set := up["settings"].(map[string]any)
		if up["name"] != "Acme Corp" || set["loginMaxFailures"] != 3.0 || set["accessTokenLifetime"] != 900.0 {
			t.Fatalf("patched account: %v", up)
		}
		// An account that never set mfa shows the default that applies to it.
		if set["mfa"] != "optional" {
			t.Fatalf("mfa of an account that set none: %v", set["mfa"])
		}
		if !sameInstant(t, up["createdAt"], created["createdAt"]) || instant(t, up["updatedAt"]).Before(instant(t, created["updatedAt"])) {
			t.Fatalf("timestamps: created %v, patched %v", created, up)
		}
		got := must(t, e.do("GET", "/v1/accounts/acme", admin, nil), 200)
		if got["name"] != "Acme Corp" || got["settings"].(map[string]any)["loginMaxFailures"] != 3.0 {
			t.Fatalf("GET after PATCH: %v", got)
		}
		// The new lifetime is what the next token gets.
		tok := e.serviceToken(admin, "acme", "admin", "api://management/.default")
		if c := claims(t, tok); c["exp"].(float64)-c["iat"].(float64) != 900 {
			t.Fatalf("token lifetime %v", c["exp"].(float64)-c["iat"].(float64))
		}
		// An account's own admin may change it; a read-only token may not.
		must(t, e.do("PATCH", "/v1/accounts/acme", tok, map[string]any{"name": "Acme by itself"}), 200)
		ro := e.serviceToken(admin, "acme", "reader", "api://management/read")
		if code := problemCode(t, e.do("PATCH", "/v1/accounts/acme", ro, map[string]any{"name": "x"}), 403); code != "insufficient_scope" {
			t.Fatalf("read-only PATCH: code %q", code)
		}
		// Settings the schema cannot reject are 422, naming the field; nothing changes.
		for name, settings := range map[string]map[string]any{
			"short rotation":            {"keyRotationInterval": 100},
			"idle longer than absolute": {"refreshTokenIdleLifetime": 7200, "refreshTokenAbsoluteLifetime": 3600},
			"control character in name": {"emailSenderName": "Acme\u0007"},
		} {
			p := must(t, e.do("PATCH", "/v1/accounts/acme", admin, map[string]any{"settings": settings}), 422)
			if errs, _ := p["errors"].([]any); p["code"] != "invalid_setting" || len(errs) != 1 ||
				!strings.HasPrefix(errs[0].(map[string]any)["field"].(string), "settings.") {
				t.Errorf("%s: %v", name, p)
			}
		}
		// The same checks when creating: no account is made.
		r := e.do("POST", "/v1/accounts", admin, map[string]any{"aid": "bad", "name": "Bad", "settings": map[string]any{"keyRotationInterval": 60}})
		if p := must(t, r, 422); p["code"] != "invalid_setting" || p["errors"].([]any)[0].(map[string]any)["field"] != "settings.keyRotationInterval" {
			t.Fatalf("POST with a bad setting: %v", p)
		}
		must(t, e.do("GET", "/v1/accounts/bad", admin, nil), 404)
		must(t, e.do("PATCH", "/v1/accounts/acme", admin, map[string]any{"aid": "renamed"}), 400)
		if got := must(t, e.do("GET", "/v1/accounts/acme", admin, nil), 200); got["name"] != "Acme by itself" ||
			got["settings"].(map[string]any)["keyRotationInterval"] != 0.0 {
			t.Fatalf("failed PATCHes changed the account: %v", got)
		}
		must(t, e.do("PATCH", "/v1/accounts/nope", admin, map[string]any{"name": "x"}), 404)
		// Another account's admin does not learn that acme exists.
		must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": "beta", "name": "Beta"}), 201)
		beta := e.serviceToken(admin, "beta", "admin", "api://management/.default")
		must(t, e.do("PATCH", "/v1/accounts/acme", beta, map[string]any{"name": "taken over"}), 404)
	})
}

// accountTables are the tables whose rows belong to an account (by aid).
var accountTables = []string{"scopes", "clients", "signing_keys", "grants", "customers", "refresh_tokens",
	"verification_codes", "login_throttle"}

func (e *env) rowsOf(table, aid string) int64 {
	e.t.Helper()
	var n int64
	if err := e.st.DB().Table(table).Where("aid = ?", aid).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		keep := e.newTenant(admin, "keep", nil)

		// An account with something in every table: a service account holding a scope, a
		// login client with a grant, customers with a refresh token, a code and a failed login.
		gone := e.newTenant(admin, "gone", nil)
		base := "/v1/accounts/gone"
		goneAdmin := e.serviceToken(admin, "gone", "gone-admin", "api://management/.default")
		login := must(t, e.do("POST", base+"/clients", admin, map[string]any{"name": "login", "type": "confidential"}), 201)["clientId"].(string)
		loginSecret := must(t, e.do("POST", base+"/clients/"+login+"/secrets", admin, nil), 201)["secret"].(string)
		must(t, e.do("POST", base+"/grants", admin, map[string]any{"clientId": login, "audience": apiAud, "type": "client_credentials",
			"scopes": []string{"accounts:auth:users", "create:accounts:auth:refresh_token"}}), 201)
		must(t, e.do("POST", base+"/customers/users", admin, map[string]any{"email": "ada@example.com", "password": "correct horse battery"}), 201)
		must(t, e.do("POST", base+"/customers/users", admin, map[string]any{"email": "grace@example.com"}), 201) // invited: a code
		ct := must(t, e.form(base+"/auth/token", login, loginSecret, url.Values{"grant_type": {"client_credentials"}}), 200)["access_token"].(string)
		loginBody := map[string]any{"email": "ada@example.com", "password": "correct horse battery", "audience": apiAud}
		rt := must(t, e.do("POST", base+"/customers/login", ct, loginBody), 200)["refresh_token"].(string)
		loginBody["password"] = "wrong password here"
		must(t, e.do("POST", base+"/customers/login", ct, loginBody), 400)
		for _, table := range accountTables {
			if e.rowsOf(table, "gone") == 0 {
				t.Fatalf("the setup left no %s row to delete", table)
			}
		}
		// client_secrets and client_scopes have no aid: they belong to the account by their client.
		ofClients := func(table string) (all, ofGone int64) {
			all = e.countRows(table)
			err := e.st.DB().Table(table).Where("client_pk IN (SELECT id FROM clients WHERE aid = ?)", "gone").Count(&ofGone).Error
			if err != nil {
				t.Fatal(err)
			}
			return all, ofGone
		}

		// Only root admins with full scope may delete.
		if code := problemCode(t, e.do("DELETE", base, goneAdmin, nil), 403); code != "root_required" {
			t.Fatalf("the account's own admin deleting it: code %q", code)
		}
		ro := e.serviceToken(admin, "root", "auditor", "api://management/read")
		if code := problemCode(t, e.do("DELETE", base, ro, nil), 403); code != "insufficient_scope" {
			t.Fatalf("read-only root admin deleting: code %q", code)
		}
		must(t, e.do("DELETE", base, "", nil), 401)
		must(t, e.do("GET", base, admin, nil), 200)

		secrets, goneSecrets := ofClients("client_secrets")
		clientScopes, goneClientScopes := ofClients("client_scopes")
		if goneSecrets == 0 || goneClientScopes == 0 {
			t.Fatalf("the setup left no secret (%d) or held scope (%d) to delete", goneSecrets, goneClientScopes)
		}
		must(t, e.do("DELETE", base, admin, nil), 204)

		// Gone for the API, the protocol endpoints and the database alike.
		must(t, e.do("GET", base, admin, nil), 404)
		must(t, e.do("GET", base+"/scopes", admin, nil), 404)
		must(t, e.do("GET", base+"/.well-known/openid-configuration", "", nil), 404)
		must(t, e.do("GET", base+"/.well-known/jwks.json", "", nil), 404)
		if r := e.form(base+"/auth/token", gone.clientID, gone.secret, url.Values{"grant_type": {"client_credentials"}}); r.status != 404 {
			t.Fatalf("token of a deleted account: %d %s", r.status, r.body)
		}
		if r := e.form(base+"/auth/token", login, loginSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); r.status != 404 {
			t.Fatalf("refresh at a deleted account: %d %s", r.status, r.body)
		}
		// goneAdmin was verified on this node before the delete (its 403 above): the delete
		// drops it from the node's verified tokens, so it is refused at once, not after the TTL.
		if code := problemCode(t, e.do("GET", base+"/service-accounts", goneAdmin, nil), 401); code != "invalid_token" {
			t.Fatalf("the deleted account's admin token on the node that deleted it: code %q", code)
		}
		for _, table := range accountTables {
			if n := e.rowsOf(table, "gone"); n != 0 {
				t.Errorf("%d %s rows of the deleted account are left", n, table)
			}
		}
		// Exactly the deleted account's secrets and held scopes are gone; the others' remain.
		if n := e.countRows("client_secrets"); n != secrets-goneSecrets {
			t.Errorf("client_secrets: %d, want %d", n, secrets-goneSecrets)
		}
		if n := e.countRows("client_scopes"); n != clientScopes-goneClientScopes {
			t.Errorf("client_scopes: %d, want %d", n, clientScopes-goneClientScopes)
		}
		must(t, e.do("DELETE", base, admin, nil), 404)
		for _, a := range items(t, must(t, e.do("GET", "/v1/accounts?limit=100", admin, nil), 200)) {
			if a["aid"] == "gone" {
				t.Fatal("the deleted account is still listed")
			}
		}

		// The other account is untouched: its service account still gets tokens.
		must(t, e.form("/v1/accounts/keep/auth/token", keep.clientID, keep.secret, url.Values{"grant_type": {"client_credentials"}}), 200)
		// The aid is free again, for an empty account.
		must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": "gone", "name": "Gone again"}), 201)
		if n := len(items(t, must(t, e.do("GET", base+"/service-accounts", admin, nil), 200))); n != 0 {
			t.Fatalf("the new account inherited %d service accounts", n)
		}
		if n := len(items(t, must(t, e.do("GET", base+"/scopes?limit=100", admin, nil), 200))); n != 4 {
			t.Fatalf("the new account has %d scopes, want the 4 built-in ones", n)
		}
		must(t, e.do("POST", base+"/customers/users", admin, map[string]any{"email": "ada@example.com", "password": "correct horse battery"}), 201)
		// The old account's tokens do not open the new one, neither on the node that deleted
		// it nor on one that never saw them.
		for name, node := range map[string]*env{"deleting node": e, "other node": e.secondNode("")} {
			if code := problemCode(t, node.do("GET", base, goneAdmin, nil), 401); code != "invalid_token" {
				t.Fatalf("%s: the deleted account's token on the re-created one: code %q", name, code)
			}
		}

		// The root account stays.
		if code := problemCode(t, e.do("DELETE", "/v1/accounts/root", admin, nil), 422); code != "root_account" {
			t.Fatalf("deleting root: code %q", code)
		}
		must(t, e.do("GET", "/v1/accounts/root", admin, nil), 200)
		must(t, e.do("DELETE", "/v1/accounts/nope", admin, nil), 404)
	})
}

// A token whose payload claims another account is refused: the aid claim only picks the
// keys that must verify it.
func TestForgedAccountClaimIsRefused(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		e.newTenant(admin, "acme", nil)
		tok := e.serviceToken(admin, "acme", "acme-admin", "api://management/.default")
		must(t, e.do("GET", "/v1/accounts/acme", tok, nil), 200)
		parts := strings.Split(tok, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		c["aid"], c["iss"] = "root", e.url+"/v1/accounts/root"
		forged, _ := json.Marshal(c)
		parts[1] = base64.RawURLEncoding.EncodeToString(forged)
		r := e.do("GET", "/v1/accounts", strings.Join(parts, "."), nil)
		if code := problemCode(t, r, 401); code != "invalid_token" || !strings.Contains(string(r.body), "signature or claims rejected") {
			t.Fatalf("forged token: %d %s", r.status, r.body)
		}
		must(t, e.do("GET", "/v1/accounts/acme", strings.Join(parts, "."), nil), 401)
	})
}

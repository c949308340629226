package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Hostile input: request bodies that read two ways, URLs with text no identifier holds,
// look-alike emails, and error descriptions that would reflect what the client sent.

// A Management API body is exactly one JSON value, with every member name once per object
// (case-insensitively: encoding/json matches names that way) and nothing after it; else 400
// validation_failed on field body, and nothing is written.
func TestJSONBodiesAreExactlyOneValue(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": "shop", "name": "Shop"}), 201)
		users := "/v1/accounts/shop/customers/users"
		const one = `{"email":"a@example.com","password":"correct horse battery"}`
		before := e.countRows("customers")
		for name, body := range map[string]string{
			"trailing garbage":     one + ` garbage`,
			"two values":           one + `{"email":"b@example.com","password":"correct horse battery"}`,
			"trailing brace":       one + `}`,
			"trailing bracket":     one + `]`,
			"duplicate key":        `{"email":"a@example.com","email":"b@example.com","password":"correct horse battery"}`,
			"duplicate, case":      `{"email":"a@example.com","EMAIL":"b@example.com","password":"correct horse battery"}`,
			"duplicate, kelvin":    `{"email":"a@example.com","password":"correct horse battery","metadata":{"k":1,"\u212a":2}}`,
			"duplicate, nested":    `{"email":"a@example.com","password":"correct horse battery","metadata":{"tier":"a","Tier":"b"}}`,
			"duplicate, in arrays": `{"email":"a@example.com","password":"correct horse battery","metadata":{"l":[{"x":1,"x":2}]}}`,
		} {
			r := e.do("POST", users, admin, body)
			p := must(t, r, 400)
			if r.header.Get("Content-Type") != "application/problem+json" || p["code"] != "validation_failed" {
				t.Errorf("%s: %s", name, r.body)
				continue
			}
			if errs, _ := p["errors"].([]any); len(errs) == 0 || errs[0].(map[string]any)["field"] != "body" {
				t.Errorf("%s: the error does not name the body: %s", name, r.body)
			}
		}
		if n := e.countRows("customers"); n != before {
			t.Fatalf("refused bodies wrote %d customers", n-before)
		}
		// The same body alone, with trailing whitespace and names of one spelling in
		// different objects, still creates the customer.
		must(t, e.do("POST", users, admin, `{"email":"a@example.com","password":"correct horse battery","metadata":{"email":{"email":1}}}`+"\n "), 201)
	})
}

// The RFC 6749 endpoints read a JSON body into one parameter set: a repeated name
// (RFC 6749 §3.1) or data after the object is invalid_request, not a token.
func TestProtocolJSONBodiesAreExactlyOneObject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	admin := e.adminToken()
	tn := e.newTenant(admin, "tenant-a", nil)
	post := func(body string) resp {
		req, _ := http.NewRequest("POST", e.url+"/v1/accounts/tenant-a/auth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(tn.clientID, tn.secret)
		return e.send(req)
	}
	const cc = `{"grant_type":"client_credentials"}`
	for name, body := range map[string]string{
		"duplicate key":    `{"grant_type":"client_credentials","grant_type":"client_credentials"}`,
		"trailing garbage": cc + ` x`,
		"trailing brace":   cc + `}`,
		"two objects":      cc + cc,
	} {
		r := post(body)
		if r.status != 400 || r.header.Get("Content-Type") != "application/json" || r.json(t)["error"] != "invalid_request" {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	must(t, post(cc+"\n"), 200)
}

// NUL and invalid UTF-8 in the decoded path or query are refused before any lookup (on
// Postgres they would reach the database and fail there, SQLSTATE 22021).
func TestURLsWithNULOrInvalidUTF8AreRefused(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		sh := e.newShop(nil)
		users := sh.base + "/customers/users"
		for _, path := range []string{
			users + "/%00", users + "/a%00b", users + "/%ff", users + "/%c3%28",
			users + "?email=%00", users + "?email=%ff", users + "?%00=1",
			"/v1/accounts/shop/clients/%00", "/v1/accounts/shop/service-accounts/%e2%82",
		} {
			r := e.do("GET", path, sh.admin, nil)
			if (r.status != 400 && r.status != 404) || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("GET %s: %d %s", path, r.status, r.body)
				continue
			}
			if r.status == 400 && r.json(t)["code"] != "validation_failed" {
				t.Errorf("GET %s: %s", path, r.body)
			}
		}
		// The protocol endpoints refuse them in RFC 6749 form.
		for _, aid := range []string{"%00", "%ff"} {
			r := e.form("/v1/accounts/"+aid+"/auth/token", sh.clientID, sh.secret, url.Values{"grant_type": {"client_credentials"}})
			if r.status != 400 || r.json(t)["error"] != "invalid_request" {
				t.Errorf("token endpoint of account %s: %d %s", aid, r.status, r.body)
			}
		}
		// Ordinary requests still work.
		must(t, e.do("GET", users+"?email=ada", sh.admin, nil), 200)
		must(t, e.do("GET", users+"/"+sh.customerID, sh.admin, nil), 200)
	})
}

// Emails with invisible or bidirectional format characters look like another address (or
// show reordered): 422 invalid_email.
func TestEmailsWithInvisibleCharactersAreRefused(t *testing.T) {
	t.Parallel()
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		must(t, e.do("POST", "/v1/accounts", admin, map[string]any{"aid": "shop", "name": "Shop"}), 201)
		users := "/v1/accounts/shop/customers/users"
		for _, r := range []rune{0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
			0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF} {
			for _, email := range []string{"ada" + string(r) + "@example.com", string(r) + "ada@example.com", "ada@exam" + string(r) + "ple.com"} {
				res := e.do("POST", users, admin, map[string]any{"email": email, "password": "correct horse battery"})
				if p := must(t, res, 422); p["code"] != "invalid_email" {
					t.Errorf("%U in %q: %s", r, email, res.body)
				}
			}
		}
		if n := len(items(t, must(t, e.do("GET", users, admin, nil), 200))); n != 0 {
			t.Fatalf("refused emails created %d customers", n)
		}
		must(t, e.do("POST", users, admin, map[string]any{"email": "ada@example.com", "password": "correct horse battery"}), 201)
	})
}

// descriptionOK checks an error_description against RFC 6749 §5.2 (%x20-21 / %x23-5B /
// %x5D-7E) and that it carries none of the marks the client sent.
func descriptionOK(t *testing.T, name, d string, marks ...string) {
	t.Helper()
	for _, r := range d {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			t.Errorf("%s: error_description %q holds %U", name, d, r)
		}
	}
	for _, m := range marks {
		if strings.Contains(d, m) {
			t.Errorf("%s: error_description %q echoes %q", name, d, m)
		}
	}
}

// error_description is the server's words only: names of the document's parameters, never
// a value, or a parameter name, that the client made up.
func TestErrorDescriptionsEchoNoInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	s := e.newSSOShop(nil)
	const mark = "zq9mark"
	token := s.base + "/auth/token"
	jsonPost := func(body string) resp {
		req, _ := http.NewRequest("POST", e.url+token, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(s.clientID, s.secret)
		return e.send(req)
	}
	rawForm := func(body string) resp {
		req, _ := http.NewRequest("POST", e.url+token, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(s.clientID, s.secret)
		return e.send(req)
	}
	for name, r := range map[string]resp{
		"repeated unknown parameter": rawForm("grant_type=client_credentials&" + mark + "%22%E2%80%AE=1&" + mark + "%22%E2%80%AE=2"),
		"non-string unknown member":  jsonPost(`{"grant_type":"client_credentials","` + mark + `\"\u202e":1}`),
		"unknown grant_type":         rawForm("grant_type=urn:" + mark + "%22"),
		"scope not held":             rawForm("grant_type=client_credentials&scope=" + mark + "%22%C3%A9"),
		"audience not held":          rawForm("grant_type=client_credentials&audience=https://" + mark + ".example/%22"),
		"password grant, audience":   rawForm("grant_type=password&username=ada@example.com&password=x&audience=https://" + mark + ".example/"),
		"login, audience":            s.e.do("POST", s.base+"/customers/login", s.clientToken(), map[string]any{"email": "ada@example.com", "password": "x", "type": "customer", "audience": "https://" + mark + ".example/"}),
	} {
		if r.status < 400 || r.status >= 500 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
			continue
		}
		d, _ := r.json(t)["error_description"].(string)
		descriptionOK(t, name, d, mark)
	}
	// The authorize redirect's error_description holds no requested scope (the web client
	// holds API scopes, so the refusal is about the scope asked for).
	must(t, e.do("POST", s.base+"/grants", s.admin, map[string]any{"clientId": s.web, "audience": apiAud,
		"type": "authorization_code", "scopes": []string{"customer_customers:read"}}), 201)
	b := newBrowser(t)
	r := b.get(s.authorizeURL(url.Values{"scope": {"openid " + mark + "\"\u00e9"}}))
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != 303 || err != nil || loc.Query().Get("error") != "invalid_scope" {
		t.Fatalf("authorize with a scope not held: %d %v", r.status, r.header)
	}
	descriptionOK(t, "authorize", loc.Query().Get("error_description"), mark)
}

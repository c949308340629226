package server_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/twinid/twinid/gen"
)

// Every management and discovery operation checks its path parameters against the
// document before anything else: a malformed account id or an over-long resource id is
// 400 validation_failed, never a lookup. (Protocol endpoints and hosted pages answer in
// their own formats and are not part of this.)
func TestMalformedPathParametersAreBadRequests(t *testing.T) {
	t.Parallel()
	spec, err := gen.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[A-Za-z]+\}`)
	ownFormat := regexp.MustCompile(`/auth/|/userinfo$|/customers/login$|/customers/change_password$`)
	forEachDB(t, func(t *testing.T, e *env) {
		admin := e.adminToken()
		e.newTenant(admin, "acme", nil)
		checked := 0
		for path, item := range spec.Paths.Map() {
			if !strings.Contains(path, "{aid}") || ownFormat.MatchString(path) {
				continue
			}
			for method := range item.Operations() {
				cases := map[string]string{"malformed aid": "regular expression"}
				if len(param.FindAllString(path, -1)) > 1 {
					cases["over-long id"] = "maximum string length"
				}
				for name, want := range cases {
					p := param.ReplaceAllStringFunc(path, func(m string) string {
						switch {
						case m == "{aid}" && name == "malformed aid":
							return "Acme_Corp"
						case m == "{aid}":
							return "acme"
						case name == "over-long id":
							return strings.Repeat("x", 300)
						}
						return "x"
					})
					r := e.do(method, p, admin, nil)
					if r.status != 400 || r.header.Get("Content-Type") != "application/problem+json" ||
						r.json(t)["code"] != "validation_failed" || !strings.Contains(string(r.body), want) {
						t.Errorf("%s %s (%s): %d %s", method, path, name, r.status, r.body)
					}
					checked++
				}
			}
		}
		if checked < 40 {
			t.Fatalf("only %d requests checked: the document's operations were not found", checked)
		}
	})
}

package server_test

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/passwords"
)

// Every password the document describes has the policy's maximum as its maxLength: a
// longer one passes the schema only to be refused by the policy (or, on the protocol
// endpoints, is read in full for nothing).
func TestDocumentPasswordLimitIsThePolicys(t *testing.T) {
	t.Parallel()
	spec, err := gen.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	check := func(where string, s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil {
			return
		}
		for name, p := range s.Value.Properties {
			if name != "password" && name != "currentPassword" && name != "newPassword" || p.Value == nil {
				continue
			}
			found++
			if p.Value.MaxLength == nil {
				t.Errorf("%s: %s has no maxLength, the policy allows %d", where, name, passwords.MaxLength)
			} else if *p.Value.MaxLength != passwords.MaxLength {
				t.Errorf("%s: %s has maxLength %d, the policy allows %d", where, name, *p.Value.MaxLength, passwords.MaxLength)
			}
		}
	}
	for name, s := range spec.Components.Schemas {
		check("schema "+name, s)
	}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			for _, mt := range op.RequestBody.Value.Content {
				check(method+" "+path, mt.Schema)
			}
		}
	}
	if found < 5 {
		t.Fatalf("only %d password properties found", found)
	}
}

package oauth2_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/twinid/twinid/server/oauth2"
)

func TestCheckJSON(t *testing.T) {
	t.Parallel()
	ok := []string{
		`{}`, `[]`, `"s"`, `1`, `null`, ` {"a":1} `, "{\"a\":1}\n",
		`{"a":{"a":1},"b":[{"a":1},{"a":2}]}`, // one name in sibling and nested objects
		`{"a":["a","a"],"b":"a"}`,             // values equal to names are values
		`{"a":1e999}`,                         // out of range numbers are the validator's
		`{"a":[[],{},[{}]],"b":{"c":{"d":{}}}}`,
		`{"k":1,"K":2}`, // case-sensitively distinct (fold off below)
	}
	for _, s := range ok {
		fold := s != `{"k":1,"K":2}`
		if err := oauth2.CheckJSON([]byte(s), fold); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := map[string]error{
		`{"email":"a","email":"b"}`:             oauth2.ErrJSONDuplicate,
		`{"email":"a","Email":"b"}`:             oauth2.ErrJSONDuplicate,
		`{"ks":"a","\u212As":"b"}`:              oauth2.ErrJSONDuplicate, // KELVIN SIGN folds to k
		`{"a":{"b":1,"b":2}}`:                   oauth2.ErrJSONDuplicate,
		`[{"x":1},{"y":1,"Y":2}]`:               oauth2.ErrJSONDuplicate,
		`{"a":{"b":[1,{"c":1}]},"A":1}`:         oauth2.ErrJSONDuplicate,
		`{"a":1} garbage`:                       oauth2.ErrJSONTrailing,
		`{"a":1}{"a":2}`:                        oauth2.ErrJSONTrailing,
		`{"a":1}}`:                              oauth2.ErrJSONTrailing,
		`{"a":1}]`:                              oauth2.ErrJSONTrailing,
		`1 2`:                                   oauth2.ErrJSONTrailing,
		``:                                      oauth2.ErrJSONSyntax,
		`{"a":`:                                 oauth2.ErrJSONSyntax,
		`{"a" 1}`:                               oauth2.ErrJSONSyntax,
		`{"a":1,}`:                              oauth2.ErrJSONSyntax,
		`[1,]`:                                  oauth2.ErrJSONSyntax,
		`{"a":1]`:                               oauth2.ErrJSONSyntax,
		strings.Repeat("[", 100) + "]":          oauth2.ErrJSONSyntax,
		`{"a":1,"b":2,"c":{"d":3,"e":4,"d":5}}`: oauth2.ErrJSONDuplicate,
	}
	for s, want := range bad {
		if err := oauth2.CheckJSON([]byte(s), true); !errors.Is(err, want) {
			t.Errorf("%q: %v, want %v", s, err, want)
		}
	}
	// Case-sensitive mode still refuses exact repeats.
	if err := oauth2.CheckJSON([]byte(`{"a":1,"a":1}`), false); !errors.Is(err, oauth2.ErrJSONDuplicate) {
		t.Errorf("exact repeat without fold: %v", err)
	}
	// Deep nesting is walked without recursion.
	deep := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	if err := oauth2.CheckJSON([]byte(deep), true); err != nil {
		t.Errorf("deep: %v", err)
	}
}

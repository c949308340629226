package manage_test

import (
	"reflect"
	"testing"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/manage"
)

// The server embeds *API next to the other surfaces, so every method of it must be an
// operation of the generated interface with the same signature, and the type stays small.
func TestAPIMethodsAreOperations(t *testing.T) {
	t.Parallel()
	api := reflect.TypeOf(&manage.API{})
	ops := reflect.TypeOf((*gen.StrictServerInterface)(nil)).Elem()
	if n := api.NumMethod(); n > 40 {
		t.Errorf("*API has %d methods; at most 40", n)
	}
	for i := range api.NumMethod() {
		m := api.Method(i)
		op, ok := ops.MethodByName(m.Name)
		if !ok {
			t.Errorf("%s is not an operation of gen.StrictServerInterface", m.Name)
			continue
		}
		// m.Type has the receiver first; the interface method has none.
		if m.Type.NumIn() != op.Type.NumIn()+1 || m.Type.NumOut() != op.Type.NumOut() {
			t.Errorf("%s: signature %v, want %v", m.Name, m.Type, op.Type)
			continue
		}
		for j := range op.Type.NumIn() {
			if m.Type.In(j+1) != op.Type.In(j) {
				t.Errorf("%s: parameter %d is %v, want %v", m.Name, j, m.Type.In(j+1), op.Type.In(j))
			}
		}
		for j := range op.Type.NumOut() {
			if m.Type.Out(j) != op.Type.Out(j) {
				t.Errorf("%s: result %d is %v, want %v", m.Name, j, m.Type.Out(j), op.Type.Out(j))
			}
		}
	}
}

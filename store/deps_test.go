package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The store knows nothing of HTTP or of the API types (STYLE: who imports whom).
func TestStoreImportsNoHTTP(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "net/http", strings.HasPrefix(dep, "github.com/labstack/echo"),
			strings.HasPrefix(dep, "github.com/twinid/twinid/") && dep != "github.com/twinid/twinid/store":
			t.Errorf("store depends on %s", dep)
		}
	}
}

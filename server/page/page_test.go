package page

import (
	"bytes"
	"testing"
)

// TestPasskeyFormLoadsTheServedScript: the passkey form's script is loaded from where the
// server serves it.
func TestPasskeyFormLoadsTheServedScript(t *testing.T) {
	t.Parallel()
	body, err := Render("mfa", Data{Passkey: &Passkey{Mode: "get", Label: "Use your passkey"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte(`<script src="` + WebAuthnJSPath + `"></script>`); !bytes.Contains(body, want) {
		t.Errorf("the passkey form does not load %s:\n%s", WebAuthnJSPath, body)
	}
}

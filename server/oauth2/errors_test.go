package oauth2_test

import (
	"testing"

	"github.com/twinid/twinid/server/oauth2"
)

// error_description holds only %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2).
func TestCleanMessageKeepsOnlyTheAllowedCharacters(t *testing.T) {
	t.Parallel()
	in := "ok: a-z [0-9] ~!\"\\\x00\x1f\x7f\u00e9\u202e\u200b\U0001F600 end"
	if got, want := oauth2.CleanMessage(in), "ok: a-z [0-9] ~! end"; got != want {
		t.Fatalf("CleanMessage(%q) = %q, want %q", in, got, want)
	}
}

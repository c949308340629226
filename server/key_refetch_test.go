package server_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/twinid/twinid/server"
)

// A node that cached an account's keys accepts, at once, a token signed by a key another
// node has just rotated in with no propagation delay: an unknown kid reloads the keys
// rather than failing until the cache TTL. Made-up kids cannot make it reload per request.
func TestUnknownKidRefetchesKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	b := e.nodeWith(func(c *server.Config) { c.CacheTTL = time.Hour })
	old := e.adminToken()
	must(t, b.do("GET", "/v1/accounts/root/signing-keys", old, nil), 200) // b caches root's keys
	next := must(t, e.do("POST", "/v1/accounts/root/signing-keys/rotate", old, map[string]any{"activateAfter": 0}), 201)
	tok := e.adminToken()
	if kidOf(t, tok) != next["kid"] {
		t.Fatalf("node A did not sign with the key it rotated in at once")
	}
	must(t, b.do("GET", "/v1/accounts/root/signing-keys", tok, nil), 200)
	must(t, b.do("GET", "/v1/accounts/root/signing-keys", old, nil), 200) // the old key still verifies

	// Tokens naming kids no key has: rejected, and at most a couple of reloads between them.
	_, rest, _ := strings.Cut(tok, ".")
	time.Sleep(1100 * time.Millisecond) // past the reload above, so the first made-up kid may reload
	before := e.st.Queries()
	for range 50 {
		hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","kid":"` + randHex(8) + `","typ":"at+jwt"}`))
		if r := b.do("GET", "/v1/accounts/root/signing-keys", hdr+"."+rest, nil); r.status != 401 {
			t.Fatalf("a token with a made-up kid: %d %s", r.status, r.body)
		}
	}
	if q := e.st.Queries() - before; q > 2 {
		t.Fatalf("50 tokens with made-up kids cost %d queries, want at most a couple of reloads", q)
	}
}

package keys_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/store"
)

// clock is a clock the test moves.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// newKeys stores the account acme with one RS256 key, on a fresh SQLite file, and returns
// its keys on the test's clock.
func newKeys(t *testing.T, set store.AccountSettings) (*keys.Keys, *store.Store, *store.Account, *clock) {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mk := make([]byte, 32)
	_, _ = rand.Read(mk)
	kr, err := keys.NewKeyring(mk)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	accounts := account.New(st, "http://127.0.0.1", time.Second, clk.now)
	k := keys.New(st, kr, accounts, time.Second, clk.now, slog.New(slog.DiscardHandler), audit.New(st, slog.New(slog.DiscardHandler), clk.now))
	first, err := k.NewSigningKey("acme", "RS256", clk.now())
	if err != nil {
		t.Fatal(err)
	}
	now := clk.now().UTC()
	acct := &store.Account{AID: "acme", Name: "Acme", CreatedAt: now, UpdatedAt: now, Settings: set}
	if err := st.Accounts().Create(ctx, acct, nil, first); err != nil {
		t.Fatal(err)
	}
	return k, st, acct, clk
}

func TestScheduledRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k, st, _, clk := newKeys(t, store.AccountSettings{KeyRotationInterval: 3600})

	k.RotateDue(ctx)
	if rows, _ := st.Keys().List(ctx, "acme"); len(rows) != 1 {
		t.Fatalf("rotated before the interval: %d keys", len(rows))
	}
	if evs, _, _ := st.Events().List(ctx, "acme", store.EventFilter{}, store.Page{}); len(evs) != 0 {
		t.Fatalf("events before any rotation: %+v", evs)
	}
	clk.advance(61 * time.Minute)
	k.RotateDue(ctx)
	rows, _ := st.Keys().List(ctx, "acme")
	if len(rows) != 2 {
		t.Fatalf("%d keys after the interval, want 2", len(rows))
	}
	// The scheduled rotation is on the account's audit trail, by twinid itself.
	evs, _, err := st.Events().List(ctx, "acme", store.EventFilter{}, store.Page{})
	if err != nil || len(evs) != 1 || evs[0].Type != "signing_key.rotated" || evs[0].ActorType != "system" ||
		evs[0].SubjectID != rows[0].KID || evs[0].Reason != "scheduled" {
		t.Fatalf("audit events of the rotation: %+v %v", evs, err)
	}
	if got := keys.Status(rows, 0, clk.now()); got != keys.StatusNext {
		t.Fatalf("new key is %s, want next (published before it signs)", got)
	}
	if got := keys.Status(rows, 1, clk.now()); got != keys.StatusActive {
		t.Fatalf("old key is %s, want active until the new one activates", got)
	}
	if rows[1].RetiresAt == nil {
		t.Fatal("the replaced key has no retirement time")
	}
	// Once the propagation delay (default 600 s) has passed, the new key signs.
	clk.advance(11 * time.Minute)
	set, err := k.Get(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if set.Signer == nil || len(set.JWKS.Keys) != 2 {
		t.Fatalf("key set after activation: signer %v, %d published keys", set.Signer != nil, len(set.JWKS.Keys))
	}
	if got := keys.Status(rows, 1, clk.now()); got != keys.StatusRetiring {
		t.Fatalf("old key is %s after the new one activated, want retiring", got)
	}
}

// A second rotation while the first one's key is still pending: the newest rotation
// decides which key signs, and every key that signs stays in the key set until the last
// token it signed has expired. (The first rotation's key, activating after the second's,
// was retired by the second rotation an access token lifetime after the second key's
// activation, although it went on to sign from its own activation: its tokens failed
// before their expiry.)
func TestSecondRotationWhileOneIsPending(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const lifetime = time.Hour // the default accessTokenLifetime
	k, _, acct, clk := newKeys(t, store.AccountSettings{})
	if _, err := k.Rotate(ctx, acct, "RS256", 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	second, err := k.Rotate(ctx, acct, "RS256", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Tokens signed at +0, after the first rotation's activation (+11m) and later (+30m),
	// each checked just before it expires; the clock only moves forward.
	at := func(d time.Duration) *keys.Set {
		t.Helper()
		clk.advance(d - time.Duration(clk.offset.Load()))
		set, err := k.Get(ctx, "acme")
		if err != nil || set.Signer == nil {
			t.Fatalf("at +%s: key set %v, err %v", d, set, err)
		}
		return set
	}
	signed := map[time.Duration][]byte{}
	for _, d := range []time.Duration{0, 11 * time.Minute, 30 * time.Minute} {
		signedTok, err := at(d).Signer.Sign([]byte(`{"sub":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		tok := []byte(signedTok)
		if kid := kidOf(t, tok); kid != second.KID {
			t.Errorf("at +%s the key %s signs, want the newest rotation's %s", d, kid, second.KID)
		}
		signed[d] = tok
	}
	for _, d := range []time.Duration{0, 11 * time.Minute, 30 * time.Minute} {
		check := d + lifetime - time.Minute
		if _, err := jws.Verify(signed[d], jws.WithKeySet(at(check).Verify, jws.WithRequireKid(true))); err != nil {
			t.Errorf("the token signed at +%s no longer verifies at +%s: %v", d, check, err)
		}
	}
}

func kidOf(t *testing.T, tok []byte) string {
	t.Helper()
	msg, err := jws.Parse(tok)
	if err != nil || len(msg.Signatures()) != 1 {
		t.Fatalf("not a JWS: %v", err)
	}
	kid, _ := msg.Signatures()[0].ProtectedHeaders().KeyID()
	return kid
}

package server

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

func TestScheduledRotation(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mk := make([]byte, 32)
	_, _ = rand.Read(mk)
	s, err := New(Config{PublicURL: "http://127.0.0.1", MasterKey: mk}, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureBootstrap(ctx, BootstrapOptions{}); err != nil {
		t.Fatal(err)
	}
	acct, _ := st.GetAccount(ctx, RootAID)
	acct.Settings.KeyRotationInterval = 3600
	if err := st.UpdateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	s.rotateDueKeys(ctx)
	if keys, _ := st.ListSigningKeys(ctx, RootAID); len(keys) != 1 {
		t.Fatalf("rotated before the interval: %d keys", len(keys))
	}
	s.now = func() time.Time { return time.Now().Add(61 * time.Minute) }
	s.rotateDueKeys(ctx)
	keys, _ := st.ListSigningKeys(ctx, RootAID)
	if len(keys) != 2 {
		t.Fatalf("%d keys after the interval, want 2", len(keys))
	}
	if got := keyStatus(keys, 0, time.Now()); got != keyNext {
		t.Fatalf("new key is %s, want next (published before it signs)", got)
	}
	if keys[1].RetiresAt == nil {
		t.Fatal("the replaced key has no retirement time")
	}
}

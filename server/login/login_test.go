package login

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/metrics"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/store"
)

// rig is a Login on a fresh SQLite store with one account and one customer,
// ada@example.com, whose password is pw.
type rig struct {
	l    *Login
	st   *store.Store
	pool *passwords.Pool
	acct *store.Account
}

const pw = "correct horse battery"

func newRig(t *testing.T, pool *passwords.Pool, set store.AccountSettings) *rig {
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
	acct := &store.Account{AID: "shop", Name: "shop", Settings: set}
	if err := st.Accounts().Create(ctx, acct, nil); err != nil {
		t.Fatal(err)
	}
	h, err := pool.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	email, norm := "ada@example.com", "ada@example.com"
	if err := st.Customers().Create(ctx, &store.Customer{ID: "c1", AID: acct.AID, Type: "customer", Email: &email,
		EmailNorm: &norm, Status: store.CustomerActive, PasswordHash: h, Scopes: []string{}, Metadata: map[string]any{}}, nil); err != nil {
		t.Fatal(err)
	}
	kr, err := keys.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	l := New(st, account.New(st, "http://localhost", time.Second, time.Now), kr, pool, nil,
		metrics.New(st.Queries), slog.New(slog.DiscardHandler), time.Now, nil)
	return &rig{l: l, st: st, pool: pool, acct: acct}
}

func (r *rig) login(ctx context.Context, password string) error {
	_, err := r.l.Check(ctx, r.acct, Request{IdentType: "email", Ident: "ada@example.com", Password: password,
		Remote: "192.0.2.1"})
	return err
}

// A login the pool refuses runs no SQL at all: a flood of them, which is exactly when the
// pool is full, must not turn into a flood of throttle writes (reserve, then give back).
func TestBusyPoolRefusesBeforeAnyStatement(t *testing.T) {
	t.Parallel()
	fast := passwords.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	r := newRig(t, passwords.NewPool(1, 0, 0, fast), store.AccountSettings{})
	held, err := r.pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	before := r.st.Queries()
	const n = 10
	for range n {
		if err := r.login(t.Context(), pw); !errors.Is(err, ErrBusy) {
			t.Fatalf("login with the only worker held: %v; want ErrBusy", err)
		}
	}
	if got := r.st.Queries() - before; got != 0 {
		t.Fatalf("%d refused logins ran %d SQL statements; want none", n, got)
	}
	held.Release()
	if err := r.login(t.Context(), pw); err != nil {
		t.Fatalf("login once the worker is free: %v", err)
	}
}

// A client that goes away while its password is hashed must not leave its reservations
// behind as failures: with one allowed failure, any leak would lock ada out.
func TestCancelledLoginGivesItsReservationsBack(t *testing.T) {
	t.Parallel()
	// Costly enough that the hash is still running when the test cancels.
	heavy := passwords.Params{Memory: 32 << 10, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32}
	r := newRig(t, passwords.NewPool(1, 4, 0, heavy),
		store.AccountSettings{LoginMaxFailures: 1, LoginIPMaxFailures: 1})
	for i := range 3 {
		for _, password := range []string{pw, "wrong wrong wrong"} {
			ctx, cancel := context.WithCancel(t.Context())
			// Cancel once both reservations are written and the customer is being read,
			// that is while (or just before) the hash runs.
			base := r.st.Queries()
			go func() {
				for r.st.Queries() < base+3 {
					time.Sleep(50 * time.Microsecond)
				}
				cancel()
			}()
			err := r.login(ctx, password)
			cancel()
			if err == nil && password != pw {
				t.Fatalf("round %d: a wrong password was accepted", i)
			}
			if err := r.login(t.Context(), pw); err != nil {
				t.Fatalf("round %d (%s): the login after a cancelled one: %v", i, password, err)
			}
		}
	}
}

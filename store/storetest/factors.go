package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

// factor builds a confirmed-or-not factor of a customer.
func factor(aid, customerID, id, typ string) *store.Factor {
	return &store.Factor{ID: id, AID: aid, CustomerID: customerID, Type: typ, Name: "factor " + id,
		Secret: []byte("sealed:" + id), CreatedAt: when(12)}
}

func testFactors(t *testing.T, open opener) {
	// withCustomers makes accounts "a" and "b", customers "cu1" and "cu2" in a, "cub" in b.
	withCustomers := func(t *testing.T, st *store.Store) {
		mkAccount(t, st, "a")
		mkAccount(t, st, "b")
		mkCustomer(t, st, "a", "cu1", "", "")
		mkCustomer(t, st, "a", "cu2", "", "")
		mkCustomer(t, st, "b", "cub", "", "")
	}
	runAll(t, open, []test{
		{"CreateListGet", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomers(t, st)
			totp := factor("a", "cu1", "f1", store.FactorTOTP)
			must(t, st.Factors().Create(ctx, totp), "Create totp")
			key := factor("a", "cu1", "f2", store.FactorWebAuthn)
			key.Secret, key.CredentialID, key.Credential = nil, []byte{0, 1, 2, 255}, `{"publicKey":"pk","authenticator":{"signCount":7}}`
			must(t, st.Factors().Create(ctx, key), "Create webauthn")
			must(t, st.Factors().Create(ctx, factor("a", "cu2", "f3", store.FactorTOTP)), "Create of another customer")
			must(t, st.Factors().Create(ctx, factor("b", "cub", "f4", store.FactorTOTP)), "Create in another account")

			list, err := st.Factors().List(ctx, "a", "cu1")
			must(t, err, "List")
			if len(list) != 2 {
				t.Fatalf("List answered %d factors, want 2 (only the customer's)", len(list))
			}
			checkFactor(t, &list[0], totp)
			checkFactor(t, &list[1], key)
			got, err := st.Factors().Get(ctx, "a", "cu1", "f2")
			must(t, err, "Get")
			checkFactor(t, got, key)
			wantErr(t, getErr(st.Factors().Get(ctx, "a", "cu2", "f1")), store.ErrNotFound, "Get as another customer")
			wantErr(t, getErr(st.Factors().Get(ctx, "b", "cu1", "f1")), store.ErrNotFound, "Get in another account")
			if none, err := st.Factors().List(ctx, "b", "cu1"); err != nil || len(none) != 0 {
				t.Errorf("List in another account: %v %v", none, err)
			}
		}},
		{"CredentialIDUniquePerAccount", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomers(t, st)
			mk := func(aid, cu, id string) error {
				f := factor(aid, cu, id, store.FactorWebAuthn)
				f.CredentialID = []byte("cred")
				return st.Factors().Create(ctx, f)
			}
			must(t, mk("a", "cu1", "k1"), "Create")
			wantErr(t, mk("a", "cu2", "k2"), store.ErrConflict, "the same credential id in the account")
			must(t, mk("b", "cub", "k3"), "the same credential id in another account")
			// TOTP factors have no credential id: any number of them.
			must(t, st.Factors().Create(ctx, factor("a", "cu1", "t1", store.FactorTOTP)), "Create totp")
			must(t, st.Factors().Create(ctx, factor("a", "cu2", "t2", store.FactorTOTP)), "Create another totp")

			must(t, st.Factors().UpdateCredential(ctx, "k1", `{"signCount":8}`, clock), "UpdateCredential")
			got, _ := st.Factors().Get(ctx, "a", "cu1", "k1")
			if got.Credential != `{"signCount":8}` || got.LastUsedAt == nil || !got.LastUsedAt.Equal(clock) {
				t.Errorf("credential after UpdateCredential: %q, last used %v", got.Credential, got.LastUsedAt)
			}
			wantErr(t, st.Factors().UpdateCredential(ctx, "t1", "{}", clock), store.ErrNotFound, "UpdateCredential of a totp factor")
		}},
		{"UseStepOnce", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomers(t, st)
			must(t, st.Factors().Create(ctx, factor("a", "cu1", "f1", store.FactorTOTP)), "Create")
			must(t, st.Factors().UseStep(ctx, "f1", 100, clock), "first code of step 100")
			got, _ := st.Factors().Get(ctx, "a", "cu1", "f1")
			if !got.Confirmed || got.LastStep != 100 || got.LastUsedAt == nil || !got.LastUsedAt.Equal(clock) {
				t.Errorf("after UseStep: confirmed %v, step %d, last used %v", got.Confirmed, got.LastStep, got.LastUsedAt)
			}
			wantErr(t, st.Factors().UseStep(ctx, "f1", 100, clock), store.ErrUsed, "replay in the same step")
			wantErr(t, st.Factors().UseStep(ctx, "f1", 99, clock), store.ErrUsed, "an older step")
			must(t, st.Factors().UseStep(ctx, "f1", 101, clock), "the next step")
			wantErr(t, st.Factors().UseStep(ctx, "none", 5, clock), store.ErrNotFound, "unknown factor")

			results := Race(16, func(int) error {
				err := st.Factors().UseStep(ctx, "f1", 200, clock)
				if errors.Is(err, store.ErrUsed) {
					return errDenied
				}
				return err
			})
			checkGranted(t, results, 1, "parallel UseStep of one step")
		}},
		{"RecoveryCodes", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomers(t, st)
			set := func(id string, n int) {
				hashes := make([][]byte, n)
				for i := range hashes {
					hashes[i] = []byte(fmt.Sprint(id, ":", i))
				}
				must(t, st.Factors().ReplaceRecoveryCodes(ctx, factor("a", "cu1", id, store.FactorRecovery), hashes), "ReplaceRecoveryCodes "+id)
			}
			left := func(want int64, what string) {
				t.Helper()
				n, err := st.Factors().RecoveryCodesLeft(ctx, "a", "cu1")
				if err != nil || n != want {
					t.Errorf("%s: %d codes left (%v), want %d", what, n, err, want)
				}
			}
			set("r1", 10)
			left(10, "a new set")
			must(t, st.Factors().UseRecoveryCode(ctx, "a", "cu1", []byte("r1:3"), clock), "use a code")
			left(9, "after one use")
			wantErr(t, st.Factors().UseRecoveryCode(ctx, "a", "cu1", []byte("r1:3"), clock), store.ErrNotFound, "the same code again")
			wantErr(t, st.Factors().UseRecoveryCode(ctx, "a", "cu2", []byte("r1:4"), clock), store.ErrNotFound, "another customer's code")
			wantErr(t, st.Factors().UseRecoveryCode(ctx, "b", "cu1", []byte("r1:4"), clock), store.ErrNotFound, "in another account")
			got, _ := st.Factors().Get(ctx, "a", "cu1", "r1")
			if got.LastUsedAt == nil || !got.LastUsedAt.Equal(clock) {
				t.Errorf("recovery factor last used %v, want %v", got.LastUsedAt, clock)
			}

			// A new set replaces the old one whole.
			set("r2", 10)
			left(10, "a regenerated set")
			wantErr(t, st.Factors().UseRecoveryCode(ctx, "a", "cu1", []byte("r1:4"), clock), store.ErrNotFound, "a code of the old set")
			wantErr(t, getErr(st.Factors().Get(ctx, "a", "cu1", "r1")), store.ErrNotFound, "the old set's factor")

			results := Race(12, func(int) error {
				err := st.Factors().UseRecoveryCode(ctx, "a", "cu1", []byte("r2:0"), clock)
				if errors.Is(err, store.ErrNotFound) {
					return errDenied
				}
				return err
			})
			checkGranted(t, results, 1, "parallel UseRecoveryCode of one code")
		}},
		{"DeletePending", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomers(t, st)
			old := factor("a", "cu1", "old", store.FactorTOTP) // created at when(12)
			must(t, st.Factors().Create(ctx, old), "Create old")
			fresh := factor("a", "cu1", "fresh", store.FactorTOTP)
			fresh.CreatedAt = when(14)
			must(t, st.Factors().Create(ctx, fresh), "Create fresh")
			done := factor("a", "cu1", "done", store.FactorTOTP)
			must(t, st.Factors().Create(ctx, done), "Create done")
			must(t, st.Factors().UseStep(ctx, "done", 1, clock), "confirm done")
			must(t, st.Factors().Create(ctx, factor("a", "cu2", "other", store.FactorTOTP)), "Create other")
			n, err := st.Factors().DeletePending(ctx, "a", "cu1")
			if err != nil || n != 2 {
				t.Fatalf("DeletePending: %d %v, want 2", n, err)
			}
			for _, id := range []string{"old", "fresh"} {
				wantErr(t, getErr(st.Factors().Get(ctx, "a", "cu1", id)), store.ErrNotFound, "the pending factor "+id)
			}
			must(t, getErr(st.Factors().Get(ctx, "a", "cu1", "done")), "kept the confirmed factor")
			must(t, getErr(st.Factors().Get(ctx, "a", "cu2", "other")), "another customer's pending factor")
		}},
		{"DeleteAndCascade", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomers(t, st)
			for _, id := range []string{"f1", "f2", "f3"} {
				must(t, st.Factors().Create(ctx, factor("a", "cu1", id, store.FactorTOTP)), "Create "+id)
			}
			must(t, st.Factors().ReplaceRecoveryCodes(ctx, factor("a", "cu1", "r", store.FactorRecovery), [][]byte{[]byte("x")}), "codes")
			must(t, st.Factors().Create(ctx, factor("a", "cu2", "g1", store.FactorTOTP)), "Create g1")
			wantErr(t, st.Factors().Delete(ctx, "a", "cu2", "f1"), store.ErrNotFound, "Delete as another customer")
			must(t, st.Factors().Delete(ctx, "a", "cu1", "f1"), "Delete")
			wantErr(t, st.Factors().Delete(ctx, "a", "cu1", "f1"), store.ErrNotFound, "Delete twice")
			n, err := st.Factors().DeleteAll(ctx, "a", "cu1")
			if err != nil || n != 3 {
				t.Errorf("DeleteAll: %d %v, want 3", n, err)
			}
			if rows(t, st, "recovery_codes", "1 = 1") != 0 {
				t.Error("recovery codes outlived their factor")
			}
			if list, _ := st.Factors().List(ctx, "a", "cu2"); len(list) != 1 {
				t.Errorf("DeleteAll touched another customer: %v", list)
			}
			must(t, st.Customers().Delete(ctx, "a", "cu2"), "delete customer")
			if rows(t, st, "factors", "customer_id = ?", "cu2") != 0 {
				t.Error("factors outlived their customer")
			}
		}},
	})
}

func checkFactor(t *testing.T, got, want *store.Factor) {
	t.Helper()
	if got.ID != want.ID || got.AID != want.AID || got.CustomerID != want.CustomerID || got.Type != want.Type ||
		got.Name != want.Name || !bytes.Equal(got.Secret, want.Secret) || !bytes.Equal(got.CredentialID, want.CredentialID) ||
		got.Credential != want.Credential || got.Confirmed != want.Confirmed || got.LastStep != want.LastStep ||
		!got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != time.UTC || (got.LastUsedAt == nil) != (want.LastUsedAt == nil) {
		t.Errorf("factor read back as %+v, want %+v", got, want)
	}
}

func testMFATokens(t *testing.T, open opener) {
	mk := func(t *testing.T, st *store.Store) *store.MFAToken {
		mkAccount(t, st, "a")
		mkAccount(t, st, "b")
		mkCustomer(t, st, "a", "cu1", "", "")
		tok := &store.MFAToken{ID: "m1", AID: "a", Hash: []byte("mfa:m1"), ClientID: "app", CustomerID: "cu1",
			Audience: "https://api.example.org", Scopes: "read write", Refresh: true, AMR: "pwd",
			ExpiresMS: ms(clock.Add(5 * time.Minute))}
		must(t, st.MFATokens().Create(t.Context(), tok), "Create")
		return tok
	}
	runAll(t, open, []test{
		{"GetAndUseOnce", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			want := mk(t, st)
			got, err := st.MFATokens().Get(ctx, "a", []byte("mfa:m1"))
			must(t, err, "Get")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("mfa token read back as %+v, want %+v", got, want)
			}
			wantErr(t, getErr(st.MFATokens().Get(ctx, "b", []byte("mfa:m1"))), store.ErrNotFound, "Get in another account")
			wantErr(t, st.MFATokens().Use(ctx, "m1", clock.Add(5*time.Minute)), store.ErrUsed, "Use at its expiry")
			must(t, st.MFATokens().Use(ctx, "m1", clock), "Use")
			wantErr(t, st.MFATokens().Use(ctx, "m1", clock), store.ErrUsed, "Use twice")
			got, _ = st.MFATokens().Get(ctx, "a", []byte("mfa:m1"))
			if got.UsedMS != ms(clock) {
				t.Errorf("used at %d, want %d", got.UsedMS, ms(clock))
			}
		}},
		{"UseRace", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mk(t, st)
			results := Race(16, func(int) error {
				err := st.MFATokens().Use(ctx, "m1", clock)
				if errors.Is(err, store.ErrUsed) {
					return errDenied
				}
				return err
			})
			checkGranted(t, results, 1, "parallel Use of an mfa_token")
		}},
		{"Swept", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mk(t, st)
			if _, err := st.Sweep(ctx, clock.Add(5*time.Minute-time.Millisecond), time.Hour, 100); err != nil {
				t.Fatal(err)
			}
			must(t, getErr(st.MFATokens().Get(ctx, "a", []byte("mfa:m1"))), "a live token survives the sweep")
			if _, err := st.Sweep(ctx, clock.Add(5*time.Minute+time.Millisecond), time.Hour, 100); err != nil {
				t.Fatal(err)
			}
			wantErr(t, getErr(st.MFATokens().Get(ctx, "a", []byte("mfa:m1"))), store.ErrNotFound, "an expired token after the sweep")
		}},
	})
}

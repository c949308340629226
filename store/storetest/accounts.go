package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

func testAccounts(t *testing.T, open opener) {
	runAll(t, open, []test{
		{"CreateAndGet", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			zero, grace := 0, 30
			a := account("acct")
			a.Settings = store.AccountSettings{
				SigningAlg: "RS256", AccessTokenLifetime: 600, KeyPropagationDelay: &zero, KeyRotationInterval: 86400,
				TokenRatePerMinute: 60, TokenRateBurst: 10, RefreshIdleLifetime: 3600, RefreshAbsoluteLifetime: 7200,
				RefreshReuseGrace: &grace, LoginMaxFailures: 5, LoginIPMaxFailures: 50, LoginLockoutSeconds: 30,
				InvitationLifetime: 172800, EmailSenderName: "Ünïcode Sender", SessionIdleLifetime: 900,
				SessionAbsoluteLifetime: 28800, MFA: "required",
			}
			scopes := []store.Scope{*scope("acct", "sc1", "read"), *scope("acct", "sc2", "write")}
			scopes[0].Builtin = true
			must(t, st.Accounts().Create(ctx, a, scopes, signingKey("acct", "k1", when(1))), "CreateAccount")

			got, err := st.Accounts().Get(ctx, "acct")
			must(t, err, "GetAccount")
			if got.AID != "acct" || got.Name != a.Name {
				t.Errorf("account read back as %q %q, want %q %q", got.AID, got.Name, "acct", a.Name)
			}
			// A pointer to zero is a setting ("no delay"), not an absent one.
			if !reflect.DeepEqual(got.Settings, a.Settings) {
				t.Errorf("settings read back as %+v, want %+v", got.Settings, a.Settings)
			}
			if !got.CreatedAt.Equal(a.CreatedAt) || !got.UpdatedAt.Equal(a.UpdatedAt) {
				t.Errorf("times read back as %v/%v, want %v/%v", got.CreatedAt, got.UpdatedAt, a.CreatedAt, a.UpdatedAt)
			}
			sc, err := st.Scopes().Get(ctx, "acct", "sc1")
			must(t, err, "built-in scope created with the account")
			if !sc.Builtin || sc.Scope != "read" {
				t.Errorf("built-in scope read back as %+v", sc)
			}
			keys, err := st.Keys().List(ctx, "acct")
			must(t, err, "ListSigningKeys")
			if len(keys) != 1 || keys[0].KID != "k1" {
				t.Errorf("keys created with the account: %+v", keys)
			}
		}},
		{"DuplicateID", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "acct")
			dup := account("acct")
			dup.Name = "other"
			wantErr(t, st.Accounts().Create(t.Context(), dup, nil), store.ErrConflict, "second account with the same aid")
			got, err := st.Accounts().Get(t.Context(), "acct")
			must(t, err, "GetAccount")
			if got.Name != "Account acct" {
				t.Errorf("the first account was overwritten: name %q", got.Name)
			}
		}},
		{"CreateIsAtomic", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			// The second scope repeats the first's scope string: nothing of the account may stay.
			scopes := []store.Scope{*scope("acct", "sc1", "read"), *scope("acct", "sc2", "read")}
			err := st.Accounts().Create(ctx, account("acct"), scopes, signingKey("acct", "k1", when(1)))
			wantErr(t, err, store.ErrConflict, "CreateAccount with a duplicate scope")
			wantErr(t, getErr(st.Accounts().Get(ctx, "acct")), store.ErrNotFound, "account after a failed create")
			wantErr(t, getErr(st.Scopes().Get(ctx, "acct", "sc1")), store.ErrNotFound, "scope after a failed create")
			// The key's kid is free again: a retry with the same kid must work.
			must(t, st.Accounts().Create(ctx, account("acct"), nil, signingKey("acct", "k1", when(1))), "retry")
		}},
		{"GetMissing", func(t *testing.T, st *store.Store) {
			wantErr(t, getErr(st.Accounts().Get(t.Context(), "none")), store.ErrNotFound, "GetAccount of a missing account")
		}},
		{"Update", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			created := mkAccount(t, st, "acct")
			a := account("acct")
			a.Name = "Renamed"
			a.Settings = store.AccountSettings{SigningAlg: "ES256", LoginMaxFailures: 3}
			a.CreatedAt = when(-100) // not a mutable field
			before := time.Now()
			must(t, st.Accounts().Update(ctx, a), "UpdateAccount")
			after := time.Now()
			got, err := st.Accounts().Get(ctx, "acct")
			must(t, err, "GetAccount")
			if got.Name != "Renamed" || !reflect.DeepEqual(got.Settings, a.Settings) {
				t.Errorf("after update: %q %+v, want %q %+v", got.Name, got.Settings, "Renamed", a.Settings)
			}
			if !got.CreatedAt.Equal(created.CreatedAt) {
				t.Errorf("CreatedAt changed by an update: %v, want %v", got.CreatedAt, created.CreatedAt)
			}
			stampedDuring(t, "UpdatedAt after update", got.UpdatedAt, before, after)
			// Clearing the settings stores the defaults.
			a.Settings = store.AccountSettings{}
			must(t, st.Accounts().Update(ctx, a), "UpdateAccount to default settings")
			got, err = st.Accounts().Get(ctx, "acct")
			must(t, err, "GetAccount")
			if !reflect.DeepEqual(got.Settings, store.AccountSettings{}) {
				t.Errorf("settings after clearing: %+v", got.Settings)
			}
		}},
		{"UpdateMissing", func(t *testing.T, st *store.Store) {
			wantErr(t, st.Accounts().Update(t.Context(), account("none")), store.ErrNotFound, "UpdateAccount of a missing account")
		}},
		{"DeleteCascades", func(t *testing.T, st *store.Store) {
			populate(t, st, "gone")
			populate(t, st, "kept")
			must(t, st.Accounts().Delete(t.Context(), "gone"), "DeleteAccount")
			checkPopulated(t, st, "gone", false)
			checkPopulated(t, st, "kept", true)
		}},
		{"DeleteMissing", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			wantErr(t, st.Accounts().Delete(ctx, "none"), store.ErrNotFound, "DeleteAccount of a missing account")
			mkAccount(t, st, "acct")
			must(t, st.Accounts().Delete(ctx, "acct"), "DeleteAccount")
			wantErr(t, st.Accounts().Delete(ctx, "acct"), store.ErrNotFound, "second DeleteAccount")
		}},
		{"ListAndAllIDs", func(t *testing.T, st *store.Store) {
			want := []string{"acct00", "acct01", "acct02", "acct03", "acct04", "acct05", "acct06"}
			for _, i := range []int{3, 0, 6, 1, 5, 2, 4} { // insertion order is not list order
				mkAccount(t, st, want[i])
			}
			checkPages(t, want, func(a store.Account) string { return a.AID },
				func(p store.Page) ([]store.Account, string, error) { return st.Accounts().List(t.Context(), p) })
			ids, err := st.Accounts().IDs(t.Context())
			must(t, err, "AllAccountIDs")
			if !slices.Equal(ids, want) {
				t.Errorf("AllAccountIDs = %v, want %v", ids, want)
			}
		}},
		{"EmptyList", func(t *testing.T, st *store.Store) {
			rows, next, err := st.Accounts().List(t.Context(), store.Page{Limit: 10})
			must(t, err, "ListAccounts")
			if len(rows) != 0 || next != "" {
				t.Errorf("empty store lists %v, cursor %q", rows, next)
			}
			ids, err := st.Accounts().IDs(t.Context())
			must(t, err, "AllAccountIDs")
			if len(ids) != 0 {
				t.Errorf("empty store has account ids %v", ids)
			}
		}},
		{"ChildOfMissingAccount", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			// Foreign keys are enforced on every dialect (SQLite needs them switched on).
			if err := st.Scopes().Create(ctx, scope("none", "sc1", "read")); err == nil {
				t.Error("CreateScope in a missing account succeeded")
			}
			if err := st.Clients().Create(ctx, client("none", store.KindPublic, "c1"), nil); err == nil {
				t.Error("CreateClient in a missing account succeeded")
			}
			if err := st.Customers().Create(ctx, customer("none", "cu1", "ann@example.org", ""), nil); err == nil {
				t.Error("CreateCustomer in a missing account succeeded")
			}
			wantErr(t, getErr(st.Scopes().Get(ctx, "none", "sc1")), store.ErrNotFound, "scope of a missing account")
			wantErr(t, getErr(st.Customers().Get(ctx, "none", "cu1")), store.ErrNotFound, "customer of a missing account")
		}},
	})
}

// populate creates an account with one row of every kind, all ids prefixed with aid.
func populate(t *testing.T, st *store.Store, aid string) {
	t.Helper()
	ctx := t.Context()
	mkAccount(t, st, aid)
	must(t, st.Keys().Add(ctx, when(10), signingKey(aid, aid+"-k", when(1))), "AddSigningKeys")
	mkScope(t, st, aid, aid+"-sc", "read")
	mkClient(t, st, aid, store.KindServiceAccount, aid+"-cl", aid+"-sc")
	must(t, st.Secrets().Create(ctx, secret(aid+"-cl", aid+"-se"), 5), "CreateSecret")
	mkClient(t, st, aid, store.KindConfidential, aid+"-app")
	mkGrant(t, st, aid, aid+"-app", aid+"-gr", "https://api.example.org", store.GrantPassword)
	mkCustomer(t, st, aid, aid+"-cu", aid+"@example.org", "")
	mkRefreshToken(t, st, aid, aid+"-cu", aid+"-rt")
	must(t, st.Codes().Replace(ctx, code(aid, aid+"-cu", aid+"-vc")), "ReplaceCode")
	must(t, st.Sessions().Create(ctx, session(aid, aid+"-cu", aid+"-ss")), "CreateSession")
	must(t, st.AuthCodes().Create(ctx, authCode(aid, aid+"-cu", aid+"-ac")), "CreateAuthCode")
	must(t, st.Customers().LinkIdentity(ctx, identity(aid, "sub-"+aid, aid+"-cu"), nil), "LinkIdentity")
	must(t, st.Tokens().RevokeAccess(ctx, aid, aid+"-jti", clock.Add(time.Hour)), "RevokeAccessToken")
	if _, err := st.Throttle().Reserve(ctx, aid, "k", 1, time.Hour, clock); err != nil {
		t.Fatalf("ReserveAttempt: %v", err)
	}
}

// checkPopulated checks that the rows populate made are all there, or all gone.
func checkPopulated(t *testing.T, st *store.Store, aid string, present bool) {
	t.Helper()
	ctx := t.Context()
	lookups := map[string]error{
		"account":           getErr(st.Accounts().Get(ctx, aid)),
		"scope":             getErr(st.Scopes().Get(ctx, aid, aid+"-sc")),
		"service account":   getErr(st.Clients().Get(ctx, aid, store.KindServiceAccount, aid+"-cl")),
		"app client":        getErr(st.Clients().App(ctx, aid, "cid-"+aid+"-app")),
		"grant":             getErr(st.Grants().Get(ctx, aid, aid+"-gr")),
		"customer":          getErr(st.Customers().Get(ctx, aid, aid+"-cu")),
		"refresh token":     getErr(st.Tokens().RefreshByHash(ctx, aid, []byte("rt:"+aid+"-rt"))),
		"verification code": getErr(st.Codes().ByHash(ctx, aid, []byte("code:"+aid+"-vc"))),
		"session":           getErr(st.Sessions().ByHash(ctx, aid, []byte("session:"+aid+"-ss"), clock)),
		"auth code":         getErr(st.AuthCodes().ByHash(ctx, aid, []byte("authcode:"+aid+"-ac"))),
		"identity":          getErr(st.Customers().ByIdentity(ctx, aid, "https://idp.example.org", "sub-"+aid)),
	}
	for what, err := range lookups {
		if present && err != nil {
			t.Errorf("%s of %s: %v, want it found", what, aid, err)
		}
		if !present && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of %s: got %v, want %v", what, aid, err, store.ErrNotFound)
		}
	}
	secs, err := st.Secrets().Of(ctx, aid+"-cl")
	must(t, err, "ClientSecrets")
	keys, err := st.Keys().List(ctx, aid)
	must(t, err, "ListSigningKeys")
	revoked, err := st.Tokens().AccessRevoked(ctx, aid+"-jti")
	must(t, err, "AccessTokenRevoked")
	counters := rows(t, st, "login_throttle", "aid = ?", aid)
	n := 0
	if present {
		n = 1
	}
	if len(secs) != n || len(keys) != n || revoked != present || counters != int64(n) {
		t.Errorf("%s: %d secrets, %d keys, access token revoked %v, %d login counters; want %d, %d, %v, %d",
			aid, len(secs), len(keys), revoked, counters, n, n, present, n)
	}
}

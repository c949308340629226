package storetest

import (
	"slices"
	"testing"

	"github.com/twinid/twinid/store"
)

func testScopes(t *testing.T, open opener) {
	runAll(t, open, []test{
		{"CreateAndGet", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "acct")
			sc := scope("acct", "sc1", "orders:read")
			sc.Builtin = true
			must(t, st.Scopes().Create(t.Context(), sc), "CreateScope")
			got, err := st.Scopes().Get(t.Context(), "acct", "sc1")
			must(t, err, "GetScope")
			if got.ID != sc.ID || got.AID != sc.AID || got.ServiceName != sc.ServiceName || got.Audience != sc.Audience ||
				got.Scope != sc.Scope || got.Description != sc.Description || got.Builtin != sc.Builtin {
				t.Errorf("scope read back as %+v, want %+v", got, sc)
			}
			if !got.CreatedAt.Equal(sc.CreatedAt) {
				t.Errorf("CreatedAt read back as %v, want %v", got.CreatedAt, sc.CreatedAt)
			}
		}},
		{"Conflicts", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkScope(t, st, "a", "sc1", "read")
			wantErr(t, st.Scopes().Create(ctx, scope("a", "sc2", "read")), store.ErrConflict, "same scope string in the account")
			wantErr(t, st.Scopes().Create(ctx, scope("a", "sc1", "other")), store.ErrConflict, "same id")
			// The scope string is unique per account only.
			must(t, st.Scopes().Create(ctx, scope("b", "sc3", "read")), "same scope string in another account")
		}},
		{"GetMissingOrOtherAccount", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkScope(t, st, "a", "sc1", "read")
			wantErr(t, getErr(st.Scopes().Get(ctx, "a", "none")), store.ErrNotFound, "missing scope")
			wantErr(t, getErr(st.Scopes().Get(ctx, "b", "sc1")), store.ErrNotFound, "scope of a through b")
		}},
		{"List", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			want := []string{"sc00", "sc01", "sc02", "sc03", "sc04", "sc05", "sc06"}
			for _, i := range []int{4, 1, 6, 0, 3, 5, 2} { // insertion order is not list order
				mkScope(t, st, "a", want[i], "scope-"+want[i])
			}
			mkScope(t, st, "b", "sc00b", "scope-b") // sorts among a's, listed only in b
			list := func(aid string) func(store.Page) ([]store.Scope, string, error) {
				return func(p store.Page) ([]store.Scope, string, error) { return st.Scopes().List(t.Context(), aid, p) }
			}
			id := func(sc store.Scope) string { return sc.ID }
			checkPages(t, want, id, list("a"))
			checkPages(t, []string{"sc00b"}, id, list("b"))
			checkPages(t, nil, id, list("none"))
		}},
		{"ScopesByName", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkScope(t, st, "a", "sc1", "read")
			mkScope(t, st, "a", "sc2", "write")
			mkScope(t, st, "a", "sc3", "admin")
			mkScope(t, st, "b", "sc4", "read")
			got, err := st.Scopes().ByName(ctx, "a", []string{"write", "read", "unknown"})
			must(t, err, "ScopesByName")
			ids := make([]string, len(got))
			for i, sc := range got {
				ids[i] = sc.ID
			}
			slices.Sort(ids) // the order is not specified
			if !slices.Equal(ids, []string{"sc1", "sc2"}) {
				t.Errorf("ScopesByName(read, write, unknown) = %v, want [sc1 sc2]", ids)
			}
			got, err = st.Scopes().ByName(ctx, "a", nil)
			must(t, err, "ScopesByName of no names")
			if len(got) != 0 {
				t.Errorf("ScopesByName of no names = %v", got)
			}
		}},
		{"Update", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			orig := mkScope(t, st, "acct", "sc1", "read")
			up := *orig
			up.ServiceName, up.Description = "billing", "changed"
			// Only the service name and description are mutable; the rest must stay.
			up.Scope, up.Audience, up.Builtin = "write", "https://other.example.org", true
			must(t, st.Scopes().Update(ctx, &up), "UpdateScope")
			got, err := st.Scopes().Get(ctx, "acct", "sc1")
			must(t, err, "GetScope")
			if got.ServiceName != "billing" || got.Description != "changed" {
				t.Errorf("mutable fields after update: %q %q", got.ServiceName, got.Description)
			}
			if got.Scope != orig.Scope || got.Audience != orig.Audience || got.Builtin != orig.Builtin {
				t.Errorf("immutable fields changed: %+v, was %+v", got, orig)
			}
		}},
		{"UpdateMissingOrOtherAccount", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkScope(t, st, "a", "sc1", "read")
			wantErr(t, st.Scopes().Update(ctx, scope("a", "none", "x")), store.ErrNotFound, "update of a missing scope")
			other := scope("b", "sc1", "read")
			other.Description = "hijacked"
			wantErr(t, st.Scopes().Update(ctx, other), store.ErrNotFound, "update of a's scope through b")
			got, err := st.Scopes().Get(ctx, "a", "sc1")
			must(t, err, "GetScope")
			if got.Description == "hijacked" {
				t.Error("b updated a's scope")
			}
		}},
		{"Delete", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkScope(t, st, "a", "sc1", "read")
			wantErr(t, st.Scopes().Delete(ctx, "b", "sc1"), store.ErrNotFound, "delete of a's scope through b")
			must(t, getErr(st.Scopes().Get(ctx, "a", "sc1")), "scope after b's delete")
			must(t, st.Scopes().Delete(ctx, "a", "sc1"), "DeleteScope")
			wantErr(t, getErr(st.Scopes().Get(ctx, "a", "sc1")), store.ErrNotFound, "deleted scope")
			wantErr(t, st.Scopes().Delete(ctx, "a", "sc1"), store.ErrNotFound, "second delete")
			// Its scope string is free again.
			must(t, st.Scopes().Create(ctx, scope("a", "sc2", "read")), "reuse of a deleted scope string")
		}},
		{"DeleteInUse", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			mkScope(t, st, "acct", "sc1", "read")
			mkScope(t, st, "acct", "sc2", "write")
			c := mkClient(t, st, "acct", store.KindServiceAccount, "c1", "sc1", "sc2")
			mkClient(t, st, "acct", store.KindServiceAccount, "c2", "sc2")
			wantErr(t, st.Scopes().Delete(ctx, "acct", "sc1"), store.ErrInUse, "delete of a scope a client holds")
			must(t, getErr(st.Scopes().Get(ctx, "acct", "sc1")), "scope after a refused delete")
			// Taking the scope away from the client frees it.
			must(t, st.Clients().Update(ctx, c, nil, &[]string{"sc2"}), "UpdateClient")
			must(t, st.Scopes().Delete(ctx, "acct", "sc1"), "delete of a scope no client holds")
			// So does deleting the clients.
			wantErr(t, st.Scopes().Delete(ctx, "acct", "sc2"), store.ErrInUse, "delete of a scope two clients hold")
			must(t, st.Clients().Delete(ctx, "acct", store.KindServiceAccount, "c1"), "DeleteClient c1")
			wantErr(t, st.Scopes().Delete(ctx, "acct", "sc2"), store.ErrInUse, "delete of a scope c2 holds")
			must(t, st.Clients().Delete(ctx, "acct", store.KindServiceAccount, "c2"), "DeleteClient c2")
			must(t, st.Scopes().Delete(ctx, "acct", "sc2"), "delete of a scope whose clients are gone")
		}},
	})
}

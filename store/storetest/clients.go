package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

func testClients(t *testing.T, open opener) {
	runAll(t, open, []test{
		{"CreateAndGet", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			mkScope(t, st, "acct", "sc1", "read")
			mkScope(t, st, "acct", "sc2", "write")
			mkScope(t, st, "acct", "sc3", "admin")
			rate, burst := 120, 0
			c := client("acct", store.KindConfidential, "c1")
			c.Description = "the web app"
			c.RedirectURIs = []string{"https://app.example.org/cb", "http://127.0.0.1:8080/cb"}
			c.PostLogoutRedirectURIs = []string{"https://app.example.org/bye"}
			c.AllowedOrigins = []string{"https://app.example.org", "http://127.0.0.1:8080"}
			c.RatePerMinute, c.RateBurst = &rate, &burst
			c.MFA = "required"
			// Scopes come back in the order they were assigned, not in id order.
			must(t, st.Clients().Create(ctx, c, []string{"sc3", "sc1", "sc2"}), "CreateClient")

			byID, err := st.Clients().Get(ctx, "acct", store.KindConfidential, "c1")
			must(t, err, "GetClient")
			byClientID, err := st.Clients().ByClientID(ctx, "acct", c.ClientID)
			must(t, err, "GetClientByClientID")
			for name, got := range map[string]*store.Client{"GetClient": byID, "GetClientByClientID": byClientID} {
				checkClient(t, name, got, c, []string{"sc3", "sc1", "sc2"})
			}
			if byID.Scopes[0].Scope != "admin" || byID.Scopes[0].AID != "acct" {
				t.Errorf("first scope read back as %+v", byID.Scopes[0])
			}

			// Nil rate limits stay nil, and a client may hold no scope.
			mkClient(t, st, "acct", store.KindServiceAccount, "c2")
			got, err := st.Clients().Get(ctx, "acct", store.KindServiceAccount, "c2")
			must(t, err, "GetClient c2")
			if got.RatePerMinute != nil || got.RateBurst != nil || len(got.Scopes) != 0 {
				t.Errorf("client without limits or scopes read back with %v %v %v", got.RatePerMinute, got.RateBurst, got.Scopes)
			}
		}},
		{"GetMissingWrongKindOrOtherAccount", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			c := mkClient(t, st, "a", store.KindServiceAccount, "c1")
			for name, err := range map[string]error{
				"missing id":                 getErr(st.Clients().Get(ctx, "a", store.KindServiceAccount, "none")),
				"wrong kind":                 getErr(st.Clients().Get(ctx, "a", store.KindPublic, "c1")),
				"other account":              getErr(st.Clients().Get(ctx, "b", store.KindServiceAccount, "c1")),
				"missing client_id":          getErr(st.Clients().ByClientID(ctx, "a", "none")),
				"client_id of other account": getErr(st.Clients().ByClientID(ctx, "b", c.ClientID)),
			} {
				wantErr(t, err, store.ErrNotFound, name)
			}
		}},
		{"Conflicts", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkClient(t, st, "a", store.KindServiceAccount, "c1")
			sameClientID := client("a", store.KindPublic, "c2")
			sameClientID.ClientID = "cid-c1"
			sameName := client("a", store.KindServiceAccount, "c3")
			sameName.Name = "client c1"
			nameOtherKind := client("a", store.KindPublic, "c4")
			nameOtherKind.Name = "client c1"
			clientIDOtherAccount := client("b", store.KindServiceAccount, "c5")
			clientIDOtherAccount.ClientID = "cid-c1"
			clientIDOtherAccount.Name = "client c1"
			for _, tc := range []struct {
				name string
				c    *store.Client
				want error
			}{
				{"same client_id in the account", sameClientID, store.ErrConflict},
				{"same kind and name in the account", sameName, store.ErrConflict},
				{"same id", client("b", store.KindPublic, "c1"), store.ErrConflict},
				{"same name, other kind", nameOtherKind, nil},
				{"same client_id and name in another account", clientIDOtherAccount, nil},
			} {
				err := st.Clients().Create(t.Context(), tc.c, nil)
				if tc.want == nil && err != nil {
					t.Errorf("%s: %v", tc.name, err)
				}
				if tc.want != nil {
					wantErr(t, err, tc.want, tc.name)
				}
			}
		}},
		{"CreateIsAtomic", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			mkScope(t, st, "acct", "sc1", "read")
			wantErr(t, st.Clients().Create(ctx, client("acct", store.KindPublic, "c1"), []string{"sc1", "sc1"}),
				store.ErrConflict, "CreateClient with a scope twice")
			wantErr(t, getErr(st.Clients().Get(ctx, "acct", store.KindPublic, "c1")), store.ErrNotFound, "client after a failed create")
			if err := st.Clients().Create(ctx, client("acct", store.KindPublic, "c2"), []string{"sc1", "none"}); err == nil {
				t.Error("CreateClient with a missing scope succeeded")
			}
			wantErr(t, getErr(st.Clients().Get(ctx, "acct", store.KindPublic, "c2")), store.ErrNotFound, "client after a failed create")
		}},
		{"Update", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			mkScope(t, st, "acct", "sc1", "read")
			mkScope(t, st, "acct", "sc2", "write")
			orig := mkClient(t, st, "acct", store.KindConfidential, "c1", "sc1")
			rate := 30
			up := *orig
			up.Name, up.Description = "renamed", "not written"
			up.RedirectURIs = []string{"https://new.example.org/cb"}
			up.RatePerMinute = &rate
			before := time.Now()
			must(t, st.Clients().Update(ctx, &up, []string{"name", "redirect_uris", "rate_per_minute"}, nil), "UpdateClient")
			after := time.Now()
			got, err := st.Clients().Get(ctx, "acct", store.KindConfidential, "c1")
			must(t, err, "GetClient")
			if got.Name != "renamed" || !slices.Equal(got.RedirectURIs, up.RedirectURIs) || got.RatePerMinute == nil || *got.RatePerMinute != 30 {
				t.Errorf("named columns after update: %q %v %v", got.Name, got.RedirectURIs, got.RatePerMinute)
			}
			if got.Description != orig.Description {
				t.Errorf("a column not named was written: description %q", got.Description)
			}
			if !got.CreatedAt.Equal(orig.CreatedAt) {
				t.Errorf("CreatedAt changed by an update: %v, want %v", got.CreatedAt, orig.CreatedAt)
			}
			stampedDuring(t, "UpdatedAt after update", got.UpdatedAt, before, after)
			if ids := scopeIDs(got.Scopes); !slices.Equal(ids, []string{"sc1"}) {
				t.Errorf("scopes changed by an update without scopeIDs: %v", ids)
			}

			for _, want := range [][]string{{"sc2", "sc1"}, {}} {
				must(t, st.Clients().Update(ctx, &up, nil, &want), fmt.Sprintf("UpdateClient scopes %v", want))
				got, err := st.Clients().Get(ctx, "acct", store.KindConfidential, "c1")
				must(t, err, "GetClient")
				if ids := scopeIDs(got.Scopes); !slices.Equal(ids, want) {
					t.Errorf("scopes after replacing them with %v: %v", want, ids)
				}
			}

			// A nil pointer column clears the value.
			up.RatePerMinute = nil
			must(t, st.Clients().Update(ctx, &up, []string{"rate_per_minute"}, nil), "UpdateClient clearing the rate")
			got, err = st.Clients().Get(ctx, "acct", store.KindConfidential, "c1")
			must(t, err, "GetClient")
			if got.RatePerMinute != nil {
				t.Errorf("rate after clearing: %v", *got.RatePerMinute)
			}
		}},
		{"UpdateIsAtomic", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			mkScope(t, st, "acct", "sc1", "read")
			mkClient(t, st, "acct", store.KindPublic, "c1", "sc1")
			other := mkClient(t, st, "acct", store.KindPublic, "c2")
			up := *other
			up.Name = "client c1"
			wantErr(t, st.Clients().Update(ctx, &up, []string{"name"}, nil), store.ErrConflict, "rename to a taken name")
			up.Name = "fresh"
			if err := st.Clients().Update(ctx, &up, []string{"name"}, &[]string{"none"}); err == nil {
				t.Error("UpdateClient with a missing scope succeeded")
			}
			got, err := st.Clients().Get(ctx, "acct", store.KindPublic, "c2")
			must(t, err, "GetClient")
			if got.Name != other.Name {
				t.Errorf("failed updates left name %q, want %q", got.Name, other.Name)
			}
		}},
		{"UpdateMissingOrOtherAccount", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkClient(t, st, "a", store.KindPublic, "c1")
			wantErr(t, st.Clients().Update(ctx, client("a", store.KindPublic, "none"), []string{"name"}, nil), store.ErrNotFound, "missing client")
			hijack := client("b", store.KindPublic, "c1")
			hijack.Name = "hijacked"
			wantErr(t, st.Clients().Update(ctx, hijack, []string{"name"}, &[]string{}), store.ErrNotFound, "a's client through b")
			got, err := st.Clients().Get(ctx, "a", store.KindPublic, "c1")
			must(t, err, "GetClient")
			if got.Name == "hijacked" {
				t.Error("b renamed a's client")
			}
		}},
		{"Delete", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkScope(t, st, "a", "sc1", "read")
			mkClient(t, st, "a", store.KindConfidential, "c1", "sc1")
			must(t, st.Secrets().Create(ctx, secret("c1", "s1"), 5), "CreateSecret")
			mkGrant(t, st, "a", "c1", "g1", "https://api.example.org", store.GrantClientCredentials)
			wantErr(t, st.Clients().Delete(ctx, "a", store.KindPublic, "c1"), store.ErrNotFound, "delete with the wrong kind")
			wantErr(t, st.Clients().Delete(ctx, "b", store.KindConfidential, "c1"), store.ErrNotFound, "delete of a's client through b")
			must(t, getErr(st.Clients().Get(ctx, "a", store.KindConfidential, "c1")), "client after refused deletes")

			must(t, st.Clients().Delete(ctx, "a", store.KindConfidential, "c1"), "DeleteClient")
			wantErr(t, getErr(st.Clients().Get(ctx, "a", store.KindConfidential, "c1")), store.ErrNotFound, "deleted client")
			wantErr(t, getErr(st.Grants().Get(ctx, "a", "g1")), store.ErrNotFound, "grant of a deleted client")
			secs, err := st.Secrets().Of(ctx, "c1")
			must(t, err, "ClientSecrets")
			if len(secs) != 0 {
				t.Errorf("secrets of a deleted client: %v", secs)
			}
			must(t, st.Scopes().Delete(ctx, "a", "sc1"), "delete of the deleted client's scope")
			wantErr(t, st.Clients().Delete(ctx, "a", store.KindConfidential, "c1"), store.ErrNotFound, "second delete")
		}},
		{"List", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkScope(t, st, "a", "sc1", "read")
			mkScope(t, st, "a", "sc2", "write")
			want := []string{"c00", "c01", "c02", "c03", "c04", "c05"}
			for _, i := range []int{5, 2, 0, 4, 1, 3} {
				mkClient(t, st, "a", store.KindServiceAccount, want[i], "sc2", "sc1")
			}
			mkClient(t, st, "a", store.KindPublic, "c02p")         // other kind
			mkClient(t, st, "b", store.KindServiceAccount, "c02b") // other account
			list := func(aid, kind string) func(store.Page) ([]store.Client, string, error) {
				return func(p store.Page) ([]store.Client, string, error) {
					rows, next, err := st.Clients().List(ctx, aid, kind, p)
					for _, c := range rows {
						// Every listed client comes with its scopes, in assignment order.
						if c.AID == "a" && c.Kind == store.KindServiceAccount && !slices.Equal(scopeIDs(c.Scopes), []string{"sc2", "sc1"}) {
							t.Errorf("listed client %s has scopes %v", c.ID, scopeIDs(c.Scopes))
						}
					}
					return rows, next, err
				}
			}
			id := func(c store.Client) string { return c.ID }
			checkPages(t, want, id, list("a", store.KindServiceAccount))
			checkPages(t, []string{"c02p"}, id, list("a", store.KindPublic))
			checkPages(t, nil, id, list("a", store.KindConfidential))
			checkPages(t, []string{"c02b"}, id, list("b", store.KindServiceAccount))
		}},
		{"AppClients", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			// App clients are listed by client_id; make that order differ from the id order.
			wantClientIDs := []string{"app-0", "app-1", "app-2", "app-3", "app-4"}
			for i, kind := range []string{store.KindPublic, store.KindConfidential, store.KindPublic, store.KindConfidential, store.KindPublic} {
				c := client("a", kind, fmt.Sprintf("id-%d", 4-i))
				c.ClientID = wantClientIDs[i]
				must(t, st.Clients().Create(ctx, c, nil), "CreateClient")
			}
			sa := mkClient(t, st, "a", store.KindServiceAccount, "sa")
			other := client("b", store.KindPublic, "other")
			other.ClientID = "app-00"
			must(t, st.Clients().Create(ctx, other, nil), "CreateClient in b")

			got, err := st.Clients().App(ctx, "a", "app-1")
			must(t, err, "GetAppClient")
			if got.ID != "id-3" || got.Kind != store.KindConfidential || got.AID != "a" {
				t.Errorf("GetAppClient(app-1) = %s %s %s", got.ID, got.Kind, got.AID)
			}
			wantErr(t, getErr(st.Clients().App(ctx, "a", sa.ClientID)), store.ErrNotFound, "a service account as an app client")
			wantErr(t, getErr(st.Clients().App(ctx, "b", "app-1")), store.ErrNotFound, "a's app client through b")
			wantErr(t, getErr(st.Clients().App(ctx, "a", "none")), store.ErrNotFound, "missing app client")

			checkPages(t, wantClientIDs, func(c store.Client) string { return c.ClientID },
				func(p store.Page) ([]store.Client, string, error) { return st.Clients().ListApps(ctx, "a", p) })
			checkPages(t, []string{"app-00"}, func(c store.Client) string { return c.ClientID },
				func(p store.Page) ([]store.Client, string, error) { return st.Clients().ListApps(ctx, "b", p) })
		}},
		{"ScopeOfAnotherAccount", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkScope(t, st, "b", "sb", "read")
			if err := st.Clients().Create(ctx, client("a", store.KindServiceAccount, "c1"), []string{"sb"}); err == nil {
				t.Error("CreateClient gave a's client a scope of b")
			}
			c2 := mkClient(t, st, "a", store.KindServiceAccount, "c2")
			if err := st.Clients().Update(ctx, c2, nil, &[]string{"sb"}); err == nil {
				t.Error("UpdateClient gave a's client a scope of b")
			}
			// Whatever a's clients hold, b can be deleted.
			must(t, st.Accounts().Delete(ctx, "b"), "DeleteAccount b")
		}},
		{"NilLists", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			c := client("acct", store.KindPublic, "c1")
			c.RedirectURIs, c.PostLogoutRedirectURIs, c.AllowedOrigins = nil, nil, nil
			must(t, st.Clients().Create(ctx, c, nil), "CreateClient with nil URI lists")
			got, err := st.Clients().Get(ctx, "acct", store.KindPublic, "c1")
			must(t, err, "GetClient")
			if len(got.RedirectURIs) != 0 || len(got.PostLogoutRedirectURIs) != 0 || len(got.AllowedOrigins) != 0 {
				t.Errorf("nil URI lists read back as %v %v %v", got.RedirectURIs, got.PostLogoutRedirectURIs, got.AllowedOrigins)
			}
		}},
		{"AllowedOrigins", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			none, err := st.Clients().AllowedOrigins(ctx, "a")
			must(t, err, "AllowedOrigins of an account without clients")
			if none == nil || len(none) != 0 {
				t.Errorf("origins without clients: %#v, want an empty list", none)
			}
			c1 := client("a", store.KindPublic, "c1")
			c1.AllowedOrigins = []string{"https://spa.example", "http://127.0.0.1:5173"}
			c2 := client("a", store.KindConfidential, "c2")
			c2.AllowedOrigins = []string{"https://spa.example", "https://admin.example"}
			cb := client("b", store.KindPublic, "cb")
			cb.AllowedOrigins = []string{"https://other.example"}
			for _, c := range []*store.Client{c1, c2, cb} {
				must(t, st.Clients().Create(ctx, c, nil), "CreateClient "+c.ID)
			}
			mkClient(t, st, "a", store.KindServiceAccount, "c3")
			// The union of the account's clients, each once, sorted; never another account's.
			got, err := st.Clients().AllowedOrigins(ctx, "a")
			must(t, err, "AllowedOrigins")
			if want := []string{"http://127.0.0.1:5173", "https://admin.example", "https://spa.example"}; !slices.Equal(got, want) {
				t.Errorf("origins of a: %v, want %v", got, want)
			}
			// An update and a deletion show at once.
			c1.AllowedOrigins = []string{}
			must(t, st.Clients().Update(ctx, c1, []string{"allowed_origins"}, nil), "UpdateClient")
			must(t, st.Clients().Delete(ctx, "a", store.KindConfidential, "c2"), "DeleteClient")
			got, err = st.Clients().AllowedOrigins(ctx, "a")
			must(t, err, "AllowedOrigins after the changes")
			if len(got) != 0 {
				t.Errorf("origins after removing them: %v", got)
			}
		}},
	})
	testSecrets(t, open)
}

func testSecrets(t *testing.T, open opener) {
	// withClient makes an account "acct" with a service account "c1" (and "c2").
	withClient := func(t *testing.T, st *store.Store) {
		mkAccount(t, st, "acct")
		mkClient(t, st, "acct", store.KindServiceAccount, "c1")
		mkClient(t, st, "acct", store.KindServiceAccount, "c2")
	}
	runAll(t, open, []test{
		{"SecretCreateAndList", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withClient(t, st)
			exp := when(30)
			s1, s2 := secret("c1", "s1"), secret("c1", "s2")
			s2.ExpiresAt = &exp
			must(t, st.Secrets().Create(ctx, s1, 5), "CreateSecret s1")
			must(t, st.Secrets().Create(ctx, s2, 5), "CreateSecret s2")
			all, err := st.Secrets().Of(ctx, "c1")
			must(t, err, "ClientSecrets")
			page, next, err := st.Secrets().List(ctx, "c1", store.Page{Limit: 10})
			must(t, err, "ListSecrets")
			if next != "" {
				t.Errorf("ListSecrets of two with limit 10 returned cursor %q", next)
			}
			for name, got := range map[string][]store.Secret{"ClientSecrets": all, "ListSecrets": page} {
				if len(got) != 2 {
					t.Fatalf("%s: %d secrets, want 2", name, len(got))
				}
				for i, want := range []*store.Secret{s1, s2} {
					g := got[i]
					if g.ID != want.ID || g.ClientPK != want.ClientPK || !bytes.Equal(g.Hash, want.Hash) ||
						g.Hint != want.Hint || g.Description != want.Description || !g.CreatedAt.Equal(want.CreatedAt) {
						t.Errorf("%s: secret read back as %+v, want %+v", name, g, want)
					}
					if g.LastUsedAt != nil {
						t.Errorf("%s: new secret %s has LastUsedAt %v", name, g.ID, *g.LastUsedAt)
					}
				}
				if got[0].ExpiresAt != nil || got[1].ExpiresAt == nil || !got[1].ExpiresAt.Equal(exp) {
					t.Errorf("%s: expiries read back as %v %v, want nil %v", name, got[0].ExpiresAt, got[1].ExpiresAt, exp)
				}
			}
		}},
		{"SecretLimit", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withClient(t, st)
			for i := range 3 {
				must(t, st.Secrets().Create(ctx, secret("c1", fmt.Sprint("s", i)), 3), "CreateSecret below the limit")
			}
			wantErr(t, st.Secrets().Create(ctx, secret("c1", "s3"), 3), store.ErrLimit, "CreateSecret at the limit")
			// The limit is per client.
			must(t, st.Secrets().Create(ctx, secret("c2", "t0"), 3), "CreateSecret for another client")
			// Deleting a secret makes room for one.
			must(t, st.Secrets().Delete(ctx, "c1", "s0"), "DeleteSecret")
			must(t, st.Secrets().Create(ctx, secret("c1", "s4"), 3), "CreateSecret after a delete")
			wantErr(t, st.Secrets().Create(ctx, secret("c1", "s5"), 3), store.ErrLimit, "CreateSecret at the limit again")
			secs, err := st.Secrets().Of(ctx, "c1")
			must(t, err, "ClientSecrets")
			if len(secs) != 3 {
				t.Errorf("c1 has %d secrets, want 3", len(secs))
			}
		}},
		{"SecretLimitConcurrent", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withClient(t, st)
			const n, limit = 12, 3
			errs := Race(n, func(i int) error { return st.Secrets().Create(ctx, secret("c1", fmt.Sprint("s", i)), limit) })
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrLimit):
					t.Errorf("concurrent CreateSecret: %v", err)
				}
			}
			secs, err := st.Secrets().Of(ctx, "c1")
			must(t, err, "ClientSecrets")
			if ok != limit || len(secs) != limit {
				t.Errorf("%d concurrent creates with max %d: %d succeeded, %d stored", n, limit, ok, len(secs))
			}
		}},
		{"SecretConflicts", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withClient(t, st)
			must(t, st.Secrets().Create(ctx, secret("c1", "s1"), 5), "CreateSecret")
			sameHash := secret("c2", "s2")
			sameHash.Hash = secret("c1", "s1").Hash
			wantErr(t, st.Secrets().Create(ctx, sameHash, 5), store.ErrConflict, "a secret with a taken hash")
			wantErr(t, st.Secrets().Create(ctx, secret("c2", "s1"), 5), store.ErrConflict, "a secret with a taken id")
		}},
		{"SecretPages", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withClient(t, st)
			want := []string{"s0", "s1", "s2", "s3", "s4", "s5", "s6"}
			for _, i := range []int{6, 3, 0, 5, 1, 4, 2} {
				must(t, st.Secrets().Create(ctx, secret("c1", want[i]), 10), "CreateSecret")
			}
			must(t, st.Secrets().Create(ctx, secret("c2", "s3x"), 10), "CreateSecret c2")
			id := func(s store.Secret) string { return s.ID }
			checkPages(t, want, id, func(p store.Page) ([]store.Secret, string, error) { return st.Secrets().List(ctx, "c1", p) })
			checkPages(t, []string{"s3x"}, id, func(p store.Page) ([]store.Secret, string, error) { return st.Secrets().List(ctx, "c2", p) })
			all, err := st.Secrets().Of(ctx, "c1")
			must(t, err, "ClientSecrets")
			ids := make([]string, len(all))
			for i, s := range all {
				ids[i] = s.ID
			}
			if !slices.Equal(ids, want) {
				t.Errorf("ClientSecrets = %v, want %v", ids, want)
			}
		}},
		{"SecretDelete", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withClient(t, st)
			must(t, st.Secrets().Create(ctx, secret("c1", "s1"), 5), "CreateSecret")
			wantErr(t, st.Secrets().Delete(ctx, "c2", "s1"), store.ErrNotFound, "delete of c1's secret through c2")
			wantErr(t, st.Secrets().Delete(ctx, "c1", "none"), store.ErrNotFound, "delete of a missing secret")
			must(t, st.Secrets().Delete(ctx, "c1", "s1"), "DeleteSecret")
			wantErr(t, st.Secrets().Delete(ctx, "c1", "s1"), store.ErrNotFound, "second delete")
			secs, err := st.Secrets().Of(ctx, "c1")
			must(t, err, "ClientSecrets")
			if len(secs) != 0 {
				t.Errorf("secrets after delete: %v", secs)
			}
		}},
		{"TouchSecrets", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withClient(t, st)
			must(t, st.Secrets().Create(ctx, secret("c1", "s1"), 5), "CreateSecret s1")
			must(t, st.Secrets().Create(ctx, secret("c1", "s2"), 5), "CreateSecret s2")
			t1 := clock.Add(10 * time.Minute)
			must(t, st.Secrets().Touch(ctx, nil), "TouchSecrets of nothing")
			// Unknown (deleted) secrets are skipped.
			must(t, st.Secrets().Touch(ctx, map[string]time.Time{"s1": t1, "gone": t1}), "TouchSecrets")
			// Use is only ever recorded forward: a late batch with an older time is ignored.
			must(t, st.Secrets().Touch(ctx, map[string]time.Time{"s1": t1.Add(-time.Minute)}), "TouchSecrets older")
			lastUsed(t, st, "c1", map[string]*time.Time{"s1": &t1, "s2": nil})
			t2 := t1.Add(time.Second)
			must(t, st.Secrets().Touch(ctx, map[string]time.Time{"s1": t2, "s2": t2}), "TouchSecrets newer")
			lastUsed(t, st, "c1", map[string]*time.Time{"s1": &t2, "s2": &t2})
		}},
		{"TouchSecretsAcrossZones", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withClient(t, st)
			must(t, st.Secrets().Create(ctx, secret("c1", "s1"), 5), "CreateSecret")
			first := clock.In(zone)
			later := clock.Add(time.Hour) // an hour later, written in UTC
			must(t, st.Secrets().Touch(ctx, map[string]time.Time{"s1": first}), "TouchSecrets")
			must(t, st.Secrets().Touch(ctx, map[string]time.Time{"s1": later}), "TouchSecrets later")
			lastUsed(t, st, "c1", map[string]*time.Time{"s1": &later})
		}},
	})
}

// lastUsed checks the LastUsedAt of a client's secrets (nil: never used).
func lastUsed(t *testing.T, st *store.Store, clientPK string, want map[string]*time.Time) {
	t.Helper()
	secs, err := st.Secrets().Of(t.Context(), clientPK)
	must(t, err, "ClientSecrets")
	for _, s := range secs {
		w, ok := want[s.ID]
		switch {
		case !ok:
		case w == nil && s.LastUsedAt != nil:
			t.Errorf("secret %s: LastUsedAt %v, want none", s.ID, *s.LastUsedAt)
		case w != nil && (s.LastUsedAt == nil || !s.LastUsedAt.Equal(*w)):
			t.Errorf("secret %s: LastUsedAt %v, want %v", s.ID, s.LastUsedAt, *w)
		}
	}
}

// checkClient compares a client read back with the one written.
func checkClient(t *testing.T, what string, got, want *store.Client, wantScopes []string) {
	t.Helper()
	if got.ID != want.ID || got.AID != want.AID || got.ClientID != want.ClientID || got.Kind != want.Kind ||
		got.Name != want.Name || got.Description != want.Description || got.MFA != want.MFA {
		t.Errorf("%s: client read back as %+v, want %+v", what, got, want)
	}
	if !slices.Equal(got.RedirectURIs, want.RedirectURIs) || !slices.Equal(got.PostLogoutRedirectURIs, want.PostLogoutRedirectURIs) ||
		!slices.Equal(got.AllowedOrigins, want.AllowedOrigins) {
		t.Errorf("%s: URIs read back as %v %v %v, want %v %v %v", what, got.RedirectURIs, got.PostLogoutRedirectURIs,
			got.AllowedOrigins, want.RedirectURIs, want.PostLogoutRedirectURIs, want.AllowedOrigins)
	}
	if !eqIntPtr(got.RatePerMinute, want.RatePerMinute) || !eqIntPtr(got.RateBurst, want.RateBurst) {
		t.Errorf("%s: rate limits read back as %v %v", what, got.RatePerMinute, got.RateBurst)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s: times read back as %v %v, want %v %v", what, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	if ids := scopeIDs(got.Scopes); !slices.Equal(ids, wantScopes) {
		t.Errorf("%s: scopes %v, want %v", what, ids, wantScopes)
	}
}

func eqIntPtr(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func scopeIDs(scopes []store.Scope) []string {
	ids := []string{}
	for _, sc := range scopes {
		ids = append(ids, sc.ID)
	}
	return ids
}

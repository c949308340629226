package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

func testGrants(t *testing.T, open opener) {
	// withApps makes accounts "a" and "b", app clients "app1" and "app2" in a and "app3" in b.
	withApps := func(t *testing.T, st *store.Store) {
		mkAccount(t, st, "a")
		mkAccount(t, st, "b")
		mkClient(t, st, "a", store.KindConfidential, "app1")
		mkClient(t, st, "a", store.KindPublic, "app2")
		mkClient(t, st, "b", store.KindConfidential, "app3")
	}
	runAll(t, open, []test{
		{"CreateAndGet", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withApps(t, st)
			g := grant("a", "app1", "g1", "https://api.example.org", store.GrantAuthorizationCode)
			g.Scopes = []string{"openid", "orders:read"}
			g.OIDCAuthority, g.OIDCClientID, g.OIDCClientSecret = "https://idp.example.org", "upstream", []byte{0, 1, 2, 255}
			must(t, st.Grants().Create(ctx, g), "CreateGrant")
			got, err := st.Grants().Get(ctx, "a", "g1")
			must(t, err, "GetGrant")
			checkGrant(t, got, g)
			// The client's OAuth client_id comes with the grant.
			if got.ClientID != "cid-app1" {
				t.Errorf("grant's ClientID = %q, want cid-app1", got.ClientID)
			}
		}},
		{"Conflicts", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withApps(t, st)
			mkGrant(t, st, "a", "app1", "g1", "https://api.example.org", store.GrantPassword)
			wantErr(t, st.Grants().Create(ctx, grant("a", "app1", "g2", "https://api.example.org", store.GrantPassword)),
				store.ErrConflict, "second grant of a client for the same audience and type")
			wantErr(t, st.Grants().Create(ctx, grant("a", "app2", "g1", "https://other.example.org", store.GrantPassword)),
				store.ErrConflict, "grant with a taken id")
			for _, g := range []*store.Grant{
				grant("a", "app1", "g3", "https://api.example.org", store.GrantClientCredentials),
				grant("a", "app1", "g4", "https://other.example.org", store.GrantPassword),
				grant("a", "app2", "g5", "https://api.example.org", store.GrantPassword),
			} {
				must(t, st.Grants().Create(ctx, g), "grant differing in type, audience or client")
			}
		}},
		{"GetMissingOrOtherAccount", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withApps(t, st)
			mkGrant(t, st, "a", "app1", "g1", "https://api.example.org", store.GrantPassword)
			wantErr(t, getErr(st.Grants().Get(ctx, "a", "none")), store.ErrNotFound, "missing grant")
			wantErr(t, getErr(st.Grants().Get(ctx, "b", "g1")), store.ErrNotFound, "a's grant through b")
		}},
		{"List", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withApps(t, st)
			// Grant ids interleave across the two clients so that the filtered walk skips rows.
			type row struct{ id, client, aud string }
			rows := []row{
				{"g0", "app1", "a0"}, {"g1", "app2", "a1"}, {"g2", "app1", "a2"}, {"g3", "app1", "a3"},
				{"g4", "app2", "a4"}, {"g5", "app1", "a5"}, {"g6", "app2", "a6"},
			}
			for _, i := range []int{3, 6, 0, 4, 1, 5, 2} {
				r := rows[i]
				mkGrant(t, st, "a", r.client, r.id, r.aud, store.GrantPassword)
			}
			mkGrant(t, st, "b", "app3", "g2b", "a0", store.GrantPassword)
			list := func(aid, clientID string) func(store.Page) ([]store.Grant, string, error) {
				return func(p store.Page) ([]store.Grant, string, error) { return st.Grants().List(ctx, aid, clientID, p) }
			}
			id := func(g store.Grant) string { return g.ID }
			checkPages(t, []string{"g0", "g1", "g2", "g3", "g4", "g5", "g6"}, id, list("a", ""))
			checkPages(t, []string{"g0", "g2", "g3", "g5"}, id, list("a", "cid-app1"))
			checkPages(t, []string{"g1", "g4", "g6"}, id, list("a", "cid-app2"))
			checkPages(t, nil, id, list("a", "cid-app3")) // b's client
			checkPages(t, []string{"g2b"}, id, list("b", ""))

			all, err := st.Grants().Of(ctx, "app2")
			must(t, err, "ClientGrants")
			var ids []string
			for _, g := range all {
				ids = append(ids, g.ID)
				if g.ClientID != "cid-app2" {
					t.Errorf("ClientGrants: grant %s has ClientID %q", g.ID, g.ClientID)
				}
			}
			if !slices.Equal(ids, []string{"g1", "g4", "g6"}) {
				t.Errorf("ClientGrants(app2) = %v, want [g1 g4 g6]", ids)
			}
		}},
		{"Update", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withApps(t, st)
			orig := mkGrant(t, st, "a", "app1", "g1", "https://api.example.org", store.GrantPassword)
			mkGrant(t, st, "a", "app1", "g2", "https://other.example.org", store.GrantPassword)
			up := *orig
			up.Scopes = []string{"write", "read"}
			up.OIDCAuthority = "not written"
			before := time.Now()
			must(t, st.Grants().Update(ctx, &up, []string{"scopes"}), "UpdateGrant")
			after := time.Now()
			got, err := st.Grants().Get(ctx, "a", "g1")
			must(t, err, "GetGrant")
			if !slices.Equal(got.Scopes, up.Scopes) || got.OIDCAuthority != "" {
				t.Errorf("after update: scopes %v, authority %q", got.Scopes, got.OIDCAuthority)
			}
			if !got.CreatedAt.Equal(orig.CreatedAt) {
				t.Errorf("CreatedAt changed by an update: %v, want %v", got.CreatedAt, orig.CreatedAt)
			}
			stampedDuring(t, "UpdatedAt after update", got.UpdatedAt, before, after)
			up.Audience = "https://other.example.org"
			wantErr(t, st.Grants().Update(ctx, &up, []string{"audience"}), store.ErrConflict, "update onto another grant's audience")
			wantErr(t, st.Grants().Update(ctx, grant("a", "app1", "none", "x", store.GrantPassword), []string{"scopes"}),
				store.ErrNotFound, "update of a missing grant")
			hijack := *orig
			hijack.AID, hijack.Scopes = "b", []string{"hijacked"}
			wantErr(t, st.Grants().Update(ctx, &hijack, []string{"scopes"}), store.ErrNotFound, "update of a's grant through b")
			got, err = st.Grants().Get(ctx, "a", "g1")
			must(t, err, "GetGrant")
			if got.Audience != orig.Audience || !slices.Equal(got.Scopes, []string{"write", "read"}) {
				t.Errorf("refused updates changed the grant: %+v", got)
			}
		}},
		{"Delete", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withApps(t, st)
			mkGrant(t, st, "a", "app1", "g1", "https://api.example.org", store.GrantPassword)
			wantErr(t, st.Grants().Delete(ctx, "b", "g1"), store.ErrNotFound, "delete of a's grant through b")
			must(t, getErr(st.Grants().Get(ctx, "a", "g1")), "grant after a refused delete")
			must(t, st.Grants().Delete(ctx, "a", "g1"), "DeleteGrant")
			wantErr(t, getErr(st.Grants().Get(ctx, "a", "g1")), store.ErrNotFound, "deleted grant")
			wantErr(t, st.Grants().Delete(ctx, "a", "g1"), store.ErrNotFound, "second delete")
			// The (client, audience, type) slot is free again.
			must(t, st.Grants().Create(ctx, grant("a", "app1", "g2", "https://api.example.org", store.GrantPassword)), "recreate")
		}},
	})
}

func checkGrant(t *testing.T, got, want *store.Grant) {
	t.Helper()
	if got.ID != want.ID || got.AID != want.AID || got.ClientPK != want.ClientPK || got.Audience != want.Audience ||
		got.GrantType != want.GrantType || !slices.Equal(got.Scopes, want.Scopes) || got.OIDCAuthority != want.OIDCAuthority ||
		got.OIDCClientID != want.OIDCClientID || !bytes.Equal(got.OIDCClientSecret, want.OIDCClientSecret) {
		t.Errorf("grant read back as %+v, want %+v", got, want)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("grant times read back as %v %v, want %v %v", got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

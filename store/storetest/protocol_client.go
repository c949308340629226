package storetest

import (
	"bytes"
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

func testProtocolClients(t *testing.T, open opener) {
	runAll(t, open, []test{
		{"ServiceAccount", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkScope(t, st, "a", "sc1", "read")
			sc2 := scope("a", "sc2", "write")
			sc2.Audience = "https://other.example.org"
			must(t, st.Scopes().Create(ctx, sc2), "CreateScope sc2")
			mkScope(t, st, "a", "sc3", "admin")
			rate, burst := 120, 0
			c := client("a", store.KindServiceAccount, "c1")
			c.RatePerMinute, c.RateBurst = &rate, &burst
			must(t, st.Clients().Create(ctx, c, []string{"sc3", "sc2", "sc1"}), "CreateClient")
			exp := when(40)
			s1, s2 := secret("c1", "s1"), secret("c1", "s2")
			s2.ExpiresAt = &exp
			for _, s := range []*store.Secret{s1, s2} {
				must(t, st.Secrets().Create(ctx, s, 10), "CreateSecret "+s.ID)
			}
			// Another client's secrets and scopes stay out.
			mkClient(t, st, "a", store.KindServiceAccount, "c2", "sc1")
			must(t, st.Secrets().Create(ctx, secret("c2", "s3"), 10), "CreateSecret s3")

			before := st.Queries()
			got, err := st.Clients().ForProtocol(ctx, "a", c.ClientID)
			must(t, err, "ForProtocol")
			if n := st.Queries() - before; n != 2 {
				t.Errorf("ForProtocol ran %d statements, want 2", n)
			}
			if got.ID != "c1" || got.AID != "a" || got.ClientID != c.ClientID || got.Kind != store.KindServiceAccount || got.MFA != "" ||
				!eqIntPtr(got.RatePerMinute, &rate) || !eqIntPtr(got.RateBurst, &burst) {
				t.Errorf("client read back as %+v", got)
			}
			// Scopes in the order they were assigned, each with its audience.
			var scopes []string
			for _, sc := range got.Scopes {
				scopes = append(scopes, sc.ID+" "+sc.AID+" "+sc.Audience+" "+sc.Scope)
			}
			want := []string{"sc3 a https://api.example.org admin", "sc2 a https://other.example.org write",
				"sc1 a https://api.example.org read"}
			if !slices.Equal(scopes, want) {
				t.Errorf("scopes %q, want %q", scopes, want)
			}
			checkSecretHashes(t, got.Secrets, s1, s2)
			if len(got.Grants) != 0 {
				t.Errorf("a service account came with grants %+v", got.Grants)
			}
		}},
		{"ApplicationClient", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			c := client("a", store.KindConfidential, "app")
			c.RedirectURIs = []string{"https://app.example.org/cb", "http://127.0.0.1:8080/cb"}
			c.PostLogoutRedirectURIs = []string{"https://app.example.org/bye"}
			c.MFA = "required"
			must(t, st.Clients().Create(ctx, c, nil), "CreateClient")
			g2 := grant("a", "app", "g2", "https://api.example.org", store.GrantAuthorizationCode)
			g2.Scopes = []string{"openid", "orders:read"}
			g2.OIDCAuthority, g2.OIDCClientID, g2.OIDCClientSecret = "https://idp.example.org", "upstream", []byte{0, 1, 255}
			g1 := grant("a", "app", "g1", "https://api.example.org", store.GrantClientCredentials)
			g1.Scopes = []string{}
			for _, g := range []*store.Grant{g2, g1} {
				must(t, st.Grants().Create(ctx, g), "CreateGrant "+g.ID)
			}

			got, err := st.Clients().ForProtocol(ctx, "a", c.ClientID)
			must(t, err, "ForProtocol")
			if got.ID != "app" || got.Kind != store.KindConfidential || got.MFA != "required" || got.RatePerMinute != nil || got.RateBurst != nil ||
				!slices.Equal(got.RedirectURIs, c.RedirectURIs) || !slices.Equal(got.PostLogoutRedirectURIs, c.PostLogoutRedirectURIs) {
				t.Errorf("client read back as %+v", got)
			}
			// No secret is no secret, not one of NULLs.
			if len(got.Secrets) != 0 || len(got.Scopes) != 0 {
				t.Errorf("secrets %+v and scopes %+v of a client that has none", got.Secrets, got.Scopes)
			}
			if len(got.Grants) != 2 {
				t.Fatalf("grants %+v, want g1 and g2", got.Grants)
			}
			for i, want := range []*store.Grant{g1, g2} {
				g := got.Grants[i]
				if g.ID != want.ID || g.AID != "a" || g.ClientPK != "app" || g.ClientID != c.ClientID ||
					g.Audience != want.Audience || g.GrantType != want.GrantType || !slices.Equal(g.Scopes, want.Scopes) ||
					g.Scopes == nil || g.OIDCAuthority != want.OIDCAuthority || g.OIDCClientID != want.OIDCClientID ||
					!bytes.Equal(g.OIDCClientSecret, want.OIDCClientSecret) {
					t.Errorf("grant %d read back as %+v, want %+v", i, g, want)
				}
			}
			// A secret comes with the client.
			s1 := secret("app", "s1")
			must(t, st.Secrets().Create(ctx, s1, 10), "CreateSecret")
			got, err = st.Clients().ForProtocol(ctx, "a", c.ClientID)
			must(t, err, "ForProtocol with a secret")
			checkSecretHashes(t, got.Secrets, s1)
		}},
		{"UnknownOrOtherAccount", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			c := mkClient(t, st, "a", store.KindServiceAccount, "c1")
			before := st.Queries()
			wantErr(t, getErr(st.Clients().ForProtocol(ctx, "a", "none")), store.ErrNotFound, "unknown client_id")
			if n := st.Queries() - before; n != 1 {
				t.Errorf("an unknown client took %d statements, want 1", n)
			}
			wantErr(t, getErr(st.Clients().ForProtocol(ctx, "b", c.ClientID)), store.ErrNotFound, "client_id of another account")
			wantErr(t, getErr(st.Clients().ForProtocol(ctx, "a", c.ID)), store.ErrNotFound, "internal id as client_id")
		}},
		{"InTransaction", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkScope(t, st, "a", "sc1", "read")
			c := mkClient(t, st, "a", store.KindServiceAccount, "c1", "sc1")
			s1 := secret("c1", "s1")
			must(t, st.Secrets().Create(ctx, s1, 10), "CreateSecret")
			// Outside first, so the pool's prepared statement exists; the transaction's
			// connection must still see its own uncommitted writes.
			must(t, getErr(st.Clients().ForProtocol(ctx, "a", c.ClientID)), "ForProtocol")
			s2 := secret("c1", "s2")
			err := st.InTx(ctx, func(tx *store.Store) error {
				must(t, tx.Secrets().Create(ctx, s2, 10), "CreateSecret in the transaction")
				got, err := tx.Clients().ForProtocol(ctx, "a", c.ClientID)
				must(t, err, "ForProtocol in the transaction")
				checkSecretHashes(t, got.Secrets, s1, s2)
				if len(got.Scopes) != 1 || got.Scopes[0].ID != "sc1" {
					t.Errorf("scopes in the transaction %+v, want sc1", got.Scopes)
				}
				return nil
			})
			must(t, err, "InTx")
		}},
	})
}

// checkSecretHashes compares the secrets ForProtocol read, in any order, with want.
func checkSecretHashes(t *testing.T, got []store.ClientSecretHash, want ...*store.Secret) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("secrets %+v, want %d", got, len(want))
	}
	got = slices.Clone(got)
	slices.SortFunc(got, func(a, b store.ClientSecretHash) int { return cmp.Compare(a.ID, b.ID) })
	for i, w := range want {
		g := got[i]
		if g.ID != w.ID || !bytes.Equal(g.Hash, w.Hash) || (g.ExpiresAt == nil) != (w.ExpiresAt == nil) {
			t.Errorf("secret %d read back as %+v, want %+v", i, g, w)
			continue
		}
		if w.ExpiresAt != nil && (!g.ExpiresAt.Equal(*w.ExpiresAt) || g.ExpiresAt.Location() != time.UTC) {
			t.Errorf("secret %s expires %v, want %v in UTC", w.ID, g.ExpiresAt, w.ExpiresAt)
		}
	}
}

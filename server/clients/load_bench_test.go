package clients_test

import (
	"context"
	"testing"
	"time"

	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/metrics"
	"github.com/twinid/twinid/store"
)

// BenchmarkLoad measures one cache load of a client from an SQLite store (what every
// client costs once per cache TTL): a service account with two scopes and a secret, and an
// application client with two grants and a secret. sql/op is the statements one load runs.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(st.Accounts().Create(ctx, &store.Account{AID: "acct", Name: "acct", CreatedAt: now, UpdatedAt: now}, nil))
	for _, id := range []string{"s1", "s2"} {
		must(st.Scopes().Create(ctx, &store.Scope{ID: id, AID: "acct", ServiceName: "svc", Audience: "api://x", Scope: id, CreatedAt: now}))
	}
	mk := func(id, kind string, scopes []string) {
		must(st.Clients().Create(ctx, &store.Client{ID: id, AID: "acct", ClientID: "cid-" + id, Kind: kind, Name: id,
			CreatedAt: now, UpdatedAt: now}, scopes))
		must(st.Secrets().Create(ctx, &store.Secret{ID: "sec-" + id, ClientPK: id, Hash: []byte("hash-of-" + id), CreatedAt: now}, 10))
	}
	mk("sa", store.KindServiceAccount, []string{"s1", "s2"})
	mk("app", store.KindConfidential, nil)
	for i, typ := range []string{store.GrantClientCredentials, store.GrantPassword} {
		must(st.Grants().Create(ctx, &store.Grant{ID: "g" + typ, AID: "acct", ClientPK: "app", Audience: "api://x",
			GrantType: typ, Scopes: []string{"s1", "s2"}[:i+1], CreatedAt: now, UpdatedAt: now}))
	}
	kr, err := keys.NewKeyring(make([]byte, 32))
	must(err)
	cs := clients.New(st, kr, metrics.New(st.Queries), time.Minute, time.Now)
	for _, id := range []string{"sa", "app"} {
		b.Run(id, func(b *testing.B) {
			b.ReportAllocs()
			q0 := st.Queries()
			for b.Loop() {
				cs.Forget("acct", "cid-"+id)
				c, err := cs.Get(ctx, "acct", "cid-"+id)
				if err != nil || c == nil {
					b.Fatal(c, err)
				}
			}
			b.ReportMetric(float64(st.Queries()-q0)/float64(b.N), "sql/op")
		})
	}
}

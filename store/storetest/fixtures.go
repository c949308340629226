package storetest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

// opener returns a fresh, migrated, empty store, closed when t ends.
type opener = func(t *testing.T) *store.Store

// test is one independent subtest: it gets a store of its own.
type test struct {
	name string
	run  func(t *testing.T, st *store.Store)
}

// runAll runs each test as a parallel subtest on a fresh store. Opening after t.Parallel
// keeps the number of open stores (and Postgres connections) at the parallelism limit.
func runAll(t *testing.T, open opener, tests []test) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, open(t))
		})
	}
}

// zone is east of UTC with a half-hour offset, so that a store keeping local wall clocks or
// dropping the offset shows.
var zone = time.FixedZone("UTC+05:30", 5*3600+30*60)

// when is the i-th hour after an arbitrary instant, in zone, at microsecond precision (what
// Postgres keeps; SQLite keeps more).
func when(i int) time.Time {
	return time.Date(2026, 3, 14, 15, 9, 26, 535897000, zone).Add(time.Duration(i) * time.Hour)
}

// clock is "now" for the millisecond columns (tokens, codes, sessions, throttle).
var clock = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func ms(t time.Time) int64 { return t.UnixMilli() }

// stampedDuring checks that a time the store took from its own clock (an update's
// updated_at) lies between before and after, at the microsecond Postgres keeps.
func stampedDuring(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.Before(before.Truncate(time.Microsecond)) || got.After(after) {
		t.Errorf("%s: %v, want a time between %v and %v", what, got, before, after)
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// getErr drops the value of a getter, to check its error.
func getErr[T any](_ T, err error) error { return err }

// rows counts the rows of a table that match a condition, for what no method reads back
// (idle login counters, dead sessions).
func rows(t *testing.T, st *store.Store, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	must(t, st.DB().WithContext(t.Context()).Table(table).Where(where, args...).Count(&n).Error, "count "+table)
	return n
}

// Race runs f in n goroutines released at once and returns their results by index; the
// race tests of the store and of the server use it.
func Race[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return out
}

// checkPages walks list page by page with several page sizes and checks that every walk
// yields exactly want, in order: no duplicates, no gaps, full pages while a cursor is
// returned, and an empty cursor on the last page (never an empty page after it).
func checkPages[T any](t *testing.T, want []string, id func(T) string, list func(store.Page) ([]T, string, error)) {
	t.Helper()
	limits := []int{1, 2, 3, len(want) - 1, len(want), len(want) + 1, 100}
	slices.Sort(limits)
	for _, limit := range slices.Compact(limits) {
		if limit < 1 {
			continue
		}
		var got []string
		after, pages := "", 0
		for {
			pages++
			if pages > len(want)+1 {
				t.Fatalf("limit %d: more pages than rows (cursor %q never ends)", limit, after)
			}
			rows, next, err := list(store.Page{Limit: limit, After: after})
			if err != nil {
				t.Fatalf("limit %d, after %q: %v", limit, after, err)
			}
			if len(rows) > limit {
				t.Errorf("limit %d: page of %d rows", limit, len(rows))
			}
			for _, r := range rows {
				got = append(got, id(r))
			}
			if next == "" {
				break
			}
			if len(rows) != limit {
				t.Errorf("limit %d: page of %d rows with a next cursor", limit, len(rows))
			}
			after = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("limit %d: walked %v, want %v", limit, got, want)
		}
		if wantPages := max(1, (len(want)+limit-1)/limit); pages != wantPages {
			t.Errorf("limit %d: %d pages for %d rows, want %d", limit, pages, len(want), wantPages)
		}
	}
}

// Fixtures. Each builds a valid row from a few ids; the mk* variants also insert it.

func account(aid string) *store.Account {
	return &store.Account{AID: aid, Name: "Account " + aid, CreatedAt: when(0), UpdatedAt: when(1)}
}

func mkAccount(t *testing.T, st *store.Store, aid string) *store.Account {
	t.Helper()
	a := account(aid)
	must(t, st.Accounts().Create(t.Context(), a, nil), "CreateAccount "+aid)
	return a
}

func scope(aid, id, name string) *store.Scope {
	return &store.Scope{ID: id, AID: aid, ServiceName: "svc", Audience: "https://api.example.org",
		Scope: name, Description: "scope " + name, CreatedAt: when(2)}
}

func mkScope(t *testing.T, st *store.Store, aid, id, name string) *store.Scope {
	t.Helper()
	sc := scope(aid, id, name)
	must(t, st.Scopes().Create(t.Context(), sc), "CreateScope "+id)
	return sc
}

func client(aid, kind, id string) *store.Client {
	return &store.Client{ID: id, AID: aid, ClientID: "cid-" + id, Kind: kind, Name: "client " + id,
		RedirectURIs: []string{}, PostLogoutRedirectURIs: []string{}, CreatedAt: when(3), UpdatedAt: when(4)}
}

func mkClient(t *testing.T, st *store.Store, aid, kind, id string, scopeIDs ...string) *store.Client {
	t.Helper()
	c := client(aid, kind, id)
	must(t, st.Clients().Create(t.Context(), c, scopeIDs), "CreateClient "+id)
	return c
}

func secret(clientPK, id string) *store.Secret {
	return &store.Secret{ID: id, ClientPK: clientPK, Hash: []byte("secret:" + clientPK + ":" + id),
		Hint: "ab…" + id, Description: "secret " + id, CreatedAt: when(5)}
}

func grant(aid, clientPK, id, audience, grantType string) *store.Grant {
	return &store.Grant{ID: id, AID: aid, ClientPK: clientPK, Audience: audience, GrantType: grantType,
		Scopes: []string{"read"}, CreatedAt: when(6), UpdatedAt: when(7)}
}

func mkGrant(t *testing.T, st *store.Store, aid, clientPK, id, audience, grantType string) *store.Grant {
	t.Helper()
	g := grant(aid, clientPK, id, audience, grantType)
	must(t, st.Grants().Create(t.Context(), g), "CreateGrant "+id)
	return g
}

// customer builds a customer; the email is stored as given and as its normalised key, which
// the caller computes (the store compares keys, it does not fold case itself).
func customer(aid, id, email, phone string) *store.Customer {
	c := &store.Customer{ID: id, AID: aid, Type: "customer", Name: "Customer " + id, Status: store.CustomerActive,
		Scopes: []string{}, Metadata: map[string]any{}, CreatedAt: when(8), UpdatedAt: when(9)}
	if email != "" {
		norm := strings.ToLower(email)
		c.Email, c.EmailNorm = &email, &norm
	}
	if phone != "" {
		c.PhoneNumber = &phone
	}
	return c
}

func mkCustomer(t *testing.T, st *store.Store, aid, id, email, phone string) *store.Customer {
	t.Helper()
	c := customer(aid, id, email, phone)
	must(t, st.Customers().Create(t.Context(), c, nil), "CreateCustomer "+id)
	return c
}

func signingKey(aid, kid string, activates time.Time) *store.SigningKey {
	return &store.SigningKey{KID: kid, AID: aid, Alg: "ES256", PrivateKey: []byte("sealed:" + kid),
		PublicJWK: `{"kid":"` + kid + `"}`, CreatedAt: activates.Add(-time.Minute), ActivatesAt: activates}
}

// refreshToken builds the first token of a family, live for an hour after clock.
func refreshToken(aid, customerID, id string) *store.RefreshToken {
	return &store.RefreshToken{ID: id, AID: aid, FamilyID: "fam-" + id, Hash: []byte("rt:" + id),
		ClientID: "app", CustomerID: customerID, Audience: "https://api.example.org", Scopes: "openid read", AMR: "pwd otp mfa",
		CreatedMS: ms(clock), IdleUntilMS: ms(clock.Add(time.Hour)), UntilMS: ms(clock.Add(24 * time.Hour))}
}

func mkRefreshToken(t *testing.T, st *store.Store, aid, customerID, id string) *store.RefreshToken {
	t.Helper()
	rt := refreshToken(aid, customerID, id)
	must(t, st.Tokens().CreateRefresh(t.Context(), rt), "CreateRefreshToken "+id)
	return rt
}

// code builds a reset code of a customer, live for an hour after clock.
func code(aid, customerID, id string) *store.VerificationCode {
	return &store.VerificationCode{ID: id, AID: aid, CustomerID: customerID, Purpose: store.PurposeReset,
		CodeHash: []byte("code:" + id), CreatedMS: ms(clock), ExpiresMS: ms(clock.Add(time.Hour))}
}

func session(aid, customerID, id string) *store.Session {
	return &store.Session{ID: id, AID: aid, Hash: []byte("session:" + id), CustomerID: customerID,
		AuthTimeMS: ms(clock), IdleUntilMS: ms(clock.Add(time.Hour)), UntilMS: ms(clock.Add(8 * time.Hour)), AMR: "pwd otp mfa"}
}

func authCode(aid, customerID, id string) *store.AuthCode {
	return &store.AuthCode{ID: id, AID: aid, Hash: []byte("authcode:" + id), ClientID: "app",
		RedirectURI: "https://app.example.org/cb", CustomerID: customerID, SessionID: "se-" + id,
		Scopes: "openid profile", Audience: "https://api.example.org", Nonce: "n-" + id, CodeChallenge: "cc-" + id,
		AuthTimeMS: ms(clock), ExpiresMS: ms(clock.Add(time.Minute)), AMR: "pwd otp mfa"}
}

// identity links subject of https://idp.example.org to a customer.
func identity(aid, subject, customerID string) *store.ExternalIdentity {
	return &store.ExternalIdentity{AID: aid, Authority: "https://idp.example.org", Subject: subject,
		CustomerID: customerID, CreatedAt: when(11)}
}

package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

func testCustomers(t *testing.T, open opener) {
	runAll(t, open, []test{
		{"CreateAndGet", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			c := customer("acct", "cu1", "Ann.Example@Example.ORG", "+15551234567")
			c.Type, c.Status, c.EmailVerified = "company", store.CustomerInvited, true
			c.Scopes = []string{"orders:read", "orders:write"}
			c.Metadata = map[string]any{"plan": "pro", "seats": float64(3), "beta": true, "tags": []any{"x", "ü"},
				"nested": map[string]any{"k": "v"}}
			c.PasswordHash = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA"
			must(t, st.Customers().Create(ctx, c, nil), "CreateCustomer")
			got, err := st.Customers().Get(ctx, "acct", "cu1")
			must(t, err, "GetCustomer")
			checkCustomer(t, got, c)

			// A customer may have neither email nor phone number, and several such do not collide.
			for _, id := range []string{"cu2", "cu3"} {
				mkCustomer(t, st, "acct", id, "", "")
			}
			got, err = st.Customers().Get(ctx, "acct", "cu2")
			must(t, err, "GetCustomer cu2")
			if got.Email != nil || got.EmailNorm != nil || got.PhoneNumber != nil {
				t.Errorf("customer without email or phone read back with %v %v %v", got.Email, got.EmailNorm, got.PhoneNumber)
			}
		}},
		{"CreateWithInvitation", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			inv := code("acct", "cu1", "inv1")
			inv.Purpose = store.PurposeInvitation
			c := customer("acct", "cu1", "ann@example.org", "")
			c.Status = store.CustomerInvited
			must(t, st.Customers().Create(ctx, c, inv), "CreateCustomer with an invitation")
			got, err := st.Codes().Latest(ctx, "cu1")
			must(t, err, "LatestCode")
			if got.ID != "inv1" || got.Purpose != store.PurposeInvitation {
				t.Errorf("invitation read back as %+v", got)
			}
		}},
		{"CreateIsAtomic", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			must(t, st.Customers().Create(ctx, customer("acct", "cu1", "ann@example.org", ""), code("acct", "cu1", "inv1")), "first")
			// The second invitation's hash collides with the first: the customer must not stay.
			clash := code("acct", "cu2", "inv2")
			clash.CodeHash = code("acct", "cu1", "inv1").CodeHash
			wantErr(t, st.Customers().Create(ctx, customer("acct", "cu2", "bob@example.org", ""), clash),
				store.ErrConflict, "CreateCustomer with a colliding code")
			wantErr(t, getErr(st.Customers().Get(ctx, "acct", "cu2")), store.ErrNotFound, "customer after a failed create")
			wantErr(t, getErr(st.Customers().Find(ctx, "acct", "customer", "bob@example.org", "")), store.ErrNotFound,
				"customer's email after a failed create")
		}},
		{"Conflicts", func(t *testing.T, st *store.Store) {
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkCustomer(t, st, "a", "cu1", "ann@example.org", "+15550000001")
			company := func(c *store.Customer) *store.Customer { c.Type = "company"; return c }
			for _, tc := range []struct {
				name string
				c    *store.Customer
				want error
			}{
				// The caller stores the lower-cased key; differently cased addresses share it.
				{"same email, other case", customer("a", "cu2", "ANN@Example.org", ""), store.ErrConflict},
				{"same phone number", customer("a", "cu3", "", "+15550000001"), store.ErrConflict},
				{"same id", customer("a", "cu1", "other@example.org", ""), store.ErrConflict},
				{"same email, other type", company(customer("a", "cu4", "Ann@example.org", "+15550000001")), nil},
				{"same email and phone, other account", customer("b", "cu5", "ann@example.org", "+15550000001"), nil},
			} {
				err := st.Customers().Create(t.Context(), tc.c, nil)
				if tc.want == nil && err != nil {
					t.Errorf("%s: %v", tc.name, err)
				}
				if tc.want != nil {
					wantErr(t, err, tc.want, tc.name)
				}
			}
		}},
		{"Find", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkCustomer(t, st, "a", "cu1", "Ann@Example.org", "+15550000001")
			other := customer("a", "cu2", "ann@example.org", "+15550000001")
			other.Type = "company"
			must(t, st.Customers().Create(ctx, other, nil), "CreateCustomer company")
			for _, tc := range []struct {
				name, aid, typ, email, phone, want string
			}{
				{"by email", "a", "customer", "ann@example.org", "", "cu1"},
				{"by phone", "a", "customer", "", "+15550000001", "cu1"},
				{"by email, other type", "a", "company", "ann@example.org", "", "cu2"},
				{"unknown email", "a", "customer", "bob@example.org", "", ""},
				{"unknown type", "a", "robot", "ann@example.org", "", ""},
				{"neither email nor phone", "a", "customer", "", "", ""},
				{"other account", "b", "customer", "ann@example.org", "", ""},
			} {
				got, err := st.Customers().Find(ctx, tc.aid, tc.typ, tc.email, tc.phone)
				switch {
				case tc.want == "":
					wantErr(t, err, store.ErrNotFound, tc.name)
				case err != nil:
					t.Errorf("%s: %v", tc.name, err)
				case got.ID != tc.want:
					t.Errorf("%s: found %s, want %s", tc.name, got.ID, tc.want)
				}
			}
		}},
		{"ListByID", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			type row struct{ id, typ, status string }
			rows := []row{
				{"cu0", "customer", store.CustomerActive}, {"cu1", "company", store.CustomerActive},
				{"cu2", "customer", store.CustomerInvited}, {"cu3", "customer", store.CustomerActive},
				{"cu4", "company", store.CustomerDisabled}, {"cu5", "customer", store.CustomerActive},
				{"cu6", "company", store.CustomerActive},
			}
			for _, i := range []int{4, 0, 6, 2, 5, 1, 3} {
				c := customer("a", rows[i].id, "", "")
				c.Type, c.Status = rows[i].typ, rows[i].status
				must(t, st.Customers().Create(ctx, c, nil), "CreateCustomer")
			}
			mkCustomer(t, st, "b", "cu2b", "", "")
			list := func(aid string, f store.CustomerFilter) func(store.Page) ([]store.Customer, string, error) {
				return func(p store.Page) ([]store.Customer, string, error) { return st.Customers().List(ctx, aid, f, p) }
			}
			id := func(c store.Customer) string { return c.ID }
			checkPages(t, []string{"cu0", "cu1", "cu2", "cu3", "cu4", "cu5", "cu6"}, id, list("a", store.CustomerFilter{}))
			checkPages(t, []string{"cu0", "cu2", "cu3", "cu5"}, id, list("a", store.CustomerFilter{Type: "customer"}))
			checkPages(t, []string{"cu0", "cu1", "cu3", "cu5", "cu6"}, id, list("a", store.CustomerFilter{Status: store.CustomerActive}))
			checkPages(t, []string{"cu1", "cu6"}, id, list("a", store.CustomerFilter{Type: "company", Status: store.CustomerActive}))
			checkPages(t, []string{"cu2b"}, id, list("b", store.CustomerFilter{}))
		}},
		{"ListByStatusIndexed", func(t *testing.T, st *store.Store) {
			// A status filter without a prefix (ordered by id, as List runs it) is served by
			// an index on (aid, status, id): a range scan, not a walk over every customer of
			// the account. Sequential scans are priced out so the tiny table cannot hide it.
			tx := st.DB().WithContext(t.Context()).Begin()
			defer tx.Rollback()
			explain := "EXPLAIN QUERY PLAN "
			if st.Dialect() == "postgres" {
				must(t, tx.Exec("SET LOCAL enable_seqscan = off").Error, "SET LOCAL")
				explain = "EXPLAIN "
			}
			var plan []map[string]any
			must(t, tx.Raw(explain+"SELECT * FROM customers WHERE aid = ? AND status = ? ORDER BY id LIMIT 21",
				"a", store.CustomerDisabled).Scan(&plan).Error, "EXPLAIN")
			text := fmt.Sprint(plan)
			if !strings.Contains(text, "customers_aid_status_idx") || strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "Sort") {
				t.Errorf("status filter not served in id order by customers_aid_status_idx: %s", text)
			}
		}},
		{"ListByEmailPrefix", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			// Ids run against the email order, and one address is shared by two types, so the
			// cursor must order by (email, id).
			for _, c := range []struct{ id, email, typ string }{
				{"cu9", "ann@example.org", "customer"},
				{"cu3", "ann@example.org", "company"},
				{"cu8", "anna@example.org", "customer"},
				{"cu7", "andy@example.org", "customer"},
				{"cu6", "annabel@example.org", "company"},
				{"cua", "annë@example.org", "customer"}, // byte order: after every ASCII continuation
				{"cu5", "anm@example.org", "customer"},  // before the prefix "ann"
				{"cu4", "ano@example.org", "customer"},  // after it
				{"cu2", "bob@example.org", "customer"},  // no match
				{"cu1", "zann@example.org", "customer"}, // contains, does not start with
				{"cu0", "", "customer"},                 // no email
			} {
				cu := customer("a", c.id, c.email, "")
				cu.Type = c.typ
				must(t, st.Customers().Create(ctx, cu, nil), "CreateCustomer "+c.id)
			}
			mkCustomer(t, st, "b", "cub", "ann@example.org", "")
			list := func(aid string, f store.CustomerFilter) func(store.Page) ([]store.Customer, string, error) {
				return func(p store.Page) ([]store.Customer, string, error) { return st.Customers().List(ctx, aid, f, p) }
			}
			id := func(c store.Customer) string { return c.ID }
			// ann@ (cu3, cu9), anna@ (cu8), annabel@ (cu6), annë@ (cua)
			checkPages(t, []string{"cu3", "cu9", "cu8", "cu6", "cua"}, id, list("a", store.CustomerFilter{EmailPrefix: "ann"}))
			checkPages(t, []string{"cu7", "cu5", "cu3", "cu9", "cu8", "cu6", "cua", "cu4"}, id, list("a", store.CustomerFilter{EmailPrefix: "an"}))
			checkPages(t, []string{"cu9", "cu8", "cua"}, id, list("a", store.CustomerFilter{EmailPrefix: "ann", Type: "customer"}))
			checkPages(t, []string{"cua"}, id, list("a", store.CustomerFilter{EmailPrefix: "annë"}))
			checkPages(t, nil, id, list("a", store.CustomerFilter{EmailPrefix: "carl"}))
			checkPages(t, []string{"cub"}, id, list("b", store.CustomerFilter{EmailPrefix: "ann"}))
		}},
		{"ListByPhonePrefix", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			for _, c := range []struct{ id, phone, typ string }{
				{"cu5", "+442070000001", "customer"},
				{"cu4", "+442070000001", "company"},
				{"cu3", "+442070000000", "customer"},
				{"cu2", "+442080000000", "customer"},
				{"cu1", "+441610000000", "customer"},
				{"cu0", "+12125550000", "customer"},
			} {
				cu := customer("a", c.id, "", c.phone)
				cu.Type = c.typ
				must(t, st.Customers().Create(ctx, cu, nil), "CreateCustomer "+c.id)
			}
			list := func(f store.CustomerFilter) func(store.Page) ([]store.Customer, string, error) {
				return func(p store.Page) ([]store.Customer, string, error) { return st.Customers().List(ctx, "a", f, p) }
			}
			id := func(c store.Customer) string { return c.ID }
			checkPages(t, []string{"cu3", "cu4", "cu5", "cu2"}, id, list(store.CustomerFilter{PhonePrefix: "+4420"}))
			checkPages(t, []string{"cu1", "cu3", "cu4", "cu5", "cu2"}, id, list(store.CustomerFilter{PhonePrefix: "+44"}))
			checkPages(t, []string{"cu4"}, id, list(store.CustomerFilter{PhonePrefix: "+44", Type: "company"}))
		}},
		{"Update", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			orig := mkCustomer(t, st, "acct", "cu1", "ann@example.org", "")
			mkRefreshToken(t, st, "acct", "cu1", "rt1")
			up := *orig
			up.Name, up.Status = "Ann B.", store.CustomerDisabled
			up.Scopes = []string{"admin"}
			up.Metadata = map[string]any{"k": "v"}
			up.PasswordHash = "not written"
			before := time.Now()
			must(t, st.Customers().Update(ctx, &up, []string{"name", "status", "scopes", "metadata"}, false), "UpdateCustomer")
			after := time.Now()
			got, err := st.Customers().Get(ctx, "acct", "cu1")
			must(t, err, "GetCustomer")
			if got.Name != "Ann B." || got.Status != store.CustomerDisabled || !slices.Equal(got.Scopes, up.Scopes) ||
				!reflect.DeepEqual(got.Metadata, up.Metadata) {
				t.Errorf("after update: %+v", got)
			}
			if got.PasswordHash != "" {
				t.Errorf("a column not named was written: password hash %q", got.PasswordHash)
			}
			if !got.CreatedAt.Equal(orig.CreatedAt) {
				t.Errorf("CreatedAt changed by an update: %v, want %v", got.CreatedAt, orig.CreatedAt)
			}
			stampedDuring(t, "UpdatedAt after update", got.UpdatedAt, before, after)
			if rt := getRefresh(t, st, "acct", "rt1"); rt.RevokedMS != 0 {
				t.Error("UpdateCustomer without revokeTokens revoked a token")
			}
		}},
		{"UpdateRevokesTokens", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "acct")
			c := mkCustomer(t, st, "acct", "cu1", "ann@example.org", "")
			mkCustomer(t, st, "acct", "cu2", "bob@example.org", "")
			mkRefreshToken(t, st, "acct", "cu1", "rt1")
			mkRefreshToken(t, st, "acct", "cu1", "rt2")
			mkRefreshToken(t, st, "acct", "cu2", "rt3")
			c.Status = store.CustomerDisabled
			must(t, st.Customers().Update(ctx, c, []string{"status"}, true), "UpdateCustomer revoking tokens")
			for id, revoked := range map[string]bool{"rt1": true, "rt2": true, "rt3": false} {
				if got := getRefresh(t, st, "acct", id).RevokedMS != 0; got != revoked {
					t.Errorf("token %s revoked %v, want %v", id, got, revoked)
				}
			}
		}},
		{"UpdateConflictOrMissing", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			mkCustomer(t, st, "a", "cu1", "ann@example.org", "")
			c := mkCustomer(t, st, "a", "cu2", "bob@example.org", "")
			mkRefreshToken(t, st, "a", "cu2", "rt1")
			taken := customer("a", "cu2", "Ann@Example.org", "")
			taken.Status = store.CustomerDisabled
			wantErr(t, st.Customers().Update(ctx, taken, []string{"email", "email_norm", "status"}, true),
				store.ErrConflict, "update to a taken email")
			got, err := st.Customers().Get(ctx, "a", "cu2")
			must(t, err, "GetCustomer")
			if *got.EmailNorm != *c.EmailNorm || got.Status != c.Status {
				t.Errorf("a refused update changed the customer: %v %s", *got.EmailNorm, got.Status)
			}
			if getRefresh(t, st, "a", "rt1").RevokedMS != 0 {
				t.Error("a refused update revoked the customer's tokens")
			}
			wantErr(t, st.Customers().Update(ctx, customer("a", "none", "", ""), []string{"name"}, false), store.ErrNotFound, "missing customer")
			hijack := customer("b", "cu2", "", "")
			hijack.Name = "hijacked"
			wantErr(t, st.Customers().Update(ctx, hijack, []string{"name"}, true), store.ErrNotFound, "a's customer through b")
			if got, _ := st.Customers().Get(ctx, "a", "cu2"); got == nil || got.Name == "hijacked" {
				t.Error("b updated a's customer")
			}
		}},
		{"DeleteCascades", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			mkAccount(t, st, "a")
			mkAccount(t, st, "b")
			for _, id := range []string{"cu1", "cu2"} {
				mkCustomer(t, st, "a", id, id+"@example.org", "")
				mkRefreshToken(t, st, "a", id, id+"-rt")
				must(t, st.Codes().Replace(ctx, code("a", id, id+"-vc")), "ReplaceCode")
				must(t, st.Sessions().Create(ctx, session("a", id, id+"-ss")), "CreateSession")
				must(t, st.AuthCodes().Create(ctx, authCode("a", id, id+"-ac")), "CreateAuthCode")
				must(t, st.Customers().LinkIdentity(ctx, identity("a", "sub-"+id, id), nil), "LinkIdentity")
			}
			wantErr(t, st.Customers().Delete(ctx, "b", "cu1"), store.ErrNotFound, "delete of a's customer through b")
			must(t, getErr(st.Customers().Get(ctx, "a", "cu1")), "customer after a refused delete")
			must(t, st.Customers().Delete(ctx, "a", "cu1"), "DeleteCustomer")
			for _, id := range []string{"cu1", "cu2"} {
				want := error(nil)
				if id == "cu1" {
					want = store.ErrNotFound
				}
				for what, err := range map[string]error{
					"customer":      getErr(st.Customers().Get(ctx, "a", id)),
					"refresh token": getErr(st.Tokens().RefreshByHash(ctx, "a", []byte("rt:"+id+"-rt"))),
					"code":          getErr(st.Codes().ByHash(ctx, "a", []byte("code:"+id+"-vc"))),
					"session":       getErr(st.Sessions().ByHash(ctx, "a", []byte("session:"+id+"-ss"), clock)),
					"auth code":     getErr(st.AuthCodes().ByHash(ctx, "a", []byte("authcode:"+id+"-ac"))),
					"identity":      getErr(st.Customers().ByIdentity(ctx, "a", "https://idp.example.org", "sub-"+id)),
				} {
					if !errors.Is(err, want) { // errors.Is(nil, nil) holds
						t.Errorf("%s of %s after deleting cu1: %v, want %v", what, id, err, want)
					}
				}
			}
			wantErr(t, st.Customers().Delete(ctx, "a", "cu1"), store.ErrNotFound, "second delete")
			// The email is free again.
			mkCustomer(t, st, "a", "cu3", "cu1@example.org", "")
		}},
	})
}

func checkCustomer(t *testing.T, got, want *store.Customer) {
	t.Helper()
	if got.ID != want.ID || got.AID != want.AID || got.Type != want.Type || !eqStrPtr(got.Email, want.Email) ||
		!eqStrPtr(got.EmailNorm, want.EmailNorm) || !eqStrPtr(got.PhoneNumber, want.PhoneNumber) || got.Name != want.Name ||
		got.Status != want.Status || got.EmailVerified != want.EmailVerified || !slices.Equal(got.Scopes, want.Scopes) ||
		!reflect.DeepEqual(got.Metadata, want.Metadata) || got.PasswordHash != want.PasswordHash {
		t.Errorf("customer read back as %+v, want %+v", got, want)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("customer times read back as %v %v, want %v %v", got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func eqStrPtr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// getRefresh loads a refresh token made by mkRefreshToken.
func getRefresh(t *testing.T, st *store.Store, aid, id string) *store.RefreshToken {
	t.Helper()
	rt, err := st.Tokens().RefreshByHash(t.Context(), aid, []byte("rt:"+id))
	must(t, err, "RefreshTokenByHash "+id)
	return rt
}

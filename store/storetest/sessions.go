package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

func testSessions(t *testing.T, open opener) {
	// withCustomer makes accounts "a" and "b" and a customer "cu1" in a.
	withCustomer := func(t *testing.T, st *store.Store) {
		mkAccount(t, st, "a")
		mkAccount(t, st, "b")
		mkCustomer(t, st, "a", "cu1", "ann@example.org", "")
	}
	runAll(t, open, []test{
		{"SessionLifetime", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			se := session("a", "cu1", "se1")
			must(t, st.Sessions().Create(ctx, se), "CreateSession")
			got, err := st.Sessions().ByHash(ctx, "a", se.Hash, clock)
			must(t, err, "SessionByHash")
			if got.ID != se.ID || got.AID != se.AID || !bytes.Equal(got.Hash, se.Hash) || got.CustomerID != se.CustomerID ||
				got.AuthTimeMS != se.AuthTimeMS || got.IdleUntilMS != se.IdleUntilMS || got.UntilMS != se.UntilMS || got.AMR != se.AMR {
				t.Errorf("session read back as %+v, want %+v", got, se)
			}
			wantErr(t, getErr(st.Sessions().ByHash(ctx, "b", se.Hash, clock)), store.ErrNotFound, "a's session through b")
			wantErr(t, getErr(st.Sessions().ByHash(ctx, "a", []byte("unknown"), clock)), store.ErrNotFound, "unknown hash")
			idleEnd := time.UnixMilli(se.IdleUntilMS)
			wantErr(t, getErr(st.Sessions().ByHash(ctx, "a", se.Hash, idleEnd)), store.ErrNotFound, "session at its idle end")

			// Touching extends the idle lifetime...
			must(t, st.Sessions().Touch(ctx, "se1", ms(idleEnd.Add(time.Hour))), "TouchSession")
			must(t, getErr(st.Sessions().ByHash(ctx, "a", se.Hash, idleEnd)), "touched session at its old idle end")
			// ...and never shortens it (a late touch from a slower node).
			must(t, st.Sessions().Touch(ctx, "se1", ms(idleEnd)), "TouchSession backwards")
			must(t, getErr(st.Sessions().ByHash(ctx, "a", se.Hash, idleEnd.Add(30*time.Minute))), "session after a backwards touch")
			// However far the idle end, the absolute end holds.
			must(t, st.Sessions().Touch(ctx, "se1", se.UntilMS+time.Hour.Milliseconds()), "TouchSession past the absolute end")
			wantErr(t, getErr(st.Sessions().ByHash(ctx, "a", se.Hash, time.UnixMilli(se.UntilMS))), store.ErrNotFound, "session at its absolute end")
			must(t, st.Sessions().Touch(ctx, "none", ms(clock)), "TouchSession of a missing session")

			must(t, st.Sessions().Delete(ctx, "se1"), "DeleteSession")
			wantErr(t, getErr(st.Sessions().ByHash(ctx, "a", se.Hash, clock)), store.ErrNotFound, "deleted session")
			// Logging out twice is fine.
			must(t, st.Sessions().Delete(ctx, "se1"), "second DeleteSession")
		}},
		{"SessionConflict", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			must(t, st.Sessions().Create(ctx, session("a", "cu1", "se1")), "CreateSession")
			clash := session("a", "cu1", "se2")
			clash.Hash = []byte("session:se1")
			wantErr(t, st.Sessions().Create(ctx, clash), store.ErrConflict, "a session with a taken hash")
			wantErr(t, st.Sessions().Create(ctx, session("a", "cu1", "se1")), store.ErrConflict, "a session with a taken id")
		}},
		{"AuthCode", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			ac := authCode("a", "cu1", "ac1")
			must(t, st.AuthCodes().Create(ctx, ac), "CreateAuthCode")
			got, err := st.AuthCodes().ByHash(ctx, "a", ac.Hash)
			must(t, err, "AuthCodeByHash")
			checkAuthCode(t, got, ac)
			wantErr(t, getErr(st.AuthCodes().ByHash(ctx, "b", ac.Hash)), store.ErrNotFound, "a's code through b")
			wantErr(t, getErr(st.AuthCodes().ByHash(ctx, "a", []byte("unknown"))), store.ErrNotFound, "unknown hash")
			clash := authCode("a", "cu1", "ac2")
			clash.Hash = ac.Hash
			wantErr(t, st.AuthCodes().Create(ctx, clash), store.ErrConflict, "a code with a taken hash")

			now := clock.Add(10 * time.Second)
			for i, want := range []bool{true, false} {
				ok, err := st.AuthCodes().Use(ctx, "ac1", now.Add(time.Duration(i)*time.Second))
				must(t, err, "UseAuthCode")
				if ok != want {
					t.Errorf("use %d of the code: %v, want %v", i+1, ok, want)
				}
			}
			if ok, err := st.AuthCodes().Use(ctx, "none", now); ok || err != nil {
				t.Errorf("UseAuthCode of a missing code: %v %v", ok, err)
			}
			// What the code issued is kept, to be revoked on replay.
			accessExp := clock.Add(time.Hour)
			replayed, err := st.AuthCodes().RecordTokens(ctx, "ac1", "fam1", "jti1", accessExp, now)
			must(t, err, "RecordCodeTokens")
			if replayed {
				t.Error("RecordCodeTokens of a code never replayed reports a replay")
			}
			got, err = st.AuthCodes().ByHash(ctx, "a", ac.Hash)
			must(t, err, "AuthCodeByHash")
			want := *ac
			want.UsedMS, want.FamilyID, want.AccessJTI, want.AccessExpMS = ms(now), "fam1", "jti1", ms(accessExp)
			checkAuthCode(t, got, &want)
		}},
		{"AuthCodeReplay", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			now := clock.Add(10 * time.Second)
			accessExp := clock.Add(time.Hour)
			// revoked reports whether what code id issued (family fam-id, access jti-id) is revoked.
			revoked := func(id string) (bool, bool) {
				t.Helper()
				rt := getRefresh(t, st, "a", "rt-"+id)
				at, err := st.Tokens().AccessRevoked(ctx, "jti-"+id)
				must(t, err, "AccessTokenRevoked")
				return rt.RevokedMS != 0, at
			}
			issue := func(id string) {
				t.Helper()
				must(t, st.AuthCodes().Create(ctx, authCode("a", "cu1", id)), "CreateAuthCode")
				rt := refreshToken("a", "cu1", "rt-"+id)
				rt.FamilyID = "fam-" + id
				must(t, st.Tokens().CreateRefresh(ctx, rt), "CreateRefresh")
				if ok, err := st.AuthCodes().Use(ctx, id, now); !ok || err != nil {
					t.Fatalf("UseAuthCode %s: %v %v", id, ok, err)
				}
			}
			// A replay after the tokens were recorded revokes them.
			issue("ac1")
			replayed, err := st.AuthCodes().RecordTokens(ctx, "ac1", "fam-ac1", "jti-ac1", accessExp, now)
			must(t, err, "RecordCodeTokens")
			if r, a := revoked("ac1"); replayed || r || a {
				t.Errorf("before any replay: replayed %v, refresh revoked %v, access revoked %v", replayed, r, a)
			}
			must(t, st.AuthCodes().Replay(ctx, "ac1", now), "ReplayAuthCode")
			if r, a := revoked("ac1"); !r || !a {
				t.Errorf("replay after recording: refresh revoked %v, access revoked %v", r, a)
			}
			// A replay before they were recorded (the use was still issuing them): recording
			// them finds the mark and revokes them.
			issue("ac2")
			must(t, st.AuthCodes().Replay(ctx, "ac2", now), "ReplayAuthCode")
			replayed, err = st.AuthCodes().RecordTokens(ctx, "ac2", "fam-ac2", "jti-ac2", accessExp, now)
			must(t, err, "RecordCodeTokens")
			if r, a := revoked("ac2"); !replayed || !r || !a {
				t.Errorf("replay before recording: replayed %v, refresh revoked %v, access revoked %v", replayed, r, a)
			}
			got, err := st.AuthCodes().ByHash(ctx, "a", []byte("authcode:ac2"))
			must(t, err, "AuthCodeByHash")
			if got.ReplayedMS != ms(now) {
				t.Errorf("ReplayedMS %d, want %d", got.ReplayedMS, ms(now))
			}
			// Racing replays and the recording, in any order: the tokens end up revoked.
			issue("ac3")
			Race(9, func(i int) error {
				if i == 0 {
					_, err := st.AuthCodes().RecordTokens(ctx, "ac3", "fam-ac3", "jti-ac3", accessExp, now)
					return err
				}
				return st.AuthCodes().Replay(ctx, "ac3", now)
			})
			if r, a := revoked("ac3"); !r || !a {
				t.Errorf("racing replays: refresh revoked %v, access revoked %v", r, a)
			}
			// A missing code (swept, or gone with its customer) is not found.
			wantErr(t, st.AuthCodes().Replay(ctx, "none", now), store.ErrNotFound, "ReplayAuthCode of a missing code")
		}},
		{"AuthCodeReplayRace", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			must(t, st.AuthCodes().Create(ctx, authCode("a", "cu1", "ac1")), "CreateAuthCode")
			results := Race(16, func(int) error {
				ok, err := st.AuthCodes().Use(ctx, "ac1", clock)
				if err == nil && !ok {
					err = errDenied
				}
				return err
			})
			checkGranted(t, results, 1, "parallel UseAuthCode")
		}},
		{"Identities", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			withCustomer(t, st)
			// Link an existing customer.
			must(t, st.Customers().LinkIdentity(ctx, identity("a", "sub1", "cu1"), nil), "LinkIdentity")
			got, err := st.Customers().ByIdentity(ctx, "a", "https://idp.example.org", "sub1")
			must(t, err, "IdentityCustomer")
			if got.ID != "cu1" || got.AID != "a" || got.EmailNorm == nil || *got.EmailNorm != "ann@example.org" {
				t.Errorf("IdentityCustomer found %+v, want cu1", got)
			}
			// Create the customer with the link.
			fresh := customer("a", "cu2", "bob@example.org", "")
			must(t, st.Customers().LinkIdentity(ctx, identity("a", "sub2", "cu2"), fresh), "LinkIdentity creating the customer")
			got, err = st.Customers().ByIdentity(ctx, "a", "https://idp.example.org", "sub2")
			must(t, err, "IdentityCustomer")
			checkCustomer(t, got, fresh)
			must(t, getErr(st.Customers().Get(ctx, "a", "cu2")), "customer created with the link")

			for name, err := range map[string]error{
				"a's identity through b": getErr(st.Customers().ByIdentity(ctx, "b", "https://idp.example.org", "sub1")),
				"other authority":        getErr(st.Customers().ByIdentity(ctx, "a", "https://other.example.org", "sub1")),
				"unknown subject":        getErr(st.Customers().ByIdentity(ctx, "a", "https://idp.example.org", "none")),
			} {
				wantErr(t, err, store.ErrNotFound, name)
			}

			// A subject is linked once per authority; a refused link creates no customer.
			wantErr(t, st.Customers().LinkIdentity(ctx, identity("a", "sub1", "cu3"), customer("a", "cu3", "cyd@example.org", "")),
				store.ErrConflict, "second link of a subject")
			wantErr(t, getErr(st.Customers().Get(ctx, "a", "cu3")), store.ErrNotFound, "customer of a refused link")
			// A customer that cannot be created is not linked.
			wantErr(t, st.Customers().LinkIdentity(ctx, identity("a", "sub4", "cu4"), customer("a", "cu4", "ANN@example.org", "")),
				store.ErrConflict, "link creating a customer with a taken email")
			wantErr(t, getErr(st.Customers().ByIdentity(ctx, "a", "https://idp.example.org", "sub4")), store.ErrNotFound, "identity of a refused customer")
			// The same subject in another account, or of another authority, is another identity.
			mkCustomer(t, st, "b", "cu5", "", "")
			must(t, st.Customers().LinkIdentity(ctx, identity("b", "sub1", "cu5"), nil), "same subject in another account")
			x := identity("a", "sub1", "cu2")
			x.Authority = "https://other.example.org"
			must(t, st.Customers().LinkIdentity(ctx, x, nil), "same subject of another authority")
		}},
	})
}

func checkAuthCode(t *testing.T, got, want *store.AuthCode) {
	t.Helper()
	if got.ID != want.ID || got.AID != want.AID || !bytes.Equal(got.Hash, want.Hash) || got.ClientID != want.ClientID ||
		got.RedirectURI != want.RedirectURI || got.CustomerID != want.CustomerID || got.SessionID != want.SessionID ||
		got.Scopes != want.Scopes || got.Audience != want.Audience || got.Nonce != want.Nonce ||
		got.CodeChallenge != want.CodeChallenge || got.AuthTimeMS != want.AuthTimeMS || got.ExpiresMS != want.ExpiresMS || got.AMR != want.AMR ||
		got.UsedMS != want.UsedMS || got.FamilyID != want.FamilyID || got.AccessJTI != want.AccessJTI ||
		got.AccessExpMS != want.AccessExpMS || got.ReplayedMS != want.ReplayedMS {
		t.Errorf("code read back as %+v, want %+v", got, want)
	}
}

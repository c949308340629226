package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

// event is the i-th event of account aid, at when(i), with an id that sorts by i.
func event(aid string, i int, typ string) *store.Event {
	return &store.Event{
		ID: fmt.Sprintf("ev%03d", i), AID: aid, Type: typ, OccurredAt: when(i), Outcome: store.OutcomeSuccess,
		ActorType: "client", ActorID: "admin", ActorAID: "root", ClientID: "cid", SubjectType: "customer",
		SubjectID: fmt.Sprintf("cust%d", i%3), SourceAddress: "203.0.113.7", RequestID: fmt.Sprintf("req%d", i),
	}
}

// eventIDs lists the ids of a page of events.
func eventIDs(evs []store.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func testEvents(t *testing.T, open opener) {
	runAll(t, open, []test{
		{"AddAndList", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			first := event("a", 1, "login.failed")
			first.Outcome, first.Reason, first.ActorType, first.ActorID, first.ActorAID = store.OutcomeFailure, "bad_credentials", "anonymous", "", ""
			for _, e := range []*store.Event{first, event("a", 2, "login.succeeded"), event("b", 3, "client.created")} {
				must(t, st.Events().Add(ctx, e), "AddEvent "+e.ID)
			}
			got, next, err := st.Events().List(ctx, "a", store.EventFilter{}, store.Page{})
			must(t, err, "ListEvents")
			// Newest first, and only the account's own.
			if ids := eventIDs(got); !slices.Equal(ids, []string{"ev002", "ev001"}) || next != "" {
				t.Fatalf("events of a: %v next %q", ids, next)
			}
			want := *first
			want.OccurredAt = when(1).UTC()
			if g := got[1]; g != want {
				t.Errorf("event read back as\n%+v, want\n%+v", g, want)
			}
			if got[1].OccurredAt.Location() != time.UTC {
				t.Errorf("time read back in %v, want UTC", got[1].OccurredAt.Location())
			}
			// The id is the key: the same one twice conflicts.
			wantErr(t, st.Events().Add(ctx, event("a", 2, "login.succeeded")), store.ErrConflict, "AddEvent twice")
		}},
		{"Filters", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			for i := 1; i <= 9; i++ {
				typ := "customer.updated"
				if i%2 == 0 {
					typ = "login.succeeded"
				}
				e := event("a", i, typ)
				if i > 6 {
					e.ActorType, e.ActorID = "customer", "cust9"
				}
				must(t, st.Events().Add(ctx, e), "AddEvent")
			}
			must(t, st.Events().Add(ctx, event("b", 10, "login.succeeded")), "AddEvent b")
			for _, tc := range []struct {
				name string
				f    store.EventFilter
				want []string
			}{
				{"type", store.EventFilter{Type: "login.succeeded"}, []string{"ev008", "ev006", "ev004", "ev002"}},
				{"actor type", store.EventFilter{ActorType: "customer"}, []string{"ev009", "ev008", "ev007"}},
				{"actor id", store.EventFilter{ActorID: "admin"}, []string{"ev006", "ev005", "ev004", "ev003", "ev002", "ev001"}},
				{"subject", store.EventFilter{SubjectID: "cust0"}, []string{"ev009", "ev006", "ev003"}},
				// Since is inclusive, Until exclusive; they are instants, whatever the zone.
				{"since", store.EventFilter{Since: when(7).UTC()}, []string{"ev009", "ev008", "ev007"}},
				{"until", store.EventFilter{Until: when(3)}, []string{"ev002", "ev001"}},
				{"range", store.EventFilter{Since: when(3), Until: when(5).Add(time.Microsecond)}, []string{"ev005", "ev004", "ev003"}},
				{"combined", store.EventFilter{Type: "customer.updated", SubjectID: "cust1", Until: when(7)}, []string{"ev001"}},
				{"none match", store.EventFilter{Type: "account.deleted"}, []string{}},
			} {
				got, _, err := st.Events().List(ctx, "a", tc.f, store.Page{Limit: 100})
				must(t, err, "ListEvents "+tc.name)
				if ids := eventIDs(got); !slices.Equal(ids, tc.want) {
					t.Errorf("%s: %v, want %v", tc.name, ids, tc.want)
				}
			}
		}},
		{"Pages", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			for i := 1; i <= 5; i++ {
				must(t, st.Events().Add(ctx, event("a", i, "scope.created")), "AddEvent")
			}
			var seen []string
			p := store.Page{Limit: 2}
			for pages := 0; ; pages++ {
				if pages > 3 {
					t.Fatal("paging does not end")
				}
				got, next, err := st.Events().List(ctx, "a", store.EventFilter{Type: "scope.created"}, p)
				must(t, err, "ListEvents")
				seen = append(seen, eventIDs(got)...)
				if next == "" {
					break
				}
				if next != got[len(got)-1].ID {
					t.Errorf("cursor %q, want the last id of the page", next)
				}
				p.After = next
			}
			if !slices.Equal(seen, []string{"ev005", "ev004", "ev003", "ev002", "ev001"}) {
				t.Errorf("pages gave %v", seen)
			}
		}},
		{"DeleteBefore", func(t *testing.T, st *store.Store) {
			ctx := t.Context()
			for i := 1; i <= 5; i++ {
				must(t, st.Events().Add(ctx, event("a", i, "login.succeeded")), "AddEvent")
			}
			other := event("b", 2, "login.succeeded")
			other.ID = "evb02"
			must(t, st.Events().Add(ctx, other), "AddEvent b")
			// Before when(4): ev001-ev003 of a and ev002 of b, at most batch per call.
			n, err := st.Events().DeleteBefore(ctx, when(4), 3)
			must(t, err, "DeleteBefore")
			if n != 3 {
				t.Errorf("first batch deleted %d, want 3", n)
			}
			n, err = st.Events().DeleteBefore(ctx, when(4), 3)
			must(t, err, "DeleteBefore")
			if n != 1 {
				t.Errorf("second batch deleted %d, want 1", n)
			}
			got, _, err := st.Events().List(ctx, "a", store.EventFilter{}, store.Page{})
			must(t, err, "ListEvents")
			if ids := eventIDs(got); !slices.Equal(ids, []string{"ev005", "ev004"}) {
				t.Errorf("left after the retention: %v", ids)
			}
			if n := rows(t, st, "events", "aid = ?", "b"); n != 0 {
				t.Errorf("%d events of b left", n)
			}
		}},
	})
}

package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// Actor is who acted. Its AID is the account it belongs to when that is another one (a
// root admin acting on a tenant).
type Actor struct {
	Type gen.ActorType
	ID   string
	AID  string
}

// System is twinid itself (scheduled work).
var System = Actor{Type: gen.ActorTypeSystem}

// Customer is a customer of the event's account acting for itself.
func Customer(id string) Actor { return Actor{Type: gen.ActorTypeCustomer, ID: id} }

// Event is what a caller reports; Record adds the rest.
type Event struct {
	AID  string
	Type gen.EventType
	// Failed marks a refused attempt (a failed sign-in); events are successes otherwise.
	Failed bool
	// Actor is taken from the request when it is zero.
	Actor Actor
	// ClientID is the OAuth client the request came through.
	ClientID    string
	SubjectType string
	SubjectID   string
	// Reason says why an attempt failed or what a change did, in a word or two.
	Reason string
}

// Recorder writes events to the store and the log.
type Recorder struct {
	events store.Events
	log    *slog.Logger
	now    func() time.Time
}

// New returns a Recorder over the store, the log and the server's clock.
func New(st *store.Store, log *slog.Logger, now func() time.Time) *Recorder {
	return &Recorder{events: st.Events(), log: log, now: now}
}

// Record writes one event. A nil Recorder records nothing (parts built without one).
func (r *Recorder) Record(ctx context.Context, e Event) {
	if r == nil {
		return
	}
	info := reqctx.InfoFrom(ctx)
	row := &store.Event{
		ID: uuid.Must(uuid.NewV7()).String(), AID: e.AID, Type: string(e.Type), OccurredAt: r.now(),
		Outcome: store.OutcomeSuccess, ClientID: e.ClientID, SubjectType: e.SubjectType, SubjectID: e.SubjectID,
		SourceAddress: info.Remote, RequestID: info.RequestID, Reason: e.Reason,
	}
	if e.Failed {
		row.Outcome = store.OutcomeFailure
	}
	a := e.Actor
	if a.Type == "" {
		var via string
		a, via = actorOf(ctx)
		if row.ClientID == "" {
			row.ClientID = via
		}
	}
	row.ActorType, row.ActorID = string(a.Type), a.ID
	if a.AID != "" && a.AID != e.AID {
		row.ActorAID = a.AID
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "audit",
		slog.String("event", row.Type), slog.String("outcome", row.Outcome), slog.String("aid", row.AID),
		slog.String("actor_type", row.ActorType), slog.String("actor_id", row.ActorID), slog.String("actor_aid", row.ActorAID),
		slog.String("client_id", row.ClientID), slog.String("subject_type", row.SubjectType), slog.String("subject_id", row.SubjectID),
		slog.String("source_address", row.SourceAddress), slog.String("request_id", row.RequestID), slog.String("reason", row.Reason),
		slog.String("event_id", row.ID))
	// The change is done whatever happens here: a request that may end without its event
	// being stored (the database just failed) still leaves the log line above.
	if err := r.events.Add(context.WithoutCancel(ctx), row); err != nil {
		r.log.Error("audit: storing the event failed", "event_id", row.ID, "event", row.Type, "err", err)
	}
}

// actorOf is the management caller of the request, an admin client or a person (a
// customer who signed in to manage), and the client its token came through; anonymous
// without one.
func actorOf(ctx context.Context) (Actor, string) {
	p := reqctx.PrincipalFrom(ctx)
	switch {
	case p == nil:
		return Actor{Type: gen.ActorTypeAnonymous}, ""
	case p.Sub != "" && p.Sub != p.ClientID:
		return Actor{Type: gen.ActorTypePerson, ID: p.Sub, AID: p.AID}, p.ClientID
	}
	return Actor{Type: gen.ActorTypeClient, ID: p.ClientID, AID: p.AID}, p.ClientID
}

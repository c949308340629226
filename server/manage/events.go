package manage

import (
	"context"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/store"
)

// Events serves the audit trail. It is its own type beside API, which holds the resources
// and stays within its size, and the server embeds both.
type Events struct {
	store    *store.Store
	accounts *account.Accounts
	keyring  *keys.Keyring
}

// NewEvents returns the audit trail's operation over d.
func NewEvents(d Deps) *Events {
	return &Events{store: d.Store, accounts: d.Accounts, keyring: d.Keyring}
}

// ListEvents implements GET .../events: the account's audit trail, newest first, filtered
// by type, actor, subject and time.
func (a *Events) ListEvents(ctx context.Context, req gen.ListEventsRequestObject) (gen.ListEventsResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	q := req.Params
	var f store.EventFilter
	if q.Type != nil {
		f.Type = string(*q.Type)
	}
	if q.ActorType != nil {
		f.ActorType = string(*q.ActorType)
	}
	if q.ActorID != nil {
		f.ActorID = *q.ActorID
	}
	if q.Subject != nil {
		f.SubjectID = *q.Subject
	}
	if q.Since != nil {
		f.Since = *q.Since
	}
	if q.Until != nil {
		f.Until = *q.Until
	}
	pg, err := page(a.keyring, "events/"+req.Aid, q.Limit, q.StartingAfter)
	if err != nil {
		return nil, err
	}
	rows, next, err := a.store.Events().List(ctx, req.Aid, f, pg)
	if err != nil {
		return nil, err
	}
	items := make([]gen.Event, len(rows))
	for i := range rows {
		items[i] = toEvent(&rows[i])
	}
	return gen.ListEvents200JSONResponse{Items: items, NextCursor: nextCursor(a.keyring, "events/"+req.Aid, next)}, nil
}

func toEvent(e *store.Event) gen.Event {
	out := gen.Event{
		ID: e.ID, Type: gen.EventType(e.Type), Time: e.OccurredAt.UTC(), Outcome: gen.EventOutcome(e.Outcome),
		Actor:    gen.EventActor{Type: gen.ActorType(e.ActorType), ID: e.ActorID},
		Subject:  gen.EventSubject{Type: e.SubjectType, ID: e.SubjectID},
		ClientID: e.ClientID, SourceAddress: e.SourceAddress, RequestID: e.RequestID, Reason: e.Reason,
	}
	if e.ActorAID != "" {
		out.Actor.Aid = &e.ActorAID
	}
	return out
}

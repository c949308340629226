package manage

import (
	"context"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/audit"
)

// record puts a change made through the API on the audit trail of account aid, with the
// caller as its actor. Handlers call it once the store has the change, so a refused or
// failed request records nothing.
func (a *API) record(ctx context.Context, aid string, typ gen.EventType, subjectType, subjectID string) {
	a.audit.Record(ctx, audit.Event{AID: aid, Type: typ, SubjectType: subjectType, SubjectID: subjectID})
}

// recordSecret records a secret created or deleted, naming the client that holds it.
func (a *API) recordSecret(ctx context.Context, aid string, typ gen.EventType, secretID, clientID string) {
	a.audit.Record(ctx, audit.Event{AID: aid, Type: typ, SubjectType: "secret", SubjectID: secretID,
		Reason: "client " + clientID})
}

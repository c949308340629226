package login

import (
	"context"
	"errors"
	"time"

	"github.com/twinid/twinid/server/workqueue"
	"github.com/twinid/twinid/store"
)

// RequestReset asks for a reset code (an invitation code to an invited customer) to be
// mailed to email, if it belongs to a customer who may sign in, at most once a minute. It
// never blocks and reveals nothing: whether the email is known, the lookup, the code and
// the mail happen in the background (RunResets), so the request costs the same for every
// email and its answer cannot tell them apart, by content or by time.
func (l *Login) RequestReset(acct *store.Account, email, typ string) {
	_, key, ok := NormEmail(email)
	if !ok {
		return
	}
	switch err := l.resets.Enqueue(resetRequest{acct: acct, emailKey: key, typ: typ}); {
	case errors.Is(err, workqueue.ErrClosed):
		l.log.Warn("password reset not sent: shutting down")
	case errors.Is(err, workqueue.ErrFull):
		l.log.Warn("password reset not sent: the queue is full")
	}
}

// RunResets works the reset requests until ctx is done, then those still queued, within a
// short deadline, and returns; later requests are dropped. Call it once, before the mail
// queue stops, so that the codes it issues are still mailed.
func (l *Login) RunResets(ctx context.Context) {
	l.resets.Run(ctx, l.reset, func(n int) {
		l.log.Error("password resets dropped at shutdown", "count", n)
	})
}

// FlushResets waits until every queued reset request has been worked, or ctx is done.
func (l *Login) FlushResets(ctx context.Context) error { return l.resets.Flush(ctx) }

// reset works one request, within the store's bound of a statement, whatever became of
// the request that asked for it.
func (l *Login) reset(_, ctx context.Context, r resetRequest) {
	ctx, cancel := context.WithTimeout(ctx, l.store.Timeout())
	defer cancel()
	if err := l.sendResetCode(ctx, r.acct, r.emailKey, r.typ); err != nil {
		l.log.Warn("password reset not sent", "aid", r.acct.AID, "err", err)
	}
}

// sendResetCode issues and mails the code when the email (its NormEmail key) belongs to a
// customer who may sign in and none was sent in the last minute.
func (l *Login) sendResetCode(ctx context.Context, acct *store.Account, emailKey, typ string) error {
	c, err := l.store.Customers().Find(ctx, acct.AID, typ, emailKey, "")
	if errors.Is(err, store.ErrNotFound) || (c != nil && c.Status == store.CustomerDisabled) {
		return nil
	}
	if err != nil {
		return err
	}
	if last, err := l.store.Codes().Latest(ctx, c.ID); err == nil && l.now().Sub(time.UnixMilli(last.CreatedMS)) < codeResendGap {
		return nil
	}
	purpose := store.PurposeReset
	if c.Status == store.CustomerInvited {
		purpose = store.PurposeInvitation
	}
	return l.IssueCode(ctx, acct, c, purpose)
}

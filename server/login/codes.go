package login

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/mail"
	"github.com/twinid/twinid/store"
)

const (
	resetCodeTTL    = 15 * time.Minute
	maxCodeAttempts = 5
	// codeResendGap: a reset code is not re-sent more often than this (mail bombing).
	codeResendGap = time.Minute
	// codeGuessLimit: wrong verification codes per client address per 15 minutes.
	codeGuessLimit = 20
)

// newCode draws an 8-digit verification code.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%08d", n.Int64()), nil
}

// CodeRow makes a verification code row for the customer, with the code and its lifetime;
// the code itself goes only into the email.
func (l *Login) CodeRow(acct *store.Account, c *store.Customer, purpose string) (*store.VerificationCode, string, time.Duration, error) {
	ttl := resetCodeTTL
	if purpose == store.PurposeInvitation {
		ttl = time.Duration(account.Effective(acct).InvitationLifetime) * time.Second
	}
	code, err := newCode()
	if err != nil {
		return nil, "", 0, err
	}
	now := l.now()
	return &store.VerificationCode{
		ID: keys.NewID(), AID: c.AID, CustomerID: c.ID, Purpose: purpose, CodeHash: l.codeHash(c.AID, code),
		CreatedMS: now.UnixMilli(), ExpiresMS: now.Add(ttl).UnixMilli(),
	}, code, ttl, nil
}

// codeHash is the keyed hash of a code, bound to its account.
func (l *Login) codeHash(aid, code string) []byte {
	return l.keyring.HashSecret("code\x00" + aid + "\x00" + code)
}

// IssueCode stores a new code for the customer (replacing earlier ones) and mails it.
func (l *Login) IssueCode(ctx context.Context, acct *store.Account, c *store.Customer, purpose string) error {
	var code string
	var ttl time.Duration
	for attempt := 0; ; attempt++ {
		row, value, lifetime, err := l.CodeRow(acct, c, purpose)
		if err != nil {
			return err
		}
		err = l.store.Codes().Replace(ctx, row)
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue // another live code of the account has the same digits: draw again
		}
		if err != nil {
			return err
		}
		code, ttl = value, lifetime
		break
	}
	return l.SendCode(acct, c, purpose, code, ttl)
}

// SendCode renders and queues the email; links are built from the public URL only.
func (l *Login) SendCode(acct *store.Account, c *store.Customer, purpose, code string, ttl time.Duration) error {
	if c.Email == nil {
		return nil
	}
	set := account.Effective(acct)
	kind, page := mail.KindPasswordReset, "reset-password"
	if purpose == store.PurposeInvitation {
		kind, page = mail.KindInvitation, "accept-invitation"
	}
	link := l.accounts.Issuer(acct.AID) + "/auth/" + page + "?" + url.Values{"email": {*c.Email}, "code": {code}}.Encode()
	subject, text, html, err := mail.Render(kind, mail.TemplateData{
		AccountName: set.EmailSenderName, CustomerName: c.Name, Code: code, Link: link, ExpiresIn: ttl,
	})
	if err != nil {
		return err
	}
	err = l.mail.Enqueue(mail.Message{To: *c.Email, FromName: set.EmailSenderName, Subject: subject, Text: text, HTML: html})
	if err != nil {
		l.log.Error("email not queued", "err", err, "purpose", purpose)
	}
	return nil
}

// Redeem uses up an emailed verification code and returns its customer. With an email the
// customer's current code is compared; without, the code is looked up by its hash.
// Guesses are counted per client address in the database (cluster-wide), reserved before
// the lookup like login attempts, and each code takes at most five, counted atomically
// before the comparison. Refusals: ErrBadCode, *LockedOut (Codes set).
func (l *Login) Redeem(ctx context.Context, acct *store.Account, email, typ, code, remote string) (c *store.Customer, err error) {
	now := l.now()
	guessKey := "v:" + remote
	res, err := l.store.Throttle().Reserve(ctx, acct.AID, guessKey, codeGuessLimit, loginWindow, now)
	if err != nil {
		return nil, err
	}
	if !res.Allowed {
		return nil, &LockedOut{RetryAfter: res.RetryAfter, Codes: true}
	}
	bad := func() (*store.Customer, error) {
		locked, err := l.store.Throttle().Fail(ctx, acct.AID, guessKey, codeGuessLimit, time.Minute, maxLockout, now)
		if err != nil {
			return nil, err
		}
		if locked {
			l.audit.Record(ctx, audit.Event{AID: acct.AID, Type: gen.LoginLockedOut, Actor: audit.Actor{Type: gen.ActorTypeAnonymous},
				SubjectType: "address", SubjectID: remote, Reason: "verification codes"})
		}
		return nil, ErrBadCode
	}
	defer func() {
		if err == nil {
			_ = l.store.Throttle().Release(ctx, acct.AID, guessKey)
		}
	}()
	code = strings.TrimSpace(code)
	hash := l.codeHash(acct.AID, code)
	var row *store.VerificationCode
	if email != "" {
		if typ == "" {
			typ = string(gen.CustomerTypeCustomer)
		}
		_, key, ok := NormEmail(email)
		if !ok {
			return bad()
		}
		c, err = l.store.Customers().Find(ctx, acct.AID, typ, key, "")
		if errors.Is(err, store.ErrNotFound) {
			return bad()
		}
		if err != nil {
			return nil, err
		}
		if row, err = l.store.Codes().Latest(ctx, c.ID); errors.Is(err, store.ErrNotFound) {
			return bad()
		} else if err != nil {
			return nil, err
		}
	} else {
		if row, err = l.store.Codes().ByHash(ctx, acct.AID, hash); errors.Is(err, store.ErrNotFound) {
			return bad()
		} else if err != nil {
			return nil, err
		}
	}
	ok, err := l.store.Codes().Try(ctx, row.ID, maxCodeAttempts, now)
	if err != nil {
		return nil, err
	}
	if !ok || subtle.ConstantTimeCompare(row.CodeHash, hash) != 1 {
		return bad()
	}
	if used, err := l.store.Codes().Use(ctx, row.ID, now); err != nil {
		return nil, err
	} else if !used {
		return bad()
	}
	if c, err = l.store.Customers().Get(ctx, acct.AID, row.CustomerID); err != nil || c.Status == store.CustomerDisabled {
		return bad()
	}
	return c, nil
}

package login

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/mail"
	"github.com/twinid/twinid/server/metrics"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/server/workqueue"
	"github.com/twinid/twinid/store"
)

const (
	loginWindow = 15 * time.Minute
	maxLockout  = 24 * time.Hour
	// cleanupTimeout bounds the throttle writes that outlive a cancelled request.
	cleanupTimeout = 5 * time.Second
)

// Login authenticates customers: passwords through the bounded hashing pool, emailed
// verification codes, and the throttles in front of both.
type Login struct {
	store    *store.Store
	accounts *account.Accounts
	keyring  *keys.Keyring
	pool     *passwords.Pool
	mail     *mail.Queue
	metrics  *metrics.Metrics
	log      *slog.Logger
	now      func() time.Time
	audit    *audit.Recorder
	busy     *overload

	// passkeys is the WebAuthn relying party (SetRelyingParty); nil: passkeys are off.
	passkeys *webauthn.WebAuthn

	mu       sync.Mutex
	inflight map[string]int // logins in flight per throttle key, on this node

	// resets are the password-reset requests waiting for the background worker
	// (RequestReset, RunResets).
	resets *workqueue.Queue[resetRequest]
}

// resetRequest is a password reset someone asked for: whether the email belongs to anyone
// is found out off the request path.
type resetRequest struct {
	acct *store.Account
	// emailKey is the email as customers are found by (NormEmail's key).
	emailKey, typ string
}

// resetQueueSize bounds the reset requests waiting for the worker; past it they are dropped
// (and logged), answering the same.
const resetQueueSize = 1000

// resetDrainTimeout bounds the work on reset requests still queued at shutdown.
const resetDrainTimeout = 5 * time.Second

// New returns the customer authentication of st.
func New(st *store.Store, accounts *account.Accounts, kr *keys.Keyring, pool *passwords.Pool, q *mail.Queue,
	m *metrics.Metrics, log *slog.Logger, now func() time.Time, rec *audit.Recorder) *Login {
	workers, queue := pool.Size()
	busy := &overload{log: log, now: now, counter: m.RateLimited.WithLabelValues("password_pool").Inc,
		workers: workers, queue: queue}
	return &Login{store: st, accounts: accounts, keyring: kr, pool: pool, mail: q, metrics: m, log: log, now: now,
		audit: rec, busy: busy, inflight: map[string]int{}, resets: workqueue.New[resetRequest](resetQueueSize, resetDrainTimeout)}
}

// shedWait bounds how long Shed waits for room in a full hashing pool.
const shedWait = 500 * time.Millisecond

// Shed reports whether a password login is to be refused for a full hashing pool: when the
// pool has no room it waits up to shedWait for a release (a login that finds room then goes
// on), and a refusal is counted (the metric, the overload's log lines). A caller that sheds
// the login answers ErrBusy before it reads or checks anything: a flood's refusals cost
// neither database work nor much of the core, and a refused client has waited a little,
// not looped on refusals as fast as they come.
func (l *Login) Shed(ctx context.Context) bool {
	if l.pool.AwaitRoom(ctx, shedWait) {
		return false
	}
	l.busy.refuse()
	return true
}

// Domain errors of a login; each surface words them in its dialect.
var (
	// ErrBadCredentials: unknown identifier, wrong password, or a customer who may not sign
	// in; the three answer the same.
	ErrBadCredentials = errors.New("wrong email, phone number or password")
	// ErrBusy: the hashing pool is full; nothing was evaluated.
	ErrBusy = passwords.ErrBusy
	// ErrBadCode: the verification code is wrong, used or expired.
	ErrBadCode = errors.New("the verification code is wrong, used or expired")
)

// RequestError is a login request missing what it needs; its text says what.
type RequestError struct{ Detail string }

func (e *RequestError) Error() string { return e.Detail }

// LockedOut refuses attempts for RetryAfter after too many failures (of the identifier, the
// client address, or verification codes when Codes is set).
type LockedOut struct {
	RetryAfter time.Duration
	Codes      bool
}

func (e *LockedOut) Error() string { return "locked out" }

// Seconds is RetryAfter in whole seconds, at least 1 (the Retry-After header).
func (e *LockedOut) Seconds() int {
	return max(1, int((e.RetryAfter+time.Second-1)/time.Second))
}

// Request identifies a customer and carries the password to check.
type Request struct {
	// Type is customer (default) or company.
	Type string
	// IdentType is email or phone_number.
	IdentType, Ident, Password string
	// Remote is the client address, throttled on its own.
	Remote string
	// ClientID is the client the customer signs in through (the audit trail names it).
	ClientID string
}

// Check verifies a customer's password with throttling that cannot be outrun: a worker of
// the hashing pool is taken first (a refusal for a full pool writes nothing), then attempts
// are reserved per identifier and per client address before the hash is computed, and given
// back when nothing was evaluated or the client went away. Unknown identifiers cost a dummy hash and answer exactly
// like a wrong password (ErrBadCredentials).
func (l *Login) Check(ctx context.Context, acct *store.Account, lr Request) (*store.Customer, error) {
	if lr.Type == "" {
		lr.Type = string(gen.CustomerTypeCustomer)
	}
	if lr.Password == "" || (lr.Type != string(gen.CustomerTypeCustomer) && lr.Type != string(gen.CustomerTypeCompany)) {
		return nil, &RequestError{Detail: "password and a valid type are required"}
	}
	var emailKey, phone, ident string
	switch lr.IdentType {
	case "email":
		_, emailKey, _ = NormEmail(lr.Ident)
		ident = emailKey
	case "phone_number":
		phone, _ = NormPhone(lr.Ident)
		ident = phone
	default:
		return nil, &RequestError{Detail: "ident_type must be email or phone_number"}
	}
	// What is not a valid email or phone number is still throttled as typed, but never put
	// on the audit trail as typed: it may be a password entered in the wrong field.
	recorded := ident
	if ident == "" {
		ident = strings.ToLower(strings.TrimSpace(lr.Ident))
	}
	set := account.Effective(acct)
	ipKey := "a:" + lr.Remote
	idKey := l.IdentKey(acct.AID, lr.Type, ident)
	if recorded == "" {
		recorded = idKey
	}
	// Parallel guesses at one identifier are cut to its allowance here, in memory: they
	// would be refused by the reservations below anyway, and must not take the pool's
	// workers (or its queue) from other logins while they find that out.
	leave, ok := l.enter(idKey, set.LoginMaxFailures, ipKey, set.LoginIPMaxFailures)
	if !ok {
		l.metrics.Logins.WithLabelValues("locked").Inc()
		return nil, &LockedOut{RetryAfter: time.Second}
	}
	defer leave()
	// The worker comes first: a login the pool refuses has written nothing, so a flood
	// against a full pool costs no database work.
	slot, err := l.pool.Acquire(ctx)
	if err != nil {
		if errors.Is(err, passwords.ErrBusy) || errors.Is(err, context.DeadlineExceeded) {
			l.busy.refuse()
			return nil, ErrBusy
		}
		return nil, err
	}
	defer slot.Release()
	l.busy.served()
	// What must follow a reservation runs even when the client has gone: a give-back lost
	// to a cancelled request would count as a failure for the whole window.
	cleanup := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	}
	now := l.now()
	ipRes, err := l.store.Throttle().Reserve(ctx, acct.AID, ipKey, set.LoginIPMaxFailures, loginWindow, now)
	if err != nil {
		return nil, err
	}
	if !ipRes.Allowed {
		l.metrics.Logins.WithLabelValues("locked").Inc()
		return nil, &LockedOut{RetryAfter: ipRes.RetryAfter}
	}
	giveBack := func(keys ...string) {
		cctx, cancel := cleanup()
		defer cancel()
		for _, k := range keys {
			if err := l.store.Throttle().Release(cctx, acct.AID, k); err != nil {
				l.log.Warn("login: giving a throttle reservation back failed", "err", err)
			}
		}
	}
	idRes, err := l.store.Throttle().Reserve(ctx, acct.AID, idKey, set.LoginMaxFailures, loginWindow, now)
	if err != nil {
		giveBack(ipKey)
		return nil, err
	}
	if !idRes.Allowed {
		giveBack(ipKey)
		l.metrics.Logins.WithLabelValues("locked").Inc()
		return nil, &LockedOut{RetryAfter: idRes.RetryAfter}
	}
	c, err := l.store.Customers().Find(ctx, acct.AID, lr.Type, emailKey, phone)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		giveBack(ipKey, idKey)
		return nil, err
	}
	ok, rehash := false, false
	if c != nil && c.PasswordHash != "" {
		ok, rehash, err = slot.Verify(lr.Password, c.PasswordHash)
	} else {
		slot.VerifyDummy(lr.Password)
		err = nil // ErrNotFound answers like a wrong password
	}
	var newHash string
	if err == nil && ok && rehash && c.Status == store.CustomerActive {
		if h, herr := slot.Hash(lr.Password); herr == nil {
			newHash = h
		}
	}
	slot.Release()
	if err == nil {
		// Nobody hears the answer of a request whose client has gone: it is no attempt.
		err = ctx.Err()
	}
	if err != nil {
		giveBack(ipKey, idKey)
		return nil, err
	}
	cctx, cancel := cleanup()
	defer cancel()
	if !ok || c.Status != store.CustomerActive {
		base := time.Duration(set.LoginLockoutSeconds) * time.Second
		idLocked, err := l.store.Throttle().Fail(cctx, acct.AID, idKey, set.LoginMaxFailures, base, maxLockout, now)
		if err != nil {
			return nil, err
		}
		ipLocked, err := l.store.Throttle().Fail(cctx, acct.AID, ipKey, set.LoginIPMaxFailures, base, maxLockout, now)
		if err != nil {
			return nil, err
		}
		l.metrics.Logins.WithLabelValues("failed").Inc()
		l.recordFailure(ctx, acct.AID, lr, c, recorded, idLocked, ipLocked)
		return nil, ErrBadCredentials
	}
	l.metrics.Logins.WithLabelValues("ok").Inc()
	if err := l.store.Throttle().Clear(cctx, acct.AID, idKey); err != nil {
		return nil, err
	}
	if err := l.store.Throttle().Release(cctx, acct.AID, ipKey); err != nil {
		return nil, err
	}
	l.audit.Record(ctx, audit.Event{AID: acct.AID, Type: gen.LoginSucceeded, Actor: audit.Customer(c.ID),
		ClientID: lr.ClientID, SubjectType: "customer", SubjectID: c.ID})
	if newHash != "" {
		_ = l.store.Customers().Rehash(cctx, c.ID, c.PasswordHash, newHash)
	}
	return c, nil
}

// recordFailure puts a failed sign-in on the audit trail, and the lockouts it began: of the
// identifier (the customer, or the normalised identifier nobody holds; for one that is no
// valid email or phone number, its keyed hash IdentKey) and of the client address. Attempts refused while locked are not recorded one by one: a flood of them
// would write as fast as it is sent.
func (l *Login) recordFailure(ctx context.Context, aid string, lr Request, c *store.Customer, ident string, idLocked, ipLocked bool) {
	subType, subID, reason := "identifier", ident, "bad_credentials"
	if c != nil {
		subType, subID = "customer", c.ID
		if c.Status != store.CustomerActive {
			reason = "customer_" + c.Status
		}
	}
	if len(subID) > 256 {
		subID = subID[:256]
	}
	e := audit.Event{AID: aid, Type: gen.LoginFailed, Failed: true, Actor: audit.Actor{Type: gen.ActorTypeAnonymous},
		ClientID: lr.ClientID, SubjectType: subType, SubjectID: subID, Reason: reason}
	l.audit.Record(ctx, e)
	e.Type, e.Failed = gen.LoginLockedOut, false
	if idLocked {
		e.Reason = "identifier"
		l.audit.Record(ctx, e)
	}
	if ipLocked {
		e.Reason, e.SubjectType, e.SubjectID = "address", "address", lr.Remote
		l.audit.Record(ctx, e)
	}
}

// enter counts a login in flight for the identifier key and the address key, refusing it
// when either already has as many in flight as it may fail (max ≤ 0: no bound here). It is
// a per-node shortcut; the reservations in the store stay the rule across nodes.
func (l *Login) enter(idKey string, idMax int, ipKey string, ipMax int) (leave func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if (idMax > 0 && l.inflight[idKey] >= idMax) || (ipMax > 0 && l.inflight[ipKey] >= ipMax) {
		return nil, false
	}
	l.inflight[idKey]++
	l.inflight[ipKey]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, k := range []string{idKey, ipKey} {
			if l.inflight[k]--; l.inflight[k] <= 0 {
				delete(l.inflight, k)
			}
		}
	}, true
}

// IdentKey is the throttle key of a login identifier (a keyed hash: no emails in that
// table).
func (l *Login) IdentKey(aid, typ, ident string) string {
	return "i:" + hex.EncodeToString(l.keyring.HashSecret("login\x00"+aid+"\x00"+typ+"\x00"+ident))
}

// Hash checks the password policy and hashes in the bounded pool. Errors:
// *passwords.PolicyError, ErrBusy (problem.Password words both).
func (l *Login) Hash(ctx context.Context, pw string) (string, error) {
	if err := passwords.Check(pw); err != nil {
		return "", err
	}
	return l.pool.Hash(ctx, pw)
}

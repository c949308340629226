package login

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/store"
)

// MFA policies: the account setting mfa and a client's override, which may only tighten it.
const (
	MFAOff      = "off"
	MFAOptional = "optional"
	MFARequired = "required"
)

// Authentication method references (RFC 8176 §2).
const (
	AMRPassword = "pwd"
	AMROTP      = "otp"
	AMRMFA      = "mfa"
	// AMRRecovery is a recovery code: RFC 8176 has no value for it, and it is something the
	// customer keeps, like a one-time password list.
	AMRRecovery = "otp"
)

// Factor types as the customer login answers them (factor_types).
const (
	TypeOTP      = "otp"
	TypeRecovery = "recovery_code"
	// TypeWebAuthn is a passkey (hosted pages only).
	TypeWebAuthn = "webauthn"
)

const (
	// RecoveryCodes is how many recovery codes a set has.
	RecoveryCodes = 10
	// maxFactors bounds a customer's TOTP and WebAuthn factors, pending ones included.
	maxFactors = 10
)

// ErrBadOTP: the one-time password or recovery code is wrong, or was used already.
var ErrBadOTP = errors.New("the one-time password or recovery code is wrong or was used already")

var rank = map[string]int{MFAOff: 0, MFAOptional: 1, MFARequired: 2}

// Policy is the MFA policy for a login through a client: the account's effective setting,
// tightened, never loosened, by the client's override.
func Policy(acct *store.Account, clientMFA string) string {
	p := account.Effective(acct).MFA
	if clientMFA != "" && rank[clientMFA] > rank[p] {
		p = clientMFA
	}
	return p
}

// Enrolment is a new TOTP factor, waiting for its first code; Secret (base32) and URI are
// shown once.
type Enrolment struct {
	Factor *store.Factor
	Secret string
	URI    string
}

// EnrolTOTP creates a pending TOTP factor for c; its secret is stored sealed with the
// master key, bound to the factor's id.
func (l *Login) EnrolTOTP(ctx context.Context, acct *store.Account, c *store.Customer, name string) (*Enrolment, error) {
	// A new enrolment replaces the customer's pending one: a sign-in under mfa=required
	// enrols on every attempt until a code confirms it, and kept enrolments filled the
	// customer's maxFactors within ten attempts. Its secret is never shown again.
	if _, err := l.store.Factors().DeletePending(ctx, acct.AID, c.ID); err != nil {
		return nil, err
	}
	have, err := l.store.Factors().List(ctx, acct.AID, c.ID)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, f := range have {
		if f.Type != store.FactorRecovery {
			n++
		}
	}
	if n >= maxFactors {
		return nil, &RequestError{Detail: "a customer has at most 10 factors; remove one first"}
	}
	secret, err := newTOTPSecret()
	if err != nil {
		return nil, err
	}
	f := &store.Factor{ID: keys.NewID(), AID: acct.AID, CustomerID: c.ID, Type: store.FactorTOTP, Name: name,
		CreatedAt: l.now().UTC()}
	if f.Name == "" {
		f.Name = "Authenticator app"
	}
	if f.Secret, err = l.keyring.Seal(secret, totpAD(f.ID)); err != nil {
		return nil, err
	}
	if err := l.store.Factors().Create(ctx, f); err != nil {
		return nil, err
	}
	label := c.ID
	if c.Email != nil {
		label = *c.Email
	}
	return &Enrolment{Factor: f, Secret: b32.EncodeToString(secret), URI: OTPAuthURI(acct.Name, label, secret)}, nil
}

func totpAD(factorID string) string { return "totp\x00" + factorID }

// FactorTypes are the second factors c can use now: otp for a confirmed TOTP factor,
// webauthn for a passkey, recovery_code while unused codes are left.
func (l *Login) FactorTypes(ctx context.Context, acct *store.Account, c *store.Customer) ([]string, error) {
	fs, err := l.store.Factors().List(ctx, acct.AID, c.ID)
	if err != nil {
		return nil, err
	}
	out := StepTypes(fs)
	if len(out) == 0 {
		// Recovery codes stand in for a factor, never alone.
		return out, nil
	}
	left, err := l.store.Factors().RecoveryCodesLeft(ctx, acct.AID, c.ID)
	if err != nil {
		return nil, err
	}
	if left > 0 {
		out = append(out, TypeRecovery)
	}
	return out, nil
}

// StepTypes are the types of fs, a customer's factors, that make a second step on their
// own: otp for a confirmed TOTP factor, webauthn for a passkey. It needs no query beyond
// the list, for a caller that has the list already.
func StepTypes(fs []store.Factor) []string {
	var out []string
	for _, f := range fs {
		switch {
		case f.Type == store.FactorTOTP && f.Confirmed && !slices.Contains(out, TypeOTP):
			out = append(out, TypeOTP)
		case f.Type == store.FactorWebAuthn && !slices.Contains(out, TypeWebAuthn):
			out = append(out, TypeWebAuthn)
		}
	}
	return out
}

// CheckOTP checks a second factor of c: a code of one of c's confirmed TOTP factors, or
// (when only is empty) one of c's recovery codes. only names the one factor to check (an
// enrolment's first code, which confirms it). A TOTP code is accepted once per time step;
// wrong or replayed codes count as failures of the customer, like wrong passwords: the
// attempt is reserved before anything is evaluated, so parallel guesses get no more tries
// than sequential ones. It answers the RFC 8176 method that passed.
func (l *Login) CheckOTP(ctx context.Context, acct *store.Account, c *store.Customer, code, only string) (string, error) {
	set := account.Effective(acct)
	key := "f:" + c.ID
	now := l.now()
	res, err := l.store.Throttle().Reserve(ctx, acct.AID, key, set.LoginMaxFailures, loginWindow, now)
	if err != nil {
		return "", err
	}
	if !res.Allowed {
		l.metrics.Logins.WithLabelValues("locked").Inc()
		return "", &LockedOut{RetryAfter: res.RetryAfter}
	}
	amr, err := l.evaluate(ctx, acct, c, code, only, now)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	switch {
	case errors.Is(err, ErrBadOTP):
		base := time.Duration(set.LoginLockoutSeconds) * time.Second
		locked, ferr := l.store.Throttle().Fail(cctx, acct.AID, key, set.LoginMaxFailures, base, maxLockout, now)
		if ferr != nil {
			return "", ferr
		}
		l.metrics.Logins.WithLabelValues("failed").Inc()
		e := audit.Event{AID: acct.AID, Type: gen.MfaFailed, Failed: true, Actor: audit.Customer(c.ID),
			SubjectType: "customer", SubjectID: c.ID, Reason: "wrong_code"}
		l.audit.Record(ctx, e)
		if locked {
			e.Type, e.Failed, e.Reason = gen.LoginLockedOut, false, "second_factor"
			l.audit.Record(ctx, e)
		}
		return "", err
	case err != nil:
		_ = l.store.Throttle().Release(cctx, acct.AID, key)
		return "", err
	}
	if only != "" {
		l.FactorAdded(ctx, acct.AID, c.ID, only)
	}
	return amr, l.store.Throttle().Clear(cctx, acct.AID, key)
}

// FactorAdded puts a confirmed new factor of the customer on the audit trail.
func (l *Login) FactorAdded(ctx context.Context, aid, customerID, factorID string) {
	l.audit.Record(ctx, audit.Event{AID: aid, Type: gen.FactorAdded, Actor: audit.Customer(customerID),
		SubjectType: "factor", SubjectID: factorID})
}

// FactorsRemoved puts removed factors on the audit trail: one (factorID) or, with factorID
// empty, all of the customer's (an administrator's reset). The actor is the customer when
// byCustomer, else the request's management caller.
func (l *Login) FactorsRemoved(ctx context.Context, aid, customerID, factorID string, byCustomer bool) {
	e := audit.Event{AID: aid, Type: gen.FactorRemoved, SubjectType: "factor", SubjectID: factorID}
	if factorID == "" {
		e.Type, e.SubjectType, e.SubjectID = gen.CustomerFactorsReset, "customer", customerID
	}
	if byCustomer {
		e.Actor = audit.Customer(customerID)
	}
	l.audit.Record(ctx, e)
}

// evaluate is CheckOTP's comparison: ErrBadOTP for a wrong or spent code.
func (l *Login) evaluate(ctx context.Context, acct *store.Account, c *store.Customer, code, only string, now time.Time) (string, error) {
	code = strings.TrimSpace(code)
	if isDigits(code, TOTPDigits) {
		fs, err := l.store.Factors().List(ctx, acct.AID, c.ID)
		if err != nil {
			return "", err
		}
		cur := TOTPStep(now)
		for _, f := range fs {
			if f.Type != store.FactorTOTP || (only == "" && !f.Confirmed) || (only != "" && f.ID != only) {
				continue
			}
			secret, err := l.keyring.Open(f.Secret, totpAD(f.ID))
			if err != nil {
				return "", err
			}
			for step := cur - totpSkew; step <= cur+totpSkew; step++ {
				if subtle.ConstantTimeCompare([]byte(TOTP(secret, step)), []byte(code)) != 1 {
					continue
				}
				err := l.store.Factors().UseStep(ctx, f.ID, step, now)
				if errors.Is(err, store.ErrUsed) {
					return "", ErrBadOTP
				}
				return AMROTP, err
			}
		}
		return "", ErrBadOTP
	}
	if only != "" {
		return "", ErrBadOTP
	}
	err := l.store.Factors().UseRecoveryCode(ctx, acct.AID, c.ID, l.recoveryHash(acct.AID, c.ID, code), now)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrBadOTP
	}
	return AMRRecovery, err
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// recoveryAlphabet: lowercase letters and digits without 0, 1, l and o, which people
// mistake for each other.
const recoveryAlphabet = "23456789abcdefghijkmnpqrstuvwxyz"

// normRecovery folds what people change when they type a code: case, spaces and dashes.
func normRecovery(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(code))
}

func (l *Login) recoveryHash(aid, customerID, code string) []byte {
	return l.keyring.HashSecret("recovery\x00" + aid + "\x00" + customerID + "\x00" + normRecovery(code))
}

// NewRecoveryCodes replaces c's recovery codes with RecoveryCodes new ones (50 random bits
// each, as xxxxx-xxxxx) and answers them: they are shown once, only their keyed hashes kept.
func (l *Login) NewRecoveryCodes(ctx context.Context, acct *store.Account, c *store.Customer) ([]string, error) {
	codes := make([]string, RecoveryCodes)
	hashes := make([][]byte, RecoveryCodes)
	for i := range codes {
		var b [10]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		for j := range b {
			b[j] = recoveryAlphabet[int(b[j])%len(recoveryAlphabet)]
		}
		codes[i] = string(b[:5]) + "-" + string(b[5:])
		hashes[i] = l.recoveryHash(acct.AID, c.ID, codes[i])
	}
	f := &store.Factor{ID: keys.NewID(), AID: acct.AID, CustomerID: c.ID, Type: store.FactorRecovery,
		Name: "Recovery codes", Confirmed: true, CreatedAt: l.now().UTC()}
	if err := l.store.Factors().ReplaceRecoveryCodes(ctx, f, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

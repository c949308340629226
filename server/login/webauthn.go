package login

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/store"
)

// Passkeys (WebAuthn, through github.com/go-webauthn/webauthn): registration of a
// customer's credential, and assertions for a passwordless sign-in (discoverable
// credentials: the user handle is the customer's id) or as a second factor. The ceremony's
// session data travels sealed in the page's form (SealWebAuthn), never in the database.

// AMR values of a passkey (RFC 8176 §2): hwk, a proof of possession of a key; with user
// verification (a PIN or biometric) the sign-in is multi-factor.
const AMRKey = "hwk"

// ErrPasskey: the passkey assertion or registration failed a check (origin, RP ID,
// challenge, signature, user verification) or names no credential of the account.
var ErrPasskey = errors.New("the passkey could not be verified")

// ErrPasskeyCloned: the authenticator's signature counter went backwards, a sign that the
// credential was cloned (WebAuthn §6.1.1); the sign-in is refused and logged.
var ErrPasskeyCloned = errors.New("the passkey's signature counter went backwards")

// SetRelyingParty configures passkeys for twinid reached at publicURL (its host is the RP
// ID, its origin the only one accepted). User verification is preferred, and required for
// passwordless sign-in.
func (l *Login) SetRelyingParty(publicURL, name string) error {
	u, err := url.Parse(publicURL)
	if err != nil {
		return err
	}
	if net.ParseIP(u.Hostname()) != nil {
		return errors.New("an IP address cannot be a WebAuthn RP ID (use a host name)")
	}
	w, err := webauthn.New(&webauthn.Config{RPID: u.Hostname(), RPDisplayName: name,
		RPOrigins: []string{u.Scheme + "://" + u.Host}})
	if err != nil {
		return err
	}
	l.passkeys = w
	return nil
}

// passkeyUser is a customer as the library sees them, with their passkeys.
type passkeyUser struct {
	c       *store.Customer
	factors []store.Factor
	creds   []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte { return []byte(u.c.ID) }
func (u *passkeyUser) WebAuthnName() string {
	if u.c.Email != nil {
		return *u.c.Email
	}
	if u.c.PhoneNumber != nil {
		return *u.c.PhoneNumber
	}
	return u.c.ID
}
func (u *passkeyUser) WebAuthnDisplayName() string {
	if u.c.Name != "" {
		return u.c.Name
	}
	return u.WebAuthnName()
}
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (l *Login) passkeyUser(ctx context.Context, acct *store.Account, c *store.Customer) (*passkeyUser, error) {
	fs, err := l.store.Factors().List(ctx, acct.AID, c.ID)
	if err != nil {
		return nil, err
	}
	u := &passkeyUser{c: c}
	for _, f := range fs {
		if f.Type != store.FactorWebAuthn {
			continue
		}
		var cred webauthn.Credential
		if err := json.Unmarshal([]byte(f.Credential), &cred); err != nil {
			return nil, err
		}
		u.factors, u.creds = append(u.factors, f), append(u.creds, cred)
	}
	return u, nil
}

// Ceremony is what a page needs for one WebAuthn ceremony: Options for the browser's
// navigator.credentials call (JSON) and State, the sealed session data to post back.
type Ceremony struct{ Options, State string }

func (l *Login) ceremony(aid, kind string, options any, session *webauthn.SessionData) (*Ceremony, error) {
	opt, err := json.Marshal(options)
	if err != nil {
		return nil, err
	}
	st, err := l.keyring.SealJSON(session, "webauthn:"+kind+":"+aid)
	if err != nil {
		return nil, err
	}
	return &Ceremony{Options: string(opt), State: st}, nil
}

func (l *Login) openCeremony(aid, kind, state string) (*webauthn.SessionData, error) {
	var s webauthn.SessionData
	if err := l.keyring.OpenJSON(state, "webauthn:"+kind+":"+aid, &s); err != nil {
		return nil, ErrPasskey
	}
	if !s.Expires.IsZero() && l.now().After(s.Expires) {
		return nil, ErrPasskey
	}
	return &s, nil
}

// BeginPasskeyRegistration starts registering a passkey of c: a discoverable credential
// (for passwordless sign-in), excluding the ones c has.
func (l *Login) BeginPasskeyRegistration(ctx context.Context, acct *store.Account, c *store.Customer) (*Ceremony, error) {
	if l.passkeys == nil {
		return nil, ErrPasskey
	}
	u, err := l.passkeyUser(ctx, acct, c)
	if err != nil {
		return nil, err
	}
	var exclude []protocol.CredentialDescriptor
	for i := range u.creds {
		exclude = append(exclude, u.creds[i].Descriptor())
	}
	opts, session, err := l.passkeys.BeginRegistration(u, webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, UserVerification: protocol.VerificationPreferred}))
	if err != nil {
		return nil, err
	}
	return l.ceremony(acct.AID, "reg:"+c.ID, opts, session)
}

// FinishPasskeyRegistration checks the browser's answer (origin, RP ID, challenge,
// attestation) and stores the credential as a factor of c.
func (l *Login) FinishPasskeyRegistration(ctx context.Context, acct *store.Account, c *store.Customer, state, response, name string) (*store.Factor, error) {
	session, err := l.openCeremony(acct.AID, "reg:"+c.ID, state)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(response))
	if err != nil {
		return nil, ErrPasskey
	}
	u, err := l.passkeyUser(ctx, acct, c)
	if err != nil {
		return nil, err
	}
	cred, err := l.passkeys.CreateCredential(u, *session, parsed)
	if err != nil {
		l.log.Info("passkey registration refused", "aid", acct.AID, "reason", err.Error())
		return nil, ErrPasskey
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = "Passkey"
	}
	f := &store.Factor{ID: keys.NewID(), AID: acct.AID, CustomerID: c.ID, Type: store.FactorWebAuthn, Name: name,
		CredentialID: cred.ID, Credential: string(raw), Confirmed: true, CreatedAt: l.now().UTC()}
	if err := l.store.Factors().Create(ctx, f); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrPasskey
		}
		return nil, err
	}
	l.FactorAdded(ctx, acct.AID, c.ID, f.ID)
	return f, nil
}

// BeginPasskeyLogin starts an assertion: for c's passkeys (a second factor), or, with c
// nil, for any discoverable credential of the account (passwordless; user verification
// required).
func (l *Login) BeginPasskeyLogin(ctx context.Context, acct *store.Account, c *store.Customer) (*Ceremony, error) {
	if l.passkeys == nil {
		return nil, ErrPasskey
	}
	if c == nil {
		opts, session, err := l.passkeys.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			return nil, err
		}
		return l.ceremony(acct.AID, "login:", opts, session)
	}
	u, err := l.passkeyUser(ctx, acct, c)
	if err != nil {
		return nil, err
	}
	if len(u.creds) == 0 {
		return nil, nil
	}
	opts, session, err := l.passkeys.BeginLogin(u, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, err
	}
	return l.ceremony(acct.AID, "login:"+c.ID, opts, session)
}

// FinishPasskeyLogin checks an assertion (origin, RP ID, challenge, signature, user
// verification as begun, and the signature counter) against c's passkeys, or with c nil
// against the customer its user handle names. It stores the moved counter and answers the
// customer and the RFC 8176 methods: hwk, plus user and mfa when the user was verified.
func (l *Login) FinishPasskeyLogin(ctx context.Context, acct *store.Account, c *store.Customer, state, response string) (*store.Customer, []string, error) {
	kind := "login:"
	if c != nil {
		kind += c.ID
	}
	session, err := l.openCeremony(acct.AID, kind, state)
	if err != nil {
		return nil, nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(response))
	if err != nil {
		return nil, nil, ErrPasskey
	}
	var u *passkeyUser
	var cred *webauthn.Credential
	if c == nil {
		cred, err = l.passkeys.ValidateDiscoverableLogin(func(_, userHandle []byte) (webauthn.User, error) {
			cu, err := l.store.Customers().Get(ctx, acct.AID, string(userHandle))
			if err != nil {
				return nil, err
			}
			if u, err = l.passkeyUser(ctx, acct, cu); err != nil {
				return nil, err
			}
			return u, nil
		}, *session, parsed)
	} else {
		if u, err = l.passkeyUser(ctx, acct, c); err != nil {
			return nil, nil, err
		}
		cred, err = l.passkeys.ValidateLogin(u, *session, parsed)
	}
	if err != nil || u == nil {
		l.log.Info("passkey sign-in refused", "aid", acct.AID, "reason", errText(err))
		return nil, nil, ErrPasskey
	}
	if u.c.Status != store.CustomerActive {
		return nil, nil, ErrBadCredentials
	}
	var factor *store.Factor
	for i := range u.factors {
		if string(u.factors[i].CredentialID) == string(cred.ID) {
			factor = &u.factors[i]
		}
	}
	if factor == nil {
		return nil, nil, ErrPasskey
	}
	if cred.Authenticator.CloneWarning {
		l.log.Warn("passkey signature counter went backwards: sign-in refused", "aid", acct.AID,
			"customer_id", u.c.ID, "factor_id", factor.ID)
		return nil, nil, ErrPasskeyCloned
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return nil, nil, err
	}
	if err := l.store.Factors().UpdateCredential(ctx, factor.ID, string(raw), l.now()); err != nil {
		return nil, nil, err
	}
	amr := []string{AMRKey}
	if parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		amr = append(amr, "user", AMRMFA)
	}
	return u.c, amr, nil
}

func errText(err error) string {
	if err == nil {
		return "no user"
	}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Details + " " + pe.DevInfo
	}
	return err.Error()
}

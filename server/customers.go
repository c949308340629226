package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/mail"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/store"
)

const (
	maxMetadataBytes = 16 << 10
	resetCodeTTL     = 15 * time.Minute
	maxCodeAttempts  = 5
	// codeResendGap: a reset code is not re-sent more often than this (mail bombing).
	codeResendGap = time.Minute
)

func (s *Server) customerOr404(ctx context.Context, aid, id string) (*store.Customer, error) {
	c, err := s.store.GetCustomer(ctx, aid, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("customer")
	}
	return c, err
}

func toCustomer(c *store.Customer) gen.Customer {
	out := gen.Customer{
		CustomerID: c.ID, Name: c.Name, Type: gen.CustomerType(c.Type), Status: gen.CustomerStatus(c.Status),
		EmailVerified: c.EmailVerified, HasPassword: c.PasswordHash != "", Scopes: nonNil(c.Scopes),
		Metadata: c.Metadata, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
	if out.Metadata == nil {
		out.Metadata = map[string]any{}
	}
	if c.Email != nil {
		out.Email = nullable.NewNullableWithValue(*c.Email)
	} else {
		out.Email = nullable.NewNullNullable[string]()
	}
	if c.PhoneNumber != nil {
		out.PhoneNumber = nullable.NewNullableWithValue(*c.PhoneNumber)
	} else {
		out.PhoneNumber = nullable.NewNullNullable[string]()
	}
	return out
}

func badField(code, field, msg string) error {
	return unprocessable(code, field+": "+msg, fieldError{Field: field, Message: msg})
}

func setEmail(c *store.Customer, raw string) error {
	display, key, ok := normEmail(raw)
	if !ok {
		return badField("invalid_email", "email", "not a valid email address")
	}
	c.Email, c.EmailNorm = &display, &key
	return nil
}

func setPhone(c *store.Customer, raw string) error {
	p, ok := normPhone(raw)
	if !ok {
		return badField("invalid_phone_number", "phoneNumber", "not a valid phone number with country code, such as +4791234567")
	}
	c.PhoneNumber = &p
	return nil
}

func checkMetadata(m map[string]any) error {
	raw, err := json.Marshal(m)
	if err != nil || len(raw) > maxMetadataBytes {
		return badField("metadata_too_large", "metadata", fmt.Sprintf("at most %d bytes of JSON", maxMetadataBytes))
	}
	return nil
}

// hashPassword checks the policy and hashes in the bounded pool.
func (s *Server) hashPassword(ctx context.Context, field, pw string) (string, error) {
	if err := passwords.Check(pw); err != nil {
		var pe *passwords.PolicyError
		if errors.As(err, &pe) {
			return "", badField(pe.Code, field, pe.Message)
		}
		return "", err
	}
	h, err := s.pwpool.Hash(ctx, pw)
	if errors.Is(err, passwords.ErrBusy) {
		p := newProblem(http.StatusServiceUnavailable, "busy", "too many password operations at once; retry in a second")
		p.Header = http.Header{"Retry-After": {"1"}}
		return "", p
	}
	return h, err
}

// conflictDetail names which identifier of a customer is taken.
func (s *Server) conflictDetail(ctx context.Context, c *store.Customer) error {
	if c.EmailNorm != nil {
		if o, err := s.store.FindCustomer(ctx, c.AID, c.Type, *c.EmailNorm, ""); err == nil && o.ID != c.ID {
			return newProblemFields(409, "conflict", "a customer of this type with this email exists", "email")
		}
	}
	return newProblemFields(409, "conflict", "a customer of this type with this phone number exists", "phoneNumber")
}

func newProblemFields(status int, code, detail, field string) *problem {
	p := newProblem(status, code, detail)
	p.Errors = []fieldError{{Field: field, Message: "already in use"}}
	return p
}

// newCode draws an 8-digit verification code.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%08d", n.Int64()), nil
}

// codeRow makes a verification code row; the code itself goes only into the email.
func (s *Server) codeRow(c *store.Customer, purpose string, ttl time.Duration, now time.Time) (*store.VerificationCode, string, error) {
	code, err := newCode()
	if err != nil {
		return nil, "", err
	}
	return &store.VerificationCode{
		ID: newID(), AID: c.AID, CustomerID: c.ID, Purpose: purpose, CodeHash: s.codeHash(c.AID, code),
		CreatedMS: now.UnixMilli(), ExpiresMS: now.Add(ttl).UnixMilli(),
	}, code, nil
}

// codeHash is the keyed hash of a code, bound to its account.
func (s *Server) codeHash(aid, code string) []byte {
	return s.keyring.hashSecret("code\x00" + aid + "\x00" + code)
}

// issueCode stores a new code for the customer (replacing earlier ones) and mails it.
func (s *Server) issueCode(ctx context.Context, acct *store.Account, c *store.Customer, purpose string) error {
	set := s.settings(acct)
	ttl := resetCodeTTL
	if purpose == store.PurposeInvitation {
		ttl = time.Duration(set.InvitationLifetime) * time.Second
	}
	var code string
	for attempt := 0; ; attempt++ {
		row, value, err := s.codeRow(c, purpose, ttl, time.Now())
		if err != nil {
			return err
		}
		err = s.store.ReplaceCode(ctx, row)
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue // another live code of the account has the same digits: draw again
		}
		if err != nil {
			return err
		}
		code = value
		break
	}
	return s.sendCode(acct, c, purpose, code, ttl)
}

// sendCode renders and queues the email; links are built from the public URL only.
func (s *Server) sendCode(acct *store.Account, c *store.Customer, purpose, code string, ttl time.Duration) error {
	if c.Email == nil {
		return nil
	}
	set := s.settings(acct)
	kind, page := mail.KindPasswordReset, "reset-password"
	if purpose == store.PurposeInvitation {
		kind, page = mail.KindInvitation, "accept-invitation"
	}
	link := s.issuer(acct.AID) + "/auth/" + page + "?" + url.Values{"email": {*c.Email}, "code": {code}}.Encode()
	subject, text, html, err := mail.Render(kind, mail.TemplateData{
		AccountName: set.EmailSenderName, CustomerName: c.Name, Code: code, Link: link, ExpiresIn: ttl,
	})
	if err != nil {
		return err
	}
	err = s.mail.Enqueue(mail.Message{To: *c.Email, FromName: set.EmailSenderName, Subject: subject, Text: text, HTML: html})
	if err != nil {
		s.log.Error("email not queued", "err", err, "purpose", purpose)
	}
	return nil
}

// ListCustomers implements GET .../customers/users.
func (s *Server) ListCustomers(ctx context.Context, req gen.ListCustomersRequestObject) (gen.ListCustomersResponseObject, error) {
	if _, err := s.accountOr404(ctx, req.Aid); err != nil {
		return nil, err
	}
	var f store.CustomerFilter
	if req.Params.Email != nil {
		f.EmailPrefix = normEmailPrefix(*req.Params.Email)
	}
	if req.Params.PhoneNumber != nil {
		f.PhonePrefix = *req.Params.PhoneNumber
	}
	if f.EmailPrefix != "" && f.PhonePrefix != "" {
		return nil, badField("one_search", "phoneNumber", "search by email or by phone number, not both")
	}
	if req.Params.Type != nil {
		f.Type = string(*req.Params.Type)
	}
	if req.Params.Status != nil {
		f.Status = string(*req.Params.Status)
	}
	rows, next, err := s.store.ListCustomers(ctx, req.Aid, f, page(req.Params.Limit, req.Params.StartingAfter))
	if errors.Is(err, store.ErrNotFound) {
		return nil, newProblemFields(400, "invalid_cursor", "startingAfter is not a customer of this account", "startingAfter")
	}
	if err != nil {
		return nil, err
	}
	items := make([]gen.Customer, len(rows))
	for i := range rows {
		items[i] = toCustomer(&rows[i])
	}
	return gen.ListCustomers200JSONResponse{Items: items, NextCursor: nextCursor(next)}, nil
}

// CreateCustomer implements POST .../customers/users.
func (s *Server) CreateCustomer(ctx context.Context, req gen.CreateCustomerRequestObject) (gen.CreateCustomerResponseObject, error) {
	acct, err := s.accountOr404(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	b := req.Body
	now := time.Now().UTC()
	c := &store.Customer{ID: newID(), AID: req.Aid, Type: string(gen.CustomerTypeCustomer), Status: store.CustomerActive,
		Scopes: []string{}, Metadata: map[string]any{}, CreatedAt: now, UpdatedAt: now}
	if b.Type != nil {
		c.Type = string(*b.Type)
	}
	if b.Email != nil {
		if err := setEmail(c, *b.Email); err != nil {
			return nil, err
		}
	}
	if b.PhoneNumber != nil {
		if err := setPhone(c, *b.PhoneNumber); err != nil {
			return nil, err
		}
	}
	if c.Email == nil && c.PhoneNumber == nil {
		return nil, badField("missing_identifier", "email", "an email or a phone number is required")
	}
	if b.Name != nil {
		name, ok := cleanText(*b.Name)
		if !ok {
			return nil, badField("invalid_name", "name", "must not contain control characters")
		}
		c.Name = name
	}
	if b.Scopes != nil {
		c.Scopes = dedupe(*b.Scopes)
	}
	if b.Metadata != nil {
		if err := checkMetadata(*b.Metadata); err != nil {
			return nil, err
		}
		c.Metadata = *b.Metadata
	}
	if b.EmailVerified != nil && c.Email != nil {
		c.EmailVerified = *b.EmailVerified
	}
	var code *store.VerificationCode
	var codeValue string
	if b.Password != nil {
		if c.PasswordHash, err = s.hashPassword(ctx, "password", *b.Password); err != nil {
			return nil, err
		}
	} else {
		if c.Email == nil {
			return nil, badField("email_required", "email", "a customer without a password is invited by email, so an email is required")
		}
		c.Status = store.CustomerInvited
		if code, codeValue, err = s.codeRow(c, store.PurposeInvitation, time.Duration(s.settings(acct).InvitationLifetime)*time.Second, now); err != nil {
			return nil, err
		}
	}
	if err := s.store.CreateCustomer(ctx, c, code); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, s.conflictDetail(ctx, c)
		}
		return nil, err
	}
	if code != nil {
		if err := s.sendCode(acct, c, store.PurposeInvitation, codeValue, time.Duration(s.settings(acct).InvitationLifetime)*time.Second); err != nil {
			return nil, err
		}
	}
	loc := "/v1/accounts/" + req.Aid + "/customers/users/" + c.ID
	return gen.CreateCustomer201JSONResponse{Body: toCustomer(c), Headers: gen.CreateCustomer201ResponseHeaders{Location: &loc}}, nil
}

// GetCustomer implements GET .../customers/users/{customerId}.
func (s *Server) GetCustomer(ctx context.Context, req gen.GetCustomerRequestObject) (gen.GetCustomerResponseObject, error) {
	c, err := s.customerOr404(ctx, req.Aid, req.CustomerID)
	if err != nil {
		return nil, err
	}
	return gen.GetCustomer200JSONResponse(toCustomer(c)), nil
}

// UpdateCustomer implements PATCH .../customers/users/{customerId}.
func (s *Server) UpdateCustomer(ctx context.Context, req gen.UpdateCustomerRequestObject) (gen.UpdateCustomerResponseObject, error) {
	c, err := s.customerOr404(ctx, req.Aid, req.CustomerID)
	if err != nil {
		return nil, err
	}
	b := req.Body
	var cols []string
	revoke := false
	if b.Email.IsSpecified() {
		old := c.EmailNorm
		if b.Email.IsNull() {
			c.Email, c.EmailNorm = nil, nil
		} else if err := setEmail(c, b.Email.MustGet()); err != nil {
			return nil, err
		}
		if old == nil || c.EmailNorm == nil || *old != *c.EmailNorm {
			c.EmailVerified = false
			cols = append(cols, "email_verified")
		}
		cols = append(cols, "email", "email_norm")
	}
	if b.PhoneNumber.IsSpecified() {
		if b.PhoneNumber.IsNull() {
			c.PhoneNumber = nil
		} else if err := setPhone(c, b.PhoneNumber.MustGet()); err != nil {
			return nil, err
		}
		cols = append(cols, "phone_number")
	}
	if c.Email == nil && c.PhoneNumber == nil {
		return nil, badField("missing_identifier", "email", "a customer keeps an email or a phone number")
	}
	if b.Name != nil {
		name, ok := cleanText(*b.Name)
		if !ok {
			return nil, badField("invalid_name", "name", "must not contain control characters")
		}
		c.Name = name
		cols = append(cols, "name")
	}
	if b.Status != nil {
		st := string(*b.Status)
		switch {
		case st == c.Status:
		case st == store.CustomerInvited:
			return nil, badField("invalid_status", "status", "a customer cannot be set back to invited")
		case st == store.CustomerActive && c.PasswordHash == "":
			return nil, badField("invalid_status", "status", "an invited customer becomes active by accepting the invitation")
		default:
			revoke = st == store.CustomerDisabled
			c.Status = st
			cols = append(cols, "status")
		}
	}
	if b.EmailVerified != nil {
		c.EmailVerified = *b.EmailVerified && c.Email != nil
		cols = append(cols, "email_verified")
	}
	if b.Scopes != nil {
		c.Scopes = dedupe(*b.Scopes)
		cols = append(cols, "scopes")
	}
	if b.Metadata != nil {
		if err := checkMetadata(*b.Metadata); err != nil {
			return nil, err
		}
		c.Metadata = *b.Metadata
		cols = append(cols, "metadata")
	}
	if err := s.store.UpdateCustomer(ctx, c, cols, revoke); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict):
			return nil, s.conflictDetail(ctx, c)
		case errors.Is(err, store.ErrNotFound):
			return nil, notFound("customer")
		}
		return nil, err
	}
	return gen.UpdateCustomer200JSONResponse(toCustomer(c)), nil
}

// DeleteCustomer implements DELETE .../customers/users/{customerId}.
func (s *Server) DeleteCustomer(ctx context.Context, req gen.DeleteCustomerRequestObject) (gen.DeleteCustomerResponseObject, error) {
	if err := s.store.DeleteCustomer(ctx, req.Aid, req.CustomerID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFound("customer")
		}
		return nil, err
	}
	return gen.DeleteCustomer204Response{}, nil
}

// ResendInvitation implements POST .../customers/users/{customerId}/invitation.
func (s *Server) ResendInvitation(ctx context.Context, req gen.ResendInvitationRequestObject) (gen.ResendInvitationResponseObject, error) {
	acct, err := s.accountOr404(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	c, err := s.customerOr404(ctx, req.Aid, req.CustomerID)
	if err != nil {
		return nil, err
	}
	if c.Status != store.CustomerInvited {
		return nil, conflict("the customer is " + c.Status + ", not invited")
	}
	if err := s.issueCode(ctx, acct, c, store.PurposeInvitation); err != nil {
		return nil, err
	}
	return gen.ResendInvitation202Response{}, nil
}

// UnlockCustomer implements POST .../customers/users/{customerId}/unlock.
func (s *Server) UnlockCustomer(ctx context.Context, req gen.UnlockCustomerRequestObject) (gen.UnlockCustomerResponseObject, error) {
	c, err := s.customerOr404(ctx, req.Aid, req.CustomerID)
	if err != nil {
		return nil, err
	}
	var keys []string
	if c.EmailNorm != nil {
		keys = append(keys, s.identKey(c.AID, c.Type, *c.EmailNorm))
	}
	if c.PhoneNumber != nil {
		keys = append(keys, s.identKey(c.AID, c.Type, *c.PhoneNumber))
	}
	if err := s.store.ClearThrottle(ctx, c.AID, keys...); err != nil {
		return nil, err
	}
	return gen.UnlockCustomer204Response{}, nil
}

// identKey is the throttle key of a login identifier (a keyed hash: no emails in that table).
func (s *Server) identKey(aid, typ, ident string) string {
	return "i:" + hex.EncodeToString(s.keyring.hashSecret("login\x00"+aid+"\x00"+typ+"\x00"+ident))
}

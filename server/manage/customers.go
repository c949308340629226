package manage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/store"
)

// maxMetadataBytes bounds a customer's metadata, which travels with every read of it.
const maxMetadataBytes = 16 << 10

// customerOr404 loads a customer of the account, or answers 404.
func customerOr404(ctx context.Context, st *store.Store, aid, id string) (*store.Customer, error) {
	c, err := st.Customers().Get(ctx, aid, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("customer")
	}
	return c, err
}

// SetEmail checks an email address and sets it on c as given (trimmed, NFC) with its
// comparison form; a bad address is a 422 problem naming the field email.
func SetEmail(c *store.Customer, raw string) error {
	display, key, ok := login.NormEmail(raw)
	if !ok {
		return problem.BadField("invalid_email", "email", "not a valid email address")
	}
	c.Email, c.EmailNorm = &display, &key
	return nil
}

// setPhone checks a phone number and sets it on c in E.164.
func setPhone(c *store.Customer, raw string) error {
	p, ok := login.NormPhone(raw)
	if !ok {
		return problem.BadField("invalid_phone_number", "phoneNumber", "not a valid phone number with country code, such as +4791234567")
	}
	c.PhoneNumber = &p
	return nil
}

func checkMetadata(m map[string]any) error {
	raw, err := json.Marshal(m)
	if err != nil || len(raw) > maxMetadataBytes {
		return problem.BadField("metadata_too_large", "metadata", fmt.Sprintf("at most %d bytes of JSON", maxMetadataBytes))
	}
	return nil
}

// hashPassword checks the policy and hashes in the bounded pool, wording the refusals for
// the Management API: a policy failure names field, a full pool is a 503 to retry.
func hashPassword(ctx context.Context, l *login.Login, field, pw string) (string, error) {
	h, err := l.Hash(ctx, pw)
	var pe *passwords.PolicyError
	switch {
	case errors.As(err, &pe):
		return "", problem.BadField(pe.Code, field, pe.Message)
	case errors.Is(err, login.ErrBusy):
		p := problem.New(http.StatusServiceUnavailable, "busy", "too many password operations at once; retry in a second")
		p.Header = http.Header{"Retry-After": {"1"}}
		return "", p
	}
	return h, err
}

// conflictDetail names which identifier of a customer is taken: the store only reports
// that one of the unique keys was hit.
func conflictDetail(ctx context.Context, st *store.Store, c *store.Customer) error {
	if c.EmailNorm != nil {
		if o, err := st.Customers().Find(ctx, c.AID, c.Type, *c.EmailNorm, ""); err == nil && o.ID != c.ID {
			return problem.InUse(http.StatusConflict, "conflict", "a customer of this type with this email exists", "email")
		}
	}
	return problem.InUse(http.StatusConflict, "conflict", "a customer of this type with this phone number exists", "phoneNumber")
}

// ListCustomers implements GET .../customers/users.
func (a *API) ListCustomers(ctx context.Context, req gen.ListCustomersRequestObject) (gen.ListCustomersResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	var f store.CustomerFilter
	if req.Params.Email != nil {
		f.EmailPrefix = login.NormEmailPrefix(*req.Params.Email)
	}
	if req.Params.PhoneNumber != nil {
		f.PhonePrefix = *req.Params.PhoneNumber
	}
	// One prefix search per request: each is served by its own index.
	if f.EmailPrefix != "" && f.PhonePrefix != "" {
		return nil, problem.BadField("one_search", "phoneNumber", "search by email or by phone number, not both")
	}
	if req.Params.Type != nil {
		f.Type = string(*req.Params.Type)
	}
	if req.Params.Status != nil {
		f.Status = string(*req.Params.Status)
	}
	pg, err := page(a.keyring, "customers/"+req.Aid, req.Params.Limit, req.Params.StartingAfter)
	if err != nil {
		return nil, err
	}
	rows, next, err := a.store.Customers().List(ctx, req.Aid, f, pg)
	if errors.Is(err, store.ErrNotFound) {
		// The field's message reads "already in use", as it always has on the wire.
		return nil, problem.InUse(http.StatusBadRequest, "invalid_cursor", "startingAfter is not a customer of this account", "startingAfter")
	}
	if err != nil {
		return nil, err
	}
	items := make([]gen.Customer, len(rows))
	for i := range rows {
		items[i] = toCustomer(&rows[i])
	}
	return gen.ListCustomers200JSONResponse{Items: items, NextCursor: nextCursor(a.keyring, "customers/"+req.Aid, next)}, nil
}

// CreateCustomer implements POST .../customers/users. A customer created without a password
// is invited: it gets an emailed code to choose one, stored in the same transaction.
func (a *API) CreateCustomer(ctx context.Context, req gen.CreateCustomerRequestObject) (gen.CreateCustomerResponseObject, error) {
	acct, err := accountOr404(ctx, a.accounts, req.Aid)
	if err != nil {
		return nil, err
	}
	b := req.Body
	now := a.now().UTC()
	c := &store.Customer{ID: keys.NewID(), AID: req.Aid, Type: string(gen.CustomerTypeCustomer), Status: store.CustomerActive,
		Scopes: []string{}, Metadata: map[string]any{}, CreatedAt: now, UpdatedAt: now}
	if b.Type != nil {
		c.Type = string(*b.Type)
	}
	if b.Email != nil {
		if err := SetEmail(c, *b.Email); err != nil {
			return nil, err
		}
	}
	if b.PhoneNumber != nil {
		if err := setPhone(c, *b.PhoneNumber); err != nil {
			return nil, err
		}
	}
	if c.Email == nil && c.PhoneNumber == nil {
		return nil, problem.BadField("missing_identifier", "email", "an email or a phone number is required")
	}
	if b.Name != nil {
		name, ok := login.CleanText(*b.Name)
		if !ok {
			return nil, problem.BadField("invalid_name", "name", "must not contain control characters")
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
	// Only an address can be verified.
	if b.EmailVerified != nil && c.Email != nil {
		c.EmailVerified = *b.EmailVerified
	}
	var code *store.VerificationCode
	var codeValue string
	var ttl time.Duration
	if b.Password != nil {
		if c.PasswordHash, err = hashPassword(ctx, a.login, "password", *b.Password); err != nil {
			return nil, err
		}
	} else {
		if c.Email == nil {
			return nil, problem.BadField("email_required", "email", "a customer without a password is invited by email, so an email is required")
		}
		c.Status = store.CustomerInvited
		if code, codeValue, ttl, err = a.login.CodeRow(acct, c, store.PurposeInvitation); err != nil {
			return nil, err
		}
	}
	if err := a.store.Customers().Create(ctx, c, code); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, conflictDetail(ctx, a.store, c)
		}
		return nil, err
	}
	a.record(ctx, req.Aid, gen.CustomerCreated, "customer", c.ID)
	// Mailed only once the customer exists, so no invitation names a customer that is not.
	if code != nil {
		if err := a.login.SendCode(acct, c, store.PurposeInvitation, codeValue, ttl); err != nil {
			return nil, err
		}
		a.record(ctx, req.Aid, gen.InvitationSent, "customer", c.ID)
	}
	loc := "/v1/accounts/" + req.Aid + "/customers/users/" + c.ID
	return gen.CreateCustomer201JSONResponse{Body: toCustomer(c), Headers: gen.CreateCustomer201ResponseHeaders{Location: &loc}}, nil
}

// GetCustomer implements GET .../customers/users/{customerId}.
func (a *API) GetCustomer(ctx context.Context, req gen.GetCustomerRequestObject) (gen.GetCustomerResponseObject, error) {
	c, err := customerOr404(ctx, a.store, req.Aid, req.CustomerID)
	if err != nil {
		return nil, err
	}
	return gen.GetCustomer200JSONResponse(toCustomer(c)), nil
}

// UpdateCustomer implements PATCH .../customers/users/{customerId}: only the fields given
// are written. Disabling a customer revokes their tokens in the same update.
func (a *API) UpdateCustomer(ctx context.Context, req gen.UpdateCustomerRequestObject) (gen.UpdateCustomerResponseObject, error) {
	c, err := customerOr404(ctx, a.store, req.Aid, req.CustomerID)
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
		} else if err := SetEmail(c, b.Email.MustGet()); err != nil {
			return nil, err
		}
		// A new address has not been verified, whatever the old one was.
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
		return nil, problem.BadField("missing_identifier", "email", "a customer keeps an email or a phone number")
	}
	if b.Name != nil {
		name, ok := login.CleanText(*b.Name)
		if !ok {
			return nil, problem.BadField("invalid_name", "name", "must not contain control characters")
		}
		c.Name = name
		cols = append(cols, "name")
	}
	if b.Status != nil {
		st := string(*b.Status)
		switch {
		case st == c.Status:
		case st == store.CustomerInvited:
			return nil, problem.BadField("invalid_status", "status", "a customer cannot be set back to invited")
		case st == store.CustomerActive && c.PasswordHash == "":
			return nil, problem.BadField("invalid_status", "status", "an invited customer becomes active by accepting the invitation")
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
	if err := a.store.Customers().Update(ctx, c, cols, revoke); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict):
			return nil, conflictDetail(ctx, a.store, c)
		case errors.Is(err, store.ErrNotFound):
			return nil, problem.NotFound("customer")
		}
		return nil, err
	}
	a.record(ctx, req.Aid, gen.CustomerUpdated, "customer", c.ID)
	if revoke {
		a.record(ctx, req.Aid, gen.CustomerDisabled, "customer", c.ID)
	}
	return gen.UpdateCustomer200JSONResponse(toCustomer(c)), nil
}

// DeleteCustomer implements DELETE .../customers/users/{customerId}.
func (a *API) DeleteCustomer(ctx context.Context, req gen.DeleteCustomerRequestObject) (gen.DeleteCustomerResponseObject, error) {
	if err := a.store.Customers().Delete(ctx, req.Aid, req.CustomerID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, problem.NotFound("customer")
		}
		return nil, err
	}
	a.record(ctx, req.Aid, gen.CustomerDeleted, "customer", req.CustomerID)
	return gen.DeleteCustomer204Response{}, nil
}

// ResendInvitation implements POST .../customers/users/{customerId}/invitation: a new code
// replaces the earlier ones.
func (a *API) ResendInvitation(ctx context.Context, req gen.ResendInvitationRequestObject) (gen.ResendInvitationResponseObject, error) {
	acct, err := accountOr404(ctx, a.accounts, req.Aid)
	if err != nil {
		return nil, err
	}
	c, err := customerOr404(ctx, a.store, req.Aid, req.CustomerID)
	if err != nil {
		return nil, err
	}
	if c.Status != store.CustomerInvited {
		return nil, problem.Conflict("the customer is " + c.Status + ", not invited")
	}
	if err := a.login.IssueCode(ctx, acct, c, store.PurposeInvitation); err != nil {
		return nil, err
	}
	a.record(ctx, req.Aid, gen.InvitationSent, "customer", c.ID)
	return gen.ResendInvitation202Response{}, nil
}

// UnlockCustomer implements POST .../customers/users/{customerId}/unlock: it clears the
// failed-login throttle of each of the customer's identifiers (not of client addresses).
func (a *API) UnlockCustomer(ctx context.Context, req gen.UnlockCustomerRequestObject) (gen.UnlockCustomerResponseObject, error) {
	c, err := customerOr404(ctx, a.store, req.Aid, req.CustomerID)
	if err != nil {
		return nil, err
	}
	var idents []string
	if c.EmailNorm != nil {
		idents = append(idents, a.login.IdentKey(c.AID, c.Type, *c.EmailNorm))
	}
	if c.PhoneNumber != nil {
		idents = append(idents, a.login.IdentKey(c.AID, c.Type, *c.PhoneNumber))
	}
	if err := a.store.Throttle().Clear(ctx, c.AID, idents...); err != nil {
		return nil, err
	}
	a.record(ctx, req.Aid, gen.CustomerUnlocked, "customer", c.ID)
	return gen.UnlockCustomer204Response{}, nil
}

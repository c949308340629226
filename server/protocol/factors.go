package protocol

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"

	"github.com/oapi-codegen/nullable"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// The factor endpoints of openapi/openapi.yaml (problem+json): a customer manages their own
// factors with their access token; administrators list, remove and reset them.

// factorCustomer loads the account and customer of a factor request and checks who asks:
// a customer token only for its own customer (and never the single-use reset token), else
// a management principal (the validator checked its scope); selfOnly refuses the latter.
func (e *Endpoints) factorCustomer(ctx context.Context, aid, customerID string, selfOnly bool) (*store.Account, *store.Customer, error) {
	if u := reqctx.UserFrom(ctx); u != nil {
		if u.Sub != customerID || u.Has(scopeSetPassword) {
			return nil, nil, problem.Forbidden("not_your_account", "a customer token may manage only its own customer's factors")
		}
	} else if selfOnly {
		return nil, nil, problem.Forbidden("customer_token_required", "only the customer, with their own access token, may do this")
	}
	acct, err := e.Accounts.Get(ctx, aid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, problem.NotFound("account")
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := e.Store.Customers().Get(ctx, aid, customerID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, problem.NotFound("customer")
	}
	if err != nil {
		return nil, nil, err
	}
	// A customer who has a factor changes factors only with a token of a sign-in that used
	// one: a stolen password alone (or an older password-only token) cannot remove them.
	if u := reqctx.UserFrom(ctx); u != nil && !slices.Contains(u.AMR, login.AMRMFA) {
		types, err := e.Login.FactorTypes(ctx, acct, c)
		if err != nil {
			return nil, nil, err
		}
		if len(types) > 0 {
			return nil, nil, problem.Forbidden("mfa_required", "sign in with your second factor to manage your factors")
		}
	}
	return acct, c, nil
}

// toFactor is the API view of a factor: never its secret or credential.
func toFactor(f *store.Factor, remaining int64) gen.Factor {
	out := gen.Factor{ID: f.ID, Type: gen.FactorType(f.Type), Name: f.Name, Confirmed: f.Confirmed,
		CreatedAt: f.CreatedAt}
	if f.LastUsedAt != nil {
		out.LastUsedAt = nullable.NewNullableWithValue(*f.LastUsedAt)
	}
	if f.Type == store.FactorRecovery {
		n := int(remaining)
		out.Remaining = &n
	}
	return out
}

// ListCustomerFactors implements GET .../customers/users/{customerId}/factors.
func (e *Endpoints) ListCustomerFactors(ctx context.Context, req gen.ListCustomerFactorsRequestObject) (gen.ListCustomerFactorsResponseObject, error) {
	acct, c, err := e.factorCustomer(ctx, req.Aid, req.CustomerID, false)
	if err != nil {
		return nil, err
	}
	fs, err := e.Store.Factors().List(ctx, acct.AID, c.ID)
	if err != nil {
		return nil, err
	}
	left, err := e.Store.Factors().RecoveryCodesLeft(ctx, acct.AID, c.ID)
	if err != nil {
		return nil, err
	}
	out := gen.ListCustomerFactors200JSONResponse{Items: make([]gen.Factor, 0, len(fs))}
	for i := range fs {
		out.Items = append(out.Items, toFactor(&fs[i], left))
	}
	return out, nil
}

// EnrolCustomerFactor implements POST .../customers/users/{customerId}/factors: a pending
// TOTP factor, its secret answered once with a QR code of its otpauth URI.
func (e *Endpoints) EnrolCustomerFactor(ctx context.Context, req gen.EnrolCustomerFactorRequestObject) (gen.EnrolCustomerFactorResponseObject, error) {
	acct, c, err := e.factorCustomer(ctx, req.Aid, req.CustomerID, true)
	if err != nil {
		return nil, err
	}
	if req.Body.Type != gen.FactorCreateTypeTotp {
		return nil, problem.BadField("unsupported_factor", "type", "only totp is enrolled here")
	}
	name := ""
	if req.Body.Name != nil {
		name = *req.Body.Name
	}
	en, err := e.Login.EnrolTOTP(ctx, acct, c, name)
	var re *login.RequestError
	if errors.As(err, &re) {
		return nil, problem.Conflict(re.Detail)
	}
	if err != nil {
		return nil, err
	}
	png, err := qrcode.Encode(en.URI, qrcode.Medium, 256)
	if err != nil {
		return nil, err
	}
	noStore := "no-store"
	return gen.EnrolCustomerFactor201JSONResponse{Headers: gen.EnrolCustomerFactor201ResponseHeaders{CacheControl: &noStore},
		Body: gen.TotpEnrolment{Factor: toFactor(en.Factor, 0), Secret: en.Secret, OtpauthURI: en.URI,
			QrCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)}}, nil
}

// otpProblem words CheckOTP's errors in problem+json.
func otpProblem(err error) error {
	var lo *login.LockedOut
	switch {
	case errors.Is(err, login.ErrBadOTP):
		return problem.Unprocessable("wrong_code", err.Error(), problem.FieldError{Field: "otp", Message: "wrong or used already"})
	case errors.As(err, &lo):
		oe := oauthError(err).(*oauth2.Error)
		p := problem.New(oe.Status, "try_later", oe.Description)
		p.Header = oe.Header
		return p
	}
	return err
}

// VerifyCustomerFactor implements POST .../factors/{factorId}/verify: the first code
// confirms a TOTP factor; the first confirmed factor brings a set of recovery codes.
func (e *Endpoints) VerifyCustomerFactor(ctx context.Context, req gen.VerifyCustomerFactorRequestObject) (gen.VerifyCustomerFactorResponseObject, error) {
	acct, c, err := e.factorCustomer(ctx, req.Aid, req.CustomerID, true)
	if err != nil {
		return nil, err
	}
	f, err := e.Store.Factors().Get(ctx, acct.AID, c.ID, req.FactorID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.Type != store.FactorTOTP) {
		return nil, problem.NotFound("factor")
	}
	if err != nil {
		return nil, err
	}
	if _, err := e.Login.CheckOTP(ctx, acct, c, req.Body.Otp, f.ID); err != nil {
		return nil, otpProblem(err)
	}
	if f, err = e.Store.Factors().Get(ctx, acct.AID, c.ID, f.ID); err != nil {
		return nil, err
	}
	noStore := "no-store"
	out := gen.VerifyCustomerFactor200JSONResponse{Headers: gen.VerifyCustomerFactor200ResponseHeaders{CacheControl: &noStore},
		Body: gen.FactorVerified{Factor: toFactor(f, 0)}}
	left, err := e.Store.Factors().RecoveryCodesLeft(ctx, acct.AID, c.ID)
	if err != nil {
		return nil, err
	}
	if left == 0 {
		codes, err := e.Login.NewRecoveryCodes(ctx, acct, c)
		if err != nil {
			return nil, err
		}
		out.Body.RecoveryCodes = &codes
	}
	return out, nil
}

// RegenerateRecoveryCodes implements POST .../customers/users/{customerId}/recovery-codes.
func (e *Endpoints) RegenerateRecoveryCodes(ctx context.Context, req gen.RegenerateRecoveryCodesRequestObject) (gen.RegenerateRecoveryCodesResponseObject, error) {
	acct, c, err := e.factorCustomer(ctx, req.Aid, req.CustomerID, true)
	if err != nil {
		return nil, err
	}
	types, err := e.Login.FactorTypes(ctx, acct, c)
	if err != nil {
		return nil, err
	}
	if len(types) == 0 {
		return nil, problem.Conflict("recovery codes stand in for a confirmed factor; enrol one first")
	}
	codes, err := e.Login.NewRecoveryCodes(ctx, acct, c)
	if err != nil {
		return nil, err
	}
	noStore := "no-store"
	return gen.RegenerateRecoveryCodes200JSONResponse{Headers: gen.RegenerateRecoveryCodes200ResponseHeaders{CacheControl: &noStore},
		Body: gen.RecoveryCodes{RecoveryCodes: codes}}, nil
}

// DeleteCustomerFactor implements DELETE .../factors/{factorId}.
func (e *Endpoints) DeleteCustomerFactor(ctx context.Context, req gen.DeleteCustomerFactorRequestObject) (gen.DeleteCustomerFactorResponseObject, error) {
	acct, c, err := e.factorCustomer(ctx, req.Aid, req.CustomerID, false)
	if err != nil {
		return nil, err
	}
	err = e.Store.Factors().Delete(ctx, acct.AID, c.ID, req.FactorID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, problem.NotFound("factor")
	}
	if err != nil {
		return nil, err
	}
	e.Login.FactorsRemoved(ctx, acct.AID, c.ID, req.FactorID, reqctx.UserFrom(ctx) != nil)
	return gen.DeleteCustomerFactor204Response{}, nil
}

// ResetCustomerFactors implements DELETE .../factors: an administrator removes them all,
// recorded on the audit trail (customer.factors_reset, the administrator as actor).
func (e *Endpoints) ResetCustomerFactors(ctx context.Context, req gen.ResetCustomerFactorsRequestObject) (gen.ResetCustomerFactorsResponseObject, error) {
	acct, c, err := e.factorCustomer(ctx, req.Aid, req.CustomerID, false)
	if err != nil {
		return nil, err
	}
	if _, err := e.Store.Factors().DeleteAll(ctx, acct.AID, c.ID); err != nil {
		return nil, err
	}
	e.Login.FactorsRemoved(ctx, acct.AID, c.ID, "", false)
	return gen.ResetCustomerFactors204Response{}, nil
}

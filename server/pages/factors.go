package pages

// The hosted factors page: the signed-in customer adds an authenticator app, removes a
// factor, and gets new recovery codes.

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/page"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// factorsCSRFCookie protects the factors page's forms on their own.
const factorsCSRFCookie = "twinid_csrf_factors"

// factorsCustomer is the browser's signed-in customer, who may manage factors, with the
// factors as they are before this request changes any: a customer with a factor only from
// a session signed in with one, so a stolen password alone cannot remove or add factors.
func (p *Pages) factorsCustomer(ctx context.Context, acct *store.Account) (*store.Customer, []store.Factor, error) {
	se, c := p.currentSession(ctx, acct.AID, reqctx.InfoFrom(ctx))
	if se == nil {
		return nil, nil, page.Fail(http.StatusUnauthorized, "Sign in first, then open this page again.")
	}
	fs, err := p.Store.Factors().List(ctx, acct.AID, c.ID)
	if err != nil {
		return nil, nil, err
	}
	if len(login.StepTypes(fs)) > 0 && !slices.Contains(strings.Fields(se.AMR), login.AMRMFA) {
		return nil, nil, page.Fail(http.StatusUnauthorized, "Sign in again with your second factor to change your factors.")
	}
	return c, fs, nil
}

// factorsData is the frame of the factors page's views, with a fresh CSRF cookie.
func (p *Pages) factorsData(ctx context.Context, acct *store.Account, title string) page.Data {
	ri := reqctx.InfoFrom(ctx)
	csrf := csrfValue(ri, factorsCSRFCookie)
	p.setCookie(ri, acct.AID, factorsCSRFCookie, csrf, int(loginFormTTL/time.Second))
	return page.Data{Title: title, Account: account.Effective(acct).EmailSenderName, CSRF: csrf,
		Action: p.Accounts.Issuer(acct.AID) + "/auth/factors"}
}

// factorsList renders the list view as the factors are now, after a change.
func (p *Pages) factorsList(ctx context.Context, acct *store.Account, c *store.Customer, status int, msg string) (page.HTML, error) {
	fs, err := p.Store.Factors().List(ctx, acct.AID, c.ID)
	if err != nil {
		return page.HTML{}, err
	}
	return p.factorsView(ctx, acct, fs, status, msg, nil)
}

// factorsView renders the list view of fs, with a passkey registration's form when pk is set.
func (p *Pages) factorsView(ctx context.Context, acct *store.Account, fs []store.Factor, status int, msg string, pk *page.Passkey) (page.HTML, error) {
	d := p.factorsData(ctx, acct, "Second factors")
	d.Message, d.Passkey = msg, pk
	day := func(t time.Time) string { return t.UTC().Format("2006-01-02") }
	for _, f := range fs {
		if f.Type == store.FactorTOTP && !f.Confirmed {
			continue
		}
		row := page.FactorRow{ID: f.ID, Name: f.Name, Type: f.Type, Created: day(f.CreatedAt)}
		if f.LastUsedAt != nil {
			row.LastUsed = day(*f.LastUsedAt)
		}
		d.Factors = append(d.Factors, row)
	}
	return render("factors", status, d)
}

func render(name string, status int, d page.Data) (page.HTML, error) {
	body, err := page.Render(name, d)
	return page.HTML{Status: status, Body: body}, err
}

// FactorsPage implements GET .../auth/factors.
func (p *Pages) FactorsPage(ctx context.Context, req gen.FactorsPageRequestObject) (gen.FactorsPageResponseObject, error) {
	acct, err := p.account(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	_, fs, err := p.factorsCustomer(ctx, acct)
	if err != nil {
		return nil, err
	}
	return p.factorsView(ctx, acct, fs, http.StatusOK, "", nil)
}

// SubmitFactorsPage implements POST .../auth/factors.
func (p *Pages) SubmitFactorsPage(ctx context.Context, req gen.SubmitFactorsPageRequestObject) (gen.SubmitFactorsPageResponseObject, error) {
	acct, err := p.account(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	b := req.Body
	cookie := reqctx.InfoFrom(ctx).Cookie(factorsCSRFCookie)
	if b == nil || b.Csrf == nil || b.Action == nil || cookie == "" || subtle.ConstantTimeCompare([]byte(cookie), []byte(*b.Csrf)) != 1 {
		return nil, page.Fail(http.StatusBadRequest, "The form has expired or was not sent by this browser. Open the page again.")
	}
	c, fs, err := p.factorsCustomer(ctx, acct)
	if err != nil {
		return nil, err
	}
	factorID := page.Str(b.Factor)
	switch *b.Action {
	case gen.Enrol:
		en, err := p.Login.EnrolTOTP(ctx, acct, c, "")
		var re *login.RequestError
		if errors.As(err, &re) {
			return p.factorsList(ctx, acct, c, http.StatusConflict, re.Detail)
		}
		if err != nil {
			return nil, err
		}
		return p.enrolView(ctx, acct, en.Factor.ID, en.URI, http.StatusOK, "")
	case gen.Confirm:
		f, err := p.Store.Factors().Get(ctx, acct.AID, c.ID, factorID)
		if err != nil || f.Type != store.FactorTOTP || f.Confirmed {
			return nil, page.Fail(http.StatusNotFound, "There is no such pending factor. Open the page again.")
		}
		if _, err := p.Login.CheckOTP(ctx, acct, c, page.Str(b.Otp), f.ID); err != nil {
			if errors.Is(err, login.ErrBadOTP) {
				return p.factorsList(ctx, acct, c, http.StatusUnauthorized, "That code is wrong; add the app again.")
			}
			status, msg, ok := failure(err)
			if !ok {
				return nil, err
			}
			return p.factorsList(ctx, acct, c, status, msg)
		}
		left, err := p.Store.Factors().RecoveryCodesLeft(ctx, acct.AID, c.ID)
		if err != nil {
			return nil, err
		}
		if left == 0 {
			return p.recoveryView(ctx, acct, c)
		}
		return p.factorsList(ctx, acct, c, http.StatusOK, "The authenticator app is on.")
	case gen.Remove:
		err := p.Store.Factors().Delete(ctx, acct.AID, c.ID, factorID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, page.Fail(http.StatusNotFound, "There is no such factor.")
		}
		if err != nil {
			return nil, err
		}
		p.Login.FactorsRemoved(ctx, acct.AID, c.ID, factorID, true)
		return p.factorsList(ctx, acct, c, http.StatusOK, "Removed.")
	case gen.Passkey:
		cer, err := p.Login.BeginPasskeyRegistration(ctx, acct, c)
		if errors.Is(err, login.ErrPasskey) {
			return p.factorsView(ctx, acct, fs, http.StatusConflict, "Passkeys are not available here.", nil)
		}
		if err != nil {
			return nil, err
		}
		return p.factorsView(ctx, acct, fs, http.StatusOK, "", &page.Passkey{Mode: "create", Options: cer.Options,
			State: cer.State, Label: "Create the passkey", Action: string(gen.PasskeyFinish)})
	case gen.PasskeyFinish:
		_, err := p.Login.FinishPasskeyRegistration(ctx, acct, c, page.Str(b.Passkey), page.Str(b.Credential), "")
		if errors.Is(err, login.ErrPasskey) {
			// Refused before anything was stored: the factors are as they were.
			return p.factorsView(ctx, acct, fs, http.StatusBadRequest, "The passkey could not be registered. Try again.", nil)
		}
		if err != nil {
			return nil, err
		}
		left, err := p.Store.Factors().RecoveryCodesLeft(ctx, acct.AID, c.ID)
		if err != nil {
			return nil, err
		}
		if left == 0 {
			return p.recoveryView(ctx, acct, c)
		}
		return p.factorsList(ctx, acct, c, http.StatusOK, "The passkey is added.")
	case gen.Recovery:
		if len(login.StepTypes(fs)) == 0 {
			return p.factorsView(ctx, acct, fs, http.StatusConflict, "Add an authenticator app first; recovery codes stand in for it.", nil)
		}
		return p.recoveryView(ctx, acct, c)
	}
	return nil, page.Fail(http.StatusBadRequest, "The form is incomplete.")
}

// enrolView shows a pending TOTP factor's key as a QR code with the form for its first code.
func (p *Pages) enrolView(ctx context.Context, acct *store.Account, factorID, uri string, status int, msg string) (page.HTML, error) {
	d := p.factorsData(ctx, acct, "Add an authenticator app")
	d.Message, d.Code = msg, factorID
	var err error
	if d.Image, d.Secret, err = totpImage(uri); err != nil {
		return page.HTML{}, err
	}
	return render("factor-enrol", status, d)
}

// recoveryView replaces the customer's recovery codes and shows the new ones once.
func (p *Pages) recoveryView(ctx context.Context, acct *store.Account, c *store.Customer) (page.HTML, error) {
	codes, err := p.Login.NewRecoveryCodes(ctx, acct, c)
	if err != nil {
		return page.HTML{}, err
	}
	d := p.factorsData(ctx, acct, "Your recovery codes")
	d.Codes, d.Link, d.LinkText = codes, d.Action, "Back to your factors"
	return render("recovery", http.StatusOK, d)
}

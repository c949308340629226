package upstream

import (
	"context"
	"errors"
	"slices"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/store"
)

// link finds or creates the customer of an upstream identity. A stored link wins;
// else a verified email or phone number matches an existing customer when the grant allows
// it (several matches are an error); else a new customer is created.
func (u *Login) link(ctx context.Context, acct *store.Account, g *store.Grant, authority string, claims map[string]any) (*store.Customer, error) {
	sub := claims["sub"].(string)
	c, err := u.Store.Customers().ByIdentity(ctx, acct.AID, authority, sub)
	if err == nil {
		if c.Status != store.CustomerActive {
			return nil, oauth2.InvalidGrant("the customer can no longer sign in")
		}
		return c, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	typ := string(gen.CustomerTypeCustomer)
	email, _ := claims["email"].(string)
	phone, _ := claims["phone_number"].(string)
	_, emailKey, emailOK := login.NormEmail(email)
	phoneE164, phoneOK := login.NormPhone(phone)
	// Email and phone are each unique per account and type, so each matches at most one
	// customer; the two may match different ones.
	found := map[string]store.Customer{}
	match := func(allowed, verified bool, emailNorm, phone string) error {
		if !allowed || !verified {
			return nil
		}
		c, err := u.Store.Customers().Find(ctx, acct.AID, typ, emailNorm, phone)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err == nil {
			found[c.ID] = *c
		}
		return err
	}
	if err := match(slices.Contains(g.Scopes, matchEmailScope), emailOK && claims["email_verified"] == true, emailKey, ""); err != nil {
		return nil, err
	}
	if err := match(slices.Contains(g.Scopes, matchPhoneScope), phoneOK && claims["phone_number_verified"] == true, "", phoneE164); err != nil {
		return nil, err
	}
	x := &store.ExternalIdentity{AID: acct.AID, Authority: authority, Subject: sub, CreatedAt: u.Now().UTC()}
	switch len(found) {
	case 0:
	case 1:
		for _, c := range found {
			if c.Status != store.CustomerActive {
				return nil, oauth2.InvalidGrant("the matching customer can no longer sign in")
			}
			x.CustomerID = c.ID
			switch err := u.Store.Customers().LinkIdentity(ctx, x, nil); {
			case err == nil:
				u.linked(ctx, g, x, "matched an existing customer")
			case !errors.Is(err, store.ErrConflict):
				return nil, err
			}
			return &c, nil
		}
	default:
		return nil, oauth2.InvalidGrant("the upstream identity matches several customers; an administrator must resolve it")
	}
	now := u.Now().UTC()
	nc := &store.Customer{ID: keys.NewID(), AID: acct.AID, Type: typ, Status: store.CustomerActive, Scopes: []string{},
		Metadata: map[string]any{}, CreatedAt: now, UpdatedAt: now}
	if name, ok := claims["name"].(string); ok {
		nc.Name, _ = login.CleanText(name)
	}
	// Identifiers are taken over only when free: an unverified or unmatched email never
	// lands on (or collides with) another customer.
	if emailOK {
		if _, err := u.Store.Customers().Find(ctx, acct.AID, typ, emailKey, ""); errors.Is(err, store.ErrNotFound) {
			display, key, _ := login.NormEmail(email)
			nc.Email, nc.EmailNorm = &display, &key
			nc.EmailVerified = claims["email_verified"] == true
		}
	}
	if phoneOK {
		if _, err := u.Store.Customers().Find(ctx, acct.AID, typ, "", phoneE164); errors.Is(err, store.ErrNotFound) {
			nc.PhoneNumber = &phoneE164
		}
	}
	x.CustomerID = nc.ID
	if err := u.Store.Customers().LinkIdentity(ctx, x, nc); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// A parallel login of the same identity created it first.
			return u.Store.Customers().ByIdentity(ctx, acct.AID, authority, sub)
		}
		return nil, err
	}
	u.linked(ctx, g, x, "created the customer")
	u.Audit.Record(ctx, audit.Event{AID: acct.AID, Type: gen.CustomerCreated, Actor: audit.Customer(nc.ID), ClientID: g.ClientID,
		SubjectType: "customer", SubjectID: nc.ID, Reason: "upstream " + authority})
	return nc, nil
}

// linked puts a new link of an upstream identity to a customer on the audit trail.
func (u *Login) linked(ctx context.Context, g *store.Grant, x *store.ExternalIdentity, how string) {
	u.Audit.Record(ctx, audit.Event{AID: x.AID, Type: gen.IdentityLinked, Actor: audit.Customer(x.CustomerID), ClientID: g.ClientID,
		SubjectType: "customer", SubjectID: x.CustomerID, Reason: "upstream " + x.Authority + ": " + how})
}

package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/manage"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// SwaggerUIClientID is the public client Swagger UI logs in with.
const SwaggerUIClientID = "swagger-ui"

// Bootstrap is what the first start created.
type Bootstrap struct {
	// Created is false when the database already had the root account.
	Created      bool
	ClientID     string
	ClientSecret string // empty when the secret came from the environment (never printed)
}

// BootstrapOptions fix the admin's credentials instead of generating them.
type BootstrapOptions struct {
	ClientID     string
	ClientSecret string
	// AdminEmail and AdminPassword, when set, create a person who administers every
	// account: a root customer holding the management scope, who signs in to Swagger UI.
	AdminEmail    string
	AdminPassword string
}

// EnsureBootstrap creates, on an empty database, the root account, the swagger-ui and
// console public clients and an admin service account with a secret, in one transaction.
// On a bootstrapped database it only adds the console's client when it is missing.
func (s *Server) EnsureBootstrap(ctx context.Context, opt BootstrapOptions) (*Bootstrap, error) {
	if _, err := s.store.Accounts().Get(ctx, RootAID); err == nil {
		return &Bootstrap{}, s.ensureConsole(ctx)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	acct, scopes, signing, err := manage.NewAccountRows(s.keys, s.now(), RootAID, "Root", store.AccountSettings{})
	if err != nil {
		return nil, err
	}
	out := &Bootstrap{Created: true, ClientID: opt.ClientID}
	secret := opt.ClientSecret
	if out.ClientID == "" {
		out.ClientID = keys.NewUUID4()
	}
	if secret == "" {
		if secret, err = keys.NewSecret(); err != nil {
			return nil, err
		}
		out.ClientSecret = secret
	}
	now := s.now().UTC()
	var manageID string
	for _, sc := range scopes {
		if sc.Scope == reqctx.ScopeManage {
			manageID = sc.ID
		}
	}
	ui := &store.Client{
		ID: keys.NewID(), AID: RootAID, ClientID: SwaggerUIClientID, Kind: store.KindPublic, Name: "Swagger UI",
		Description:            "The embedded Swagger UI (authorization code with PKCE)",
		RedirectURIs:           []string{s.cfg.PublicURL + "/swagger/oauth2-redirect.html"},
		PostLogoutRedirectURIs: []string{s.cfg.PublicURL + "/swagger/"},
		CreatedAt:              now, UpdatedAt: now,
	}
	admin := &store.Client{
		ID: keys.NewID(), AID: RootAID, ClientID: out.ClientID, Kind: store.KindServiceAccount, Name: "admin",
		Description:  "Bootstrap administrator: manages every account",
		RedirectURIs: []string{}, PostLogoutRedirectURIs: []string{},
		CreatedAt: now, UpdatedAt: now,
	}
	sec := &store.Secret{
		ID: keys.NewID(), ClientPK: admin.ID, Hash: s.keyring.HashSecret(secret), Hint: secret[max(0, len(secret)-4):],
		Description: "bootstrap", CreatedAt: now,
	}
	// Swagger UI may obtain management tokens for people who hold the management scopes.
	uiGrant := &store.Grant{
		ID: keys.NewID(), AID: RootAID, ClientPK: ui.ID, Audience: ManagementAudience, GrantType: store.GrantAuthorizationCode,
		Scopes: []string{reqctx.ScopeManage, reqctx.ScopeRead}, CreatedAt: now, UpdatedAt: now,
	}
	consoleClient, consoleGrant := s.consoleRows(now)
	var person *store.Customer
	if opt.AdminEmail != "" {
		if person, err = s.adminPerson(opt.AdminEmail, "Administrator", opt.AdminPassword, now,
			"TWINID_BOOTSTRAP_ADMIN_EMAIL", "TWINID_BOOTSTRAP_ADMIN_PASSWORD"); err != nil {
			return nil, err
		}
	}
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.Accounts().Create(ctx, acct, scopes, signing...); err != nil {
			return err
		}
		if err := tx.Clients().Create(ctx, ui, nil); err != nil {
			return err
		}
		if err := tx.Grants().Create(ctx, uiGrant); err != nil {
			return err
		}
		if err := createConsole(ctx, tx, consoleClient, consoleGrant); err != nil {
			return err
		}
		if person != nil {
			if err := tx.Customers().Create(ctx, person, nil); err != nil {
				return err
			}
		}
		if err := tx.Clients().Create(ctx, admin, []string{manageID}); err != nil {
			return err
		}
		return tx.Secrets().Create(ctx, sec, manage.MaxSecretsPerClient)
	})
	if errors.Is(err, store.ErrConflict) {
		// Another node bootstrapped at the same moment; its admin is the one.
		return &Bootstrap{}, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// adminPerson is a person who administers every account: an active root customer holding
// the management scope. emailName and passwordName name the inputs in errors.
func (s *Server) adminPerson(email, name, password string, now time.Time, emailName, passwordName string) (*store.Customer, error) {
	person := &store.Customer{ID: keys.NewID(), AID: RootAID, Type: "customer", Name: name,
		Status: store.CustomerActive, EmailVerified: true, Scopes: []string{reqctx.ScopeManage},
		Metadata: map[string]any{}, CreatedAt: now, UpdatedAt: now}
	if err := manage.SetEmail(person, email); err != nil {
		return nil, fmt.Errorf("%s: %w", emailName, err)
	}
	if err := passwords.Check(password); err != nil {
		return nil, fmt.Errorf("%s: %w", passwordName, err)
	}
	var err error
	if person.PasswordHash, err = passwords.Hash(password, s.pwParams); err != nil {
		return nil, err
	}
	return person, nil
}

// ErrNoRoot: the database has not been bootstrapped yet.
var ErrNoRoot = errors.New("the database has no root account yet: start twinid serve once first")

// ErrPersonExists: the root account already has a customer with that email.
var ErrPersonExists = errors.New("the root account already has a customer with this email")

// AddPerson adds, after the first start, a person who administers every account and signs
// in to Swagger UI with the authorization code flow, as TWINID_BOOTSTRAP_ADMIN_EMAIL does
// at first start. It returns the new customer's id.
func (s *Server) AddPerson(ctx context.Context, email, name, password string) (string, error) {
	if _, err := s.store.Accounts().Get(ctx, RootAID); errors.Is(err, store.ErrNotFound) {
		return "", ErrNoRoot
	} else if err != nil {
		return "", err
	}
	if name == "" {
		name = "Administrator"
	}
	person, err := s.adminPerson(email, name, password, s.now().UTC(), "--email", "the password")
	if err != nil {
		return "", err
	}
	if err := s.store.Customers().Create(ctx, person, nil); errors.Is(err, store.ErrConflict) {
		return "", ErrPersonExists
	} else if err != nil {
		return "", err
	}
	return person.ID, nil
}

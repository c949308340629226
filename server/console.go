package server

import (
	"context"
	"errors"
	"time"

	"github.com/twinid/twinid/console"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/reqctx"
	"github.com/twinid/twinid/store"
)

// ConsoleClientID is the public client the admin console (/console/) signs people in with.
const ConsoleClientID = "console"

// consoleRows are the console's client and its grant: code + PKCE for people who hold the
// management scopes, like Swagger UI's.
func (s *Server) consoleRows(now time.Time) (*store.Client, *store.Grant) {
	c := &store.Client{
		ID: keys.NewID(), AID: reqctx.RootAID, ClientID: ConsoleClientID, Kind: store.KindPublic, Name: "Admin console",
		Description:            "The embedded admin console (authorization code with PKCE)",
		RedirectURIs:           []string{s.cfg.PublicURL + console.Prefix + "callback"},
		PostLogoutRedirectURIs: []string{s.cfg.PublicURL + console.Prefix},
		CreatedAt:              now, UpdatedAt: now,
	}
	g := &store.Grant{
		ID: keys.NewID(), AID: reqctx.RootAID, ClientPK: c.ID, Audience: reqctx.ManagementAudience,
		GrantType: store.GrantAuthorizationCode, Scopes: []string{reqctx.ScopeManage, reqctx.ScopeRead},
		CreatedAt: now, UpdatedAt: now,
	}
	return c, g
}

// createConsole stores the console's client and grant with st (a transaction or the store).
func createConsole(ctx context.Context, st *store.Store, c *store.Client, g *store.Grant) error {
	if err := st.Clients().Create(ctx, c, nil); err != nil {
		return err
	}
	return st.Grants().Create(ctx, g)
}

// ensureConsole creates the console's client in a database bootstrapped before the console
// existed; a database that has it (or got it from another node at the same moment) is left
// as it is.
func (s *Server) ensureConsole(ctx context.Context) error {
	if _, err := s.store.Clients().ByClientID(ctx, reqctx.RootAID, ConsoleClientID); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	c, g := s.consoleRows(s.now().UTC())
	err := s.store.InTx(ctx, func(tx *store.Store) error { return createConsole(ctx, tx, c, g) })
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

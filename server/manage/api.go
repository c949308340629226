package manage

import (
	"time"

	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/login"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

// Deps is what the Management API needs from the server.
type Deps struct {
	// Store holds the rows every handler reads and writes.
	Store *store.Store
	// Accounts loads accounts through the node cache and names their issuers; issuer and
	// tokenUri are built from its public URL, never from request headers.
	Accounts *account.Accounts
	// Keys generates and rotates signing keys and caches the key sets of the token path.
	Keys *keys.Keys
	// Keyring hashes client secrets and seals upstream client secrets.
	Keyring *keys.Keyring
	// Clients is the protocol's client cache, dropped after every client change.
	Clients *clients.Clients
	// Tokens holds the node's verified access tokens, dropped for an account deleted here.
	Tokens *tokens.Tokens
	// Login hashes passwords, makes and mails invitation codes, and names the throttle
	// keys that UnlockCustomer clears.
	Login *login.Login
	// Audit records every change made here, once it is done.
	Audit *audit.Recorder
	// Now is the server's one clock; Keys and Login must be built with the same one.
	Now func() time.Time
}

// API implements the Management API operations of gen.StrictServerInterface.
type API struct {
	store    *store.Store
	accounts *account.Accounts
	keys     *keys.Keys
	keyring  *keys.Keyring
	clients  *clients.Clients
	tokens   *tokens.Tokens
	login    *login.Login
	audit    *audit.Recorder
	now      func() time.Time
	// secrets serves service accounts and application clients alike.
	secrets secrets
}

// New returns the Management API over d.
func New(d Deps) *API {
	return &API{
		store: d.Store, accounts: d.Accounts, keys: d.Keys, keyring: d.Keyring, clients: d.Clients,
		tokens: d.Tokens, login: d.Login, audit: d.Audit, now: d.Now,
		secrets: secrets{store: d.Store, keyring: d.Keyring, clients: d.Clients, now: d.Now},
	}
}

package store

// The Store hands out one small type per table group, so that no type carries every query
// and a caller names what it works on: st.Customers().Find(...), st.Tokens().Rotate(...).

// Accounts are the tenants and their settings.
type Accounts struct{ s *Store }

// Scopes are the accounts' scope catalogues.
type Scopes struct{ s *Store }

// Clients are service accounts and application clients.
type Clients struct{ s *Store }

// Secrets are the clients' secrets (stored as keyed hashes).
type Secrets struct{ s *Store }

// Grants are what application clients may obtain, per audience.
type Grants struct{ s *Store }

// Customers are the end users, their passwords and linked upstream identities.
type Customers struct{ s *Store }

// Codes are the emailed verification codes (password reset, invitation).
type Codes struct{ s *Store }

// Throttle counts login and code attempts per key, cluster-wide.
type Throttle struct{ s *Store }

// Tokens are refresh token families and revoked access tokens.
type Tokens struct{ s *Store }

// Sessions are the browsers' sign-in sessions.
type Sessions struct{ s *Store }

// AuthCodes are the authorization codes of the browser sign-in.
type AuthCodes struct{ s *Store }

// Keys are the accounts' signing keys.
type Keys struct{ s *Store }

// Events are the accounts' audit trails.
type Events struct{ s *Store }

// Factors are the customers' second factors (TOTP, recovery codes, WebAuthn).
type Factors struct{ s *Store }

// MFATokens are the pending second steps of API logins.
type MFATokens struct{ s *Store }

// Accounts returns the account queries.
func (s *Store) Accounts() Accounts { return Accounts{s} }

// Scopes returns the scope queries.
func (s *Store) Scopes() Scopes { return Scopes{s} }

// Clients returns the client queries.
func (s *Store) Clients() Clients { return Clients{s} }

// Secrets returns the secret queries.
func (s *Store) Secrets() Secrets { return Secrets{s} }

// Grants returns the grant queries.
func (s *Store) Grants() Grants { return Grants{s} }

// Customers returns the customer queries.
func (s *Store) Customers() Customers { return Customers{s} }

// Codes returns the verification code queries.
func (s *Store) Codes() Codes { return Codes{s} }

// Throttle returns the attempt counters.
func (s *Store) Throttle() Throttle { return Throttle{s} }

// Tokens returns the token queries.
func (s *Store) Tokens() Tokens { return Tokens{s} }

// Sessions returns the session queries.
func (s *Store) Sessions() Sessions { return Sessions{s} }

// AuthCodes returns the authorization code queries.
func (s *Store) AuthCodes() AuthCodes { return AuthCodes{s} }

// Keys returns the signing key queries.
func (s *Store) Keys() Keys { return Keys{s} }

// Events returns the audit trail queries.
func (s *Store) Events() Events { return Events{s} }

// Factors returns the second-factor queries.
func (s *Store) Factors() Factors { return Factors{s} }

// MFATokens returns the mfa_token queries.
func (s *Store) MFATokens() MFATokens { return MFATokens{s} }

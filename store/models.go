package store

import (
	"context"
	"reflect"
	"time"

	"gorm.io/gorm/schema"
)

// emptyJSON is the serializer of the list and map columns. GORM's json serializer writes a
// nil slice or map as NULL, which the columns' DEFAULT '[]' does not catch (the column is
// named in the INSERT) and their NOT NULL refuses; a nil value means "none", so it is
// written as an empty JSON list or object instead. Reading is GORM's.
type emptyJSON struct{ schema.JSONSerializer }

func (emptyJSON) Value(ctx context.Context, field *schema.Field, dst reflect.Value, fieldValue any) (any, error) {
	if v := reflect.ValueOf(fieldValue); v.IsValid() && v.IsNil() {
		switch v.Kind() {
		case reflect.Slice:
			return "[]", nil
		case reflect.Map:
			return "{}", nil
		}
	}
	return schema.JSONSerializer{}.Value(ctx, field, dst, fieldValue)
}

func init() { schema.RegisterSerializer("emptyjson", emptyJSON{}) }

// Client kinds. Service accounts are confidential machine clients using client_credentials.
const (
	KindServiceAccount = "service_account"
	KindPublic         = "public"
	KindConfidential   = "confidential"
)

// AccountSettings are the per-account knobs, stored as JSON. Zero values mean "the default",
// which the server applies; the store keeps what was set. An empty SigningAlg is RS256: new
// accounts store their algorithm, so only accounts from before that store none.
type AccountSettings struct {
	SigningAlg          string `json:"signingAlg,omitempty"`
	AccessTokenLifetime int    `json:"accessTokenLifetime,omitempty"`
	KeyPropagationDelay *int   `json:"keyPropagationDelay,omitempty"`
	KeyRotationInterval int    `json:"keyRotationInterval,omitempty"`
	TokenRatePerMinute  int    `json:"tokenRatePerMinute,omitempty"`
	TokenRateBurst      int    `json:"tokenRateBurst,omitempty"`

	RefreshIdleLifetime     int    `json:"refreshTokenIdleLifetime,omitempty"`
	RefreshAbsoluteLifetime int    `json:"refreshTokenAbsoluteLifetime,omitempty"`
	RefreshReuseGrace       *int   `json:"refreshTokenReuseGrace,omitempty"`
	LoginMaxFailures        int    `json:"loginMaxFailures,omitempty"`
	LoginIPMaxFailures      int    `json:"loginIpMaxFailures,omitempty"`
	LoginLockoutSeconds     int    `json:"loginLockoutSeconds,omitempty"`
	InvitationLifetime      int    `json:"invitationLifetime,omitempty"`
	EmailSenderName         string `json:"emailSenderName,omitempty"`
	SessionIdleLifetime     int    `json:"sessionIdleLifetime,omitempty"`
	SessionAbsoluteLifetime int    `json:"sessionAbsoluteLifetime,omitempty"`
	// MFA is off, optional (the default) or required.
	MFA string `json:"mfa,omitempty"`
}

// Account is a tenant and its own issuer.
type Account struct {
	AID       string          `gorm:"column:aid;primaryKey"`
	Name      string          `gorm:"column:name"`
	Settings  AccountSettings `gorm:"column:settings;serializer:json"`
	CreatedAt time.Time       `gorm:"column:created_at"`
	UpdatedAt time.Time       `gorm:"column:updated_at"`
}

// Scope is an entry of an account's scope catalogue.
type Scope struct {
	ID          string    `gorm:"column:id;primaryKey"`
	AID         string    `gorm:"column:aid"`
	ServiceName string    `gorm:"column:service_name"`
	Audience    string    `gorm:"column:audience"`
	Scope       string    `gorm:"column:scope"`
	Description string    `gorm:"column:description"`
	Builtin     bool      `gorm:"column:builtin"`
	CreatedAt   time.Time `gorm:"column:created_at"`
}

// Client is an OAuth client: a service account, or (later) an application.
type Client struct {
	ID                     string   `gorm:"column:id;primaryKey"`
	AID                    string   `gorm:"column:aid"`
	ClientID               string   `gorm:"column:client_id"`
	Kind                   string   `gorm:"column:kind"`
	Name                   string   `gorm:"column:name"`
	Description            string   `gorm:"column:description"`
	RedirectURIs           []string `gorm:"column:redirect_uris;serializer:emptyjson"`
	PostLogoutRedirectURIs []string `gorm:"column:post_logout_redirect_uris;serializer:emptyjson"`
	AllowedOrigins         []string `gorm:"column:allowed_origins;serializer:emptyjson"`
	RatePerMinute          *int     `gorm:"column:rate_per_minute"`
	RateBurst              *int     `gorm:"column:rate_burst"`
	// MFA tightens the account's mfa setting for this client ("" keeps it).
	MFA       string    `gorm:"column:mfa"`
	CreatedAt time.Time `gorm:"column:created_at"`
	UpdatedAt time.Time `gorm:"column:updated_at"`

	// Scopes are loaded with the client, in the order they were assigned.
	Scopes []Scope `gorm:"-"`
}

// clientScope links a client to a scope of its account.
type clientScope struct {
	ClientPK string `gorm:"column:client_pk;primaryKey"`
	ScopeID  string `gorm:"column:scope_id;primaryKey"`
	Position int    `gorm:"column:position"`
}

func (clientScope) TableName() string { return "client_scopes" }

// Secret is a client secret; only its keyed hash is stored.
type Secret struct {
	ID          string     `gorm:"column:id;primaryKey"`
	ClientPK    string     `gorm:"column:client_pk"`
	Hash        []byte     `gorm:"column:hash"`
	Hint        string     `gorm:"column:hint"`
	Description string     `gorm:"column:description"`
	CreatedAt   time.Time  `gorm:"column:created_at"`
	ExpiresAt   *time.Time `gorm:"column:expires_at"`
	LastUsedAt  *time.Time `gorm:"column:last_used_at"`
}

func (Secret) TableName() string { return "client_secrets" }

// SigningKey is a token signing key of an account. PrivateKey is encrypted by the caller.
type SigningKey struct {
	KID         string     `gorm:"column:kid;primaryKey"`
	AID         string     `gorm:"column:aid"`
	Alg         string     `gorm:"column:alg"`
	PrivateKey  []byte     `gorm:"column:private_key"`
	PublicJWK   string     `gorm:"column:public_jwk"`
	CreatedAt   time.Time  `gorm:"column:created_at"`
	ActivatesAt time.Time  `gorm:"column:activates_at"`
	RetiresAt   *time.Time `gorm:"column:retires_at"`
}

// Grant types of application clients.
const (
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
	GrantAuthorizationCode = "authorization_code"
)

// Grant says what an application client may obtain for one audience with one grant type.
type Grant struct {
	ID               string    `gorm:"column:id;primaryKey"`
	AID              string    `gorm:"column:aid"`
	ClientPK         string    `gorm:"column:client_pk"`
	Audience         string    `gorm:"column:audience"`
	GrantType        string    `gorm:"column:grant_type"`
	Scopes           []string  `gorm:"column:scopes;serializer:emptyjson"`
	OIDCAuthority    string    `gorm:"column:oidc_authority"`
	OIDCClientID     string    `gorm:"column:oidc_client_id"`
	OIDCClientSecret []byte    `gorm:"column:oidc_client_secret"`
	CreatedAt        time.Time `gorm:"column:created_at"`
	UpdatedAt        time.Time `gorm:"column:updated_at"`

	// ClientID is the OAuth client_id of ClientPK, filled by the queries that join it.
	ClientID string `gorm:"->;column:client_id"`
}

// Customer statuses and types.
const (
	CustomerInvited  = "invited"
	CustomerActive   = "active"
	CustomerDisabled = "disabled"
)

// Customer is an end user of an account.
type Customer struct {
	ID            string         `gorm:"column:id;primaryKey"`
	AID           string         `gorm:"column:aid"`
	Type          string         `gorm:"column:type"`
	Email         *string        `gorm:"column:email"`
	EmailNorm     *string        `gorm:"column:email_norm"`
	PhoneNumber   *string        `gorm:"column:phone_number"`
	Name          string         `gorm:"column:name"`
	Status        string         `gorm:"column:status"`
	EmailVerified bool           `gorm:"column:email_verified"`
	Scopes        []string       `gorm:"column:scopes;serializer:emptyjson"`
	Metadata      map[string]any `gorm:"column:metadata;serializer:emptyjson"`
	PasswordHash  string         `gorm:"column:password_hash"`
	CreatedAt     time.Time      `gorm:"column:created_at"`
	UpdatedAt     time.Time      `gorm:"column:updated_at"`
}

// RefreshToken is one token of a rotation family; only its keyed hash is stored. Times are
// Unix milliseconds, 0 meaning "not yet".
type RefreshToken struct {
	ID          string `gorm:"column:id;primaryKey"`
	AID         string `gorm:"column:aid"`
	FamilyID    string `gorm:"column:family_id"`
	Hash        []byte `gorm:"column:hash"`
	ClientID    string `gorm:"column:client_id"`
	CustomerID  string `gorm:"column:customer_id"`
	Audience    string `gorm:"column:audience"`
	Scopes      string `gorm:"column:scopes"`
	CreatedMS   int64  `gorm:"column:created_ms"`
	IdleUntilMS int64  `gorm:"column:idle_until_ms"`
	UntilMS     int64  `gorm:"column:until_ms"`
	RotatedMS   int64  `gorm:"column:rotated_ms"`
	RevokedMS   int64  `gorm:"column:revoked_ms"`
	// AMR are the authentication methods of the family's login (RFC 8176), space-separated.
	AMR string `gorm:"column:amr"`
}

// Verification code purposes.
const (
	PurposeReset      = "reset"
	PurposeInvitation = "invitation"
)

// VerificationCode is a single-use code mailed to a customer; only its keyed hash is stored.
type VerificationCode struct {
	ID         string `gorm:"column:id;primaryKey"`
	AID        string `gorm:"column:aid"`
	CustomerID string `gorm:"column:customer_id"`
	Purpose    string `gorm:"column:purpose"`
	CodeHash   []byte `gorm:"column:code_hash"`
	Attempts   int    `gorm:"column:attempts"`
	CreatedMS  int64  `gorm:"column:created_ms"`
	ExpiresMS  int64  `gorm:"column:expires_ms"`
	UsedMS     int64  `gorm:"column:used_ms"`
}

// throttle is a failed-login counter.
type throttle struct {
	AID           string `gorm:"column:aid;primaryKey"`
	Key           string `gorm:"column:key;primaryKey"`
	Failures      int    `gorm:"column:failures"`
	Lockouts      int    `gorm:"column:lockouts"`
	LockedUntilMS int64  `gorm:"column:locked_until_ms"`
	UpdatedMS     int64  `gorm:"column:updated_ms"`
}

func (throttle) TableName() string { return "login_throttle" }

// revokedToken is an access token revoked before its expiry.
type revokedToken struct {
	JTI       string `gorm:"column:jti;primaryKey"`
	AID       string `gorm:"column:aid"`
	ExpiresMS int64  `gorm:"column:expires_ms"`
}

func (revokedToken) TableName() string { return "revoked_tokens" }

// Session is a browser session (SSO) of a customer; only its keyed hash is stored.
type Session struct {
	ID          string `gorm:"column:id;primaryKey"`
	AID         string `gorm:"column:aid"`
	Hash        []byte `gorm:"column:hash"`
	CustomerID  string `gorm:"column:customer_id"`
	AuthTimeMS  int64  `gorm:"column:auth_time_ms"`
	IdleUntilMS int64  `gorm:"column:idle_until_ms"`
	UntilMS     int64  `gorm:"column:until_ms"`
	// AMR are the authentication methods of the sign-in (RFC 8176), space-separated.
	AMR string `gorm:"column:amr"`
}

// AuthCode is an authorization code (single use); only its keyed hash is stored.
type AuthCode struct {
	ID            string `gorm:"column:id;primaryKey"`
	AID           string `gorm:"column:aid"`
	Hash          []byte `gorm:"column:hash"`
	ClientID      string `gorm:"column:client_id"`
	RedirectURI   string `gorm:"column:redirect_uri"`
	CustomerID    string `gorm:"column:customer_id"`
	SessionID     string `gorm:"column:session_id"`
	Scopes        string `gorm:"column:scopes"`
	Audience      string `gorm:"column:audience"`
	Nonce         string `gorm:"column:nonce"`
	CodeChallenge string `gorm:"column:code_challenge"`
	AuthTimeMS    int64  `gorm:"column:auth_time_ms"`
	ExpiresMS     int64  `gorm:"column:expires_ms"`
	UsedMS        int64  `gorm:"column:used_ms"`
	FamilyID      string `gorm:"column:family_id"`
	AccessJTI     string `gorm:"column:access_jti"`
	AccessExpMS   int64  `gorm:"column:access_exp_ms"`
	// ReplayedMS is when the used code was first presented again (0: never).
	ReplayedMS int64 `gorm:"column:replayed_ms"`
	// AMR are the session's authentication methods when the code was issued.
	AMR string `gorm:"column:amr"`
}

// ExternalIdentity links an upstream identity (authority + subject) to a customer.
type ExternalIdentity struct {
	AID        string    `gorm:"column:aid;primaryKey"`
	Authority  string    `gorm:"column:authority;primaryKey"`
	Subject    string    `gorm:"column:subject;primaryKey"`
	CustomerID string    `gorm:"column:customer_id"`
	CreatedAt  time.Time `gorm:"column:created_at"`
}

// MFAToken is the single-use mfa_token an API login answers when a second factor is due;
// only its keyed hash is stored. It carries what the login would have issued.
type MFAToken struct {
	ID         string `gorm:"column:id;primaryKey"`
	AID        string `gorm:"column:aid"`
	Hash       []byte `gorm:"column:hash"`
	ClientID   string `gorm:"column:client_id"`
	CustomerID string `gorm:"column:customer_id"`
	Audience   string `gorm:"column:audience"`
	Scopes     string `gorm:"column:scopes"`
	Refresh    bool   `gorm:"column:refresh"`
	AMR        string `gorm:"column:amr"`
	ExpiresMS  int64  `gorm:"column:expires_ms"`
	UsedMS     int64  `gorm:"column:used_ms"`
}

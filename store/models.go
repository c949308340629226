package store

import "time"

// Client kinds. Service accounts are confidential machine clients using client_credentials.
const (
	KindServiceAccount = "service_account"
	KindPublic         = "public"
	KindConfidential   = "confidential"
)

// AccountSettings are the per-account knobs, stored as JSON. Zero values mean "the default",
// which the server applies; the store keeps what was set.
type AccountSettings struct {
	SigningAlg          string `json:"signingAlg,omitempty"`
	AccessTokenLifetime int    `json:"accessTokenLifetime,omitempty"`
	KeyPropagationDelay *int   `json:"keyPropagationDelay,omitempty"`
	KeyRotationInterval int    `json:"keyRotationInterval,omitempty"`
	TokenRatePerMinute  int    `json:"tokenRatePerMinute,omitempty"`
	TokenRateBurst      int    `json:"tokenRateBurst,omitempty"`
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
	ID                     string    `gorm:"column:id;primaryKey"`
	AID                    string    `gorm:"column:aid"`
	ClientID               string    `gorm:"column:client_id"`
	Kind                   string    `gorm:"column:kind"`
	Name                   string    `gorm:"column:name"`
	Description            string    `gorm:"column:description"`
	RedirectURIs           []string  `gorm:"column:redirect_uris;serializer:json"`
	PostLogoutRedirectURIs []string  `gorm:"column:post_logout_redirect_uris;serializer:json"`
	RatePerMinute          *int      `gorm:"column:rate_per_minute"`
	RateBurst              *int      `gorm:"column:rate_burst"`
	CreatedAt              time.Time `gorm:"column:created_at"`
	UpdatedAt              time.Time `gorm:"column:updated_at"`

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

package oauth2

// Grant types of the token endpoint (RFC 6749 §4).
const (
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantPassword          = "password"
	GrantAuthorizationCode = "authorization_code"
)

package oauth2

// Grant types of the token endpoint (RFC 6749 §4).
const (
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantPassword          = "password"
	GrantAuthorizationCode = "authorization_code"
	// GrantMFAOTP and GrantMFARecoveryCode complete a login that answered mfa_required
	// (Auth0's extension grant types, RFC 6749 §4.5).
	GrantMFAOTP          = "http://auth0.com/oauth/grant-type/mfa-otp"
	GrantMFARecoveryCode = "http://auth0.com/oauth/grant-type/mfa-recovery-code"
)

package protocol

import (
	"context"
	"errors"
	"slices"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/store"
)

// Discovery (OpenID Connect Discovery §3, RFC 8414) and the JWKS. These answer in
// problem+json: they are read by libraries, not by OAuth clients mid-flow.

// GetJWKS implements GET .../.well-known/jwks.json.
func (e *Endpoints) GetJWKS(ctx context.Context, req gen.GetJWKSRequestObject) (gen.GetJWKSResponseObject, error) {
	if _, err := e.Accounts.Get(ctx, req.Aid); err != nil {
		return nil, notFound(err)
	}
	ks, err := e.Keys.Get(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	// Verifiers may cache for 5 minutes; keys are published keyPropagationDelay (default
	// 10 minutes) before they sign.
	cc := "public, max-age=300"
	return gen.GetJWKS200JSONResponse{Body: ks.JWKS, Headers: gen.GetJWKS200ResponseHeaders{CacheControl: &cc}}, nil
}

// GetOpenIDConfiguration implements the discovery document.
func (e *Endpoints) GetOpenIDConfiguration(ctx context.Context, req gen.GetOpenIDConfigurationRequestObject) (gen.GetOpenIDConfigurationResponseObject, error) {
	acct, err := e.Accounts.Get(ctx, req.Aid)
	if err != nil {
		return nil, notFound(err)
	}
	iss := e.Accounts.Issuer(acct.AID)
	set := account.Effective(acct)
	ks, err := e.Keys.Get(ctx, acct.AID)
	if err != nil {
		return nil, err
	}
	algs := keys.AccessAlgs(ks.Rows)
	if !slices.Contains(algs, set.SigningAlg) {
		algs = append(algs, set.SigningAlg)
	}
	claims := []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "aid",
		"auth_time", "nonce", "at_hash", "sid", "azp", "name", "updated_at", "email", "email_verified", "phone_number", "phone_number_verified"}
	docs := e.Accounts.PublicURL() + "/swagger/"
	revoke, introspect := iss+"/auth/revoke", iss+"/auth/introspect"
	authz, userinfo, logout := iss+"/auth/authorize", iss+"/userinfo", iss+"/auth/logout"
	no, yes := false, true
	idAlgs := []string{"RS256"}
	if ks.IDSigner != nil && ks.IDSigner.Alg() != "RS256" {
		idAlgs = []string{ks.IDSigner.Alg()} // an ES256 account from before RS256 companions
	}
	cc := "public, max-age=300"
	return gen.GetOpenIDConfiguration200JSONResponse{
		Body: gen.OpenIDConfiguration{
			Issuer:        iss,
			JwksURI:       iss + "/.well-known/jwks.json",
			TokenEndpoint: iss + "/auth/token",
			GrantTypesSupported: []string{"authorization_code", "client_credentials", "refresh_token", "password",
				oauth2.GrantMFAOTP, oauth2.GrantMFARecoveryCode},
			AuthorizationEndpoint:                      &authz,
			UserinfoEndpoint:                           &userinfo,
			EndSessionEndpoint:                         &logout,
			ResponseTypesSupported:                     &[]string{"code"},
			ResponseModesSupported:                     &[]string{"query"},
			SubjectTypesSupported:                      &[]string{"public"},
			IDTokenSigningAlgValuesSupported:           &idAlgs,
			CodeChallengeMethodsSupported:              &[]string{"S256"},
			PromptValuesSupported:                      &[]string{"none", "login"},
			RequestParameterSupported:                  &no,
			RequestURIParameterSupported:               &no,
			AuthorizationResponseIssParameterSupported: &yes,
			ScopesSupported:                            &[]string{"openid", "profile", "email", "phone", "offline_access"},
			TokenEndpointAuthMethodsSupported:          []string{"client_secret_basic", "client_secret_post", "none"},
			RevocationEndpoint:                         &revoke,
			IntrospectionEndpoint:                      &introspect,
			RevocationEndpointAuthMethodsSupported:     &[]string{"client_secret_basic", "client_secret_post", "none"},
			IntrospectionEndpointAuthMethodsSupported:  &[]string{"client_secret_basic", "client_secret_post"},
			AccessTokenSigningAlgValuesSupported:       &algs,
			ClaimsSupported:                            &claims,
			ServiceDocumentation:                       &docs,
		},
		Headers: gen.GetOpenIDConfiguration200ResponseHeaders{CacheControl: &cc},
	}, nil
}

// notFound words an unknown account as the 404 problem of these endpoints.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return problem.NotFound("account")
	}
	return err
}

package server

import (
	"context"
	"errors"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/store"
)

// signingKeyViews lists the account's live keys from the database, not from the node cache:
// the admin view is always current, and reading it never evicts what the token path uses.
func (s *Server) signingKeyViews(ctx context.Context, aid string) ([]gen.SigningKey, error) {
	all, err := s.store.ListSigningKeys(ctx, aid)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rows := liveKeys(all, now)
	items := make([]gen.SigningKey, 0, len(rows))
	for i := range rows {
		k, err := toSigningKey(rows, i, now)
		if err != nil {
			return nil, err
		}
		items = append(items, k)
	}
	return items, nil
}

// ListSigningKeys implements GET .../signing-keys.
func (s *Server) ListSigningKeys(ctx context.Context, req gen.ListSigningKeysRequestObject) (gen.ListSigningKeysResponseObject, error) {
	if _, err := s.accountOr404(ctx, req.Aid); err != nil {
		return nil, err
	}
	items, err := s.signingKeyViews(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	return gen.ListSigningKeys200JSONResponse{Items: items}, nil
}

// RotateSigningKey implements POST .../signing-keys/rotate.
func (s *Server) RotateSigningKey(ctx context.Context, req gen.RotateSigningKeyRequestObject) (gen.RotateSigningKeyResponseObject, error) {
	acct, err := s.accountOr404(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	delay := time.Duration(*s.settings(acct).KeyPropagationDelay) * time.Second
	alg := ""
	if req.Body != nil {
		if req.Body.ActivateAfter != nil {
			delay = time.Duration(*req.Body.ActivateAfter) * time.Second
		}
		if req.Body.Alg != nil {
			alg = string(*req.Body.Alg)
		}
	}
	key, err := s.rotateKey(ctx, acct, alg, delay)
	if err != nil {
		return nil, err
	}
	items, err := s.signingKeyViews(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	for _, k := range items {
		if k.Kid == key.KID {
			return gen.RotateSigningKey201JSONResponse(k), nil
		}
	}
	// Only if the key vanished between insert and read (a concurrent account delete).
	return nil, notFound("signing key")
}

// GetJWKS implements GET .../.well-known/jwks.json.
func (s *Server) GetJWKS(ctx context.Context, req gen.GetJWKSRequestObject) (gen.GetJWKSResponseObject, error) {
	if _, err := s.account(ctx, req.Aid); err != nil {
		return nil, s.protocolNotFound(err)
	}
	ks, err := s.accountKeys(ctx, req.Aid)
	if err != nil {
		return nil, err
	}
	// Verifiers may cache for 5 minutes; keys are published keyPropagationDelay (default
	// 10 minutes) before they sign.
	cc := "public, max-age=300"
	return gen.GetJWKS200JSONResponse{Body: ks.jwks, Headers: gen.GetJWKS200ResponseHeaders{CacheControl: &cc}}, nil
}

// GetOpenIDConfiguration implements the discovery document.
func (s *Server) GetOpenIDConfiguration(ctx context.Context, req gen.GetOpenIDConfigurationRequestObject) (gen.GetOpenIDConfigurationResponseObject, error) {
	acct, err := s.account(ctx, req.Aid)
	if err != nil {
		return nil, s.protocolNotFound(err)
	}
	iss := s.issuer(acct.AID)
	set := s.settings(acct)
	ks, err := s.accountKeys(ctx, acct.AID)
	if err != nil {
		return nil, err
	}
	algs := []string{}
	seen := map[string]bool{}
	for _, r := range ks.rows {
		if !seen[r.Alg] {
			seen[r.Alg] = true
			algs = append(algs, r.Alg)
		}
	}
	if !seen[set.SigningAlg] {
		algs = append(algs, set.SigningAlg)
	}
	claims := []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "aid",
		"auth_time", "nonce", "at_hash", "sid", "azp", "name", "updated_at", "email", "email_verified", "phone_number", "phone_number_verified"}
	docs := s.cfg.PublicURL + "/swagger/"
	revoke, introspect := iss+"/auth/revoke", iss+"/auth/introspect"
	authz, userinfo, logout := iss+"/auth/authorize", iss+"/userinfo", iss+"/auth/logout"
	no, yes := false, true
	idAlgs := []string{"RS256"}
	if ks.idSigner != nil && ks.idSigner.alg.String() != "RS256" {
		idAlgs = []string{ks.idSigner.alg.String()} // an ES256 account from before RS256 companions
	}
	cc := "public, max-age=300"
	return gen.GetOpenIDConfiguration200JSONResponse{
		Body: gen.OpenIDConfiguration{
			Issuer:                                     iss,
			JwksURI:                                    iss + "/.well-known/jwks.json",
			TokenEndpoint:                              iss + "/auth/token",
			GrantTypesSupported:                        []string{"authorization_code", "client_credentials", "refresh_token", "password"},
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

func (s *Server) protocolNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound("account")
	}
	return err
}

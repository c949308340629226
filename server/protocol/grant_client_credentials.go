package protocol

import (
	"context"
	"net/http"
	"strconv"

	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/ratelimit"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

// clientCredentials issues a client token (RFC 6749 §4.4): a service account gets the
// scopes it holds, an application client those of its client_credentials grants. Each
// client has a token bucket (the account's tokenRatePerMinute and burst, or its own).
type clientCredentials struct{}

// check: a client token cannot mint another client token.
func (clientCredentials) check(tr *tokenRequest) error {
	if tr.Bearer != "" {
		return oauth2.InvalidRequest("client_credentials needs the client's secret, not a token")
	}
	return nil
}

// auth: only the secret proves a machine client (RFC 6749 §4.4.2).
func (clientCredentials) auth() clientAuth { return secretOnly }

// issue resolves the scopes the client holds, once its token bucket allows one more.
func (clientCredentials) issue(ctx context.Context, e *Endpoints, in grantInput) (*tokenResult, error) {
	cc, set := in.client, in.set
	held := cc.Scopes
	if cc.Kind != store.KindServiceAccount {
		held = cc.Granted[store.GrantClientCredentials]
		if len(held) == 0 {
			return nil, oauth2.UnauthorizedClient("this client holds no client_credentials grant")
		}
	}
	perMin, burst := set.TokenRatePerMinute, set.TokenRateBurst
	if cc.RatePerMinute != nil && cc.RateBurst != nil {
		perMin, burst = *cc.RatePerMinute, *cc.RateBurst
	}
	lim, err := e.Limits.Allow(ctx, in.acct.AID+"\x00"+cc.ClientID, perMin, burst)
	if err != nil {
		// A broken Redis must not stop token issuance: fail open, loudly.
		e.Log.Warn("rate limiter unavailable", "err", err)
		lim = ratelimit.Result{Allowed: true, Limit: perMin, Remaining: burst}
	}
	if !lim.Allowed {
		e.Metrics.RateLimited.WithLabelValues("token").Inc()
		return nil, oauth2.ErrTemporarilyUnavailable.WithStatus(http.StatusTooManyRequests).
			WithDescription("too many token requests for this client; cache tokens until they expire").
			WithHeaders(http.Header{
				"Ratelimit-Limit":     {strconv.Itoa(lim.Limit)},
				"Ratelimit-Remaining": {strconv.Itoa(lim.Remaining)},
				"Ratelimit-Reset":     {strconv.Itoa(lim.Reset)},
				"Retry-After":         {strconv.Itoa(lim.RetryAfter)},
			})
	}
	audience, scopes, err := clients.ResolveScopes(held, in.tr.Scope, in.tr.Audience)
	if err != nil {
		return nil, err
	}
	tok, err := e.Tokens.Issue(ctx, in.acct, set, tokens.Access{Sub: cc.ClientID, ClientID: cc.ClientID, Audience: audience, Scopes: scopes})
	if err != nil {
		return nil, err
	}
	return &tokenResult{access: tok.Token, lifetime: set.AccessTokenLifetime, scopes: scopes,
		limit: &rateHeaders{limit: lim.Limit, remaining: lim.Remaining, reset: lim.Reset}}, nil
}

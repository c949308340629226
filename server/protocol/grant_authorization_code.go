package protocol

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/audit"
	"github.com/twinid/twinid/server/oauth2"
	"github.com/twinid/twinid/server/tokens"
	"github.com/twinid/twinid/store"
)

var pkceVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// authorizationCode exchanges a code of the hosted sign-in (RFC 6749 §4.1.3, RFC 7636
// §4.6). A code used twice revokes what its first use issued (RFC 6749 §4.1.2).
type authorizationCode struct{}

// check: the code itself is looked up in issue, once the client is known.
func (authorizationCode) check(*tokenRequest) error { return nil }

// auth: confidential clients with their secret, public clients by client_id (RFC 7636).
func (authorizationCode) auth() clientAuth { return anyClientAuth }

// issue redeems the code once; client, redirect_uri and PKCE verifier must match what the
// authorization request bound to it.
func (authorizationCode) issue(ctx context.Context, e *Endpoints, in grantInput) (*tokenResult, error) {
	acct, tr, ac, set := in.acct, in.tr, in.client, in.set
	code, err := e.Store.AuthCodes().ByHash(ctx, acct.AID, e.Keyring.HashSecret("code\x00"+tr.Code))
	if errors.Is(err, store.ErrNotFound) {
		return nil, oauth2.InvalidGrant("the authorization code is not valid")
	}
	if err != nil {
		return nil, err
	}
	now := e.Now()
	if code.ClientID != ac.ClientID {
		return nil, oauth2.InvalidGrant("the authorization code was issued to another client")
	}
	if tr.RedirectURI != code.RedirectURI {
		return nil, oauth2.InvalidGrant("redirect_uri does not match the authorization request")
	}
	if code.CodeChallenge != "" {
		sum := sha256.Sum256([]byte(tr.CodeVerifier))
		if !pkceVerifier.MatchString(tr.CodeVerifier) ||
			subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(code.CodeChallenge)) != 1 {
			return nil, oauth2.InvalidGrant("code_verifier does not match the code_challenge")
		}
	} else if tr.CodeVerifier != "" {
		return nil, oauth2.InvalidGrant("a code_verifier was sent, but the authorization request had no code_challenge")
	}
	used, err := e.Store.AuthCodes().Use(ctx, code.ID, now)
	if err != nil {
		return nil, err
	}
	if !used {
		// A replay revokes what the code issued (RFC 6749 §4.1.2). The code read above may
		// predate the winner's tokens, so the store marks the code replayed and revokes what
		// is recorded by then; a winner that records later sees the mark (RecordTokens).
		if err := e.Store.AuthCodes().Replay(ctx, code.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		e.Audit.Record(ctx, audit.Event{AID: acct.AID, Type: gen.CodeReplayed, Failed: true,
			Actor: audit.Actor{Type: gen.ActorTypeClient, ID: ac.ClientID}, ClientID: ac.ClientID,
			SubjectType: "customer", SubjectID: code.CustomerID, Reason: "tokens of the code revoked"})
		return nil, oauth2.InvalidGrant("the authorization code was used already; the tokens it issued are revoked")
	}
	if now.UnixMilli() >= code.ExpiresMS {
		return nil, oauth2.InvalidGrant("the authorization code has expired")
	}
	c, err := e.Store.Customers().Get(ctx, acct.AID, code.CustomerID)
	if err != nil || c.Status != store.CustomerActive {
		return nil, oauth2.InvalidGrant("the user can no longer sign in")
	}
	scopes := strings.Fields(code.Scopes)
	aud := code.Audience
	if aud == "" {
		aud = e.Accounts.Issuer(acct.AID) // only OpenID scopes: the token is for UserInfo
	}
	// The family comes first, so the access token names it and ends with it.
	refresh, familyID := "", ""
	if slices.Contains(scopes, "offline_access") && !ac.public {
		if refresh, familyID, err = e.Tokens.NewFamily(ctx, acct, set, tokens.Family{CustomerID: c.ID, ClientID: ac.ClientID, Audience: aud, Scopes: scopes, AMR: strings.Fields(code.AMR)}); err != nil {
			return nil, err
		}
	}
	tok, err := e.Tokens.Issue(ctx, acct, set, tokens.Access{Sub: c.ID, ClientID: ac.ClientID, Audience: aud, FamilyID: familyID, Scopes: scopes, AMR: strings.Fields(code.AMR)})
	if err != nil {
		return nil, err
	}
	res := &tokenResult{access: tok.Token, lifetime: set.AccessTokenLifetime, scopes: scopes, refresh: refresh}
	if slices.Contains(scopes, "openid") {
		if res.idToken, err = e.Tokens.IDToken(ctx, acct, set, c, ac.ClientID, code, tok.Token); err != nil {
			return nil, err
		}
	}
	// When a racing replay came first, the store revokes these tokens as it records them;
	// this request still gets its answer (the one use of the code), with tokens that no
	// longer work, as a replay after it would have left them.
	if _, err := e.Store.AuthCodes().RecordTokens(ctx, code.ID, familyID, tok.JTI, tok.Exp, now); err != nil {
		return nil, err
	}
	return res, nil
}

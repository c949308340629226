package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/passwords"
	"github.com/twinid/twinid/store"
)

const (
	scopeUsers       = "accounts:auth:users"
	scopeRefresh     = "create:accounts:auth:refresh_token"
	scopeSetPassword = "accounts:auth:set_password"
	authAudience     = "api://auth"
	setPasswordTTL   = 10 * time.Minute
	loginWindow      = 15 * time.Minute
	maxLockout       = 24 * time.Hour
	refreshPrefix    = "twrt_"
	// codeGuessLimit: wrong verification codes per client address per 15 minutes.
	codeGuessLimit    = 20
	failedLoginDetail = "wrong email, phone number or password"
)

func invalidGrant(d string) *oauthError { return oauthErr(http.StatusBadRequest, "invalid_grant", d) }

// ---- customer authentication -------------------------------------------------------------

// loginRequest identifies a customer and carries the password to check.
type loginRequest struct {
	typ, identType, ident, password, remote string
}

// checkLogin verifies a customer's password with throttling that cannot be outrun: attempts
// are reserved per identifier and per client address before the hash is computed. Unknown
// identifiers cost a dummy hash and answer exactly like a wrong password.
func (s *Server) checkLogin(ctx context.Context, acct *store.Account, lr loginRequest) (*store.Customer, error) {
	if lr.typ == "" {
		lr.typ = string(gen.CustomerTypeCustomer)
	}
	if lr.password == "" || (lr.typ != string(gen.CustomerTypeCustomer) && lr.typ != string(gen.CustomerTypeCompany)) {
		return nil, invalidRequest("password and a valid type are required")
	}
	var emailKey, phone, ident string
	switch lr.identType {
	case "email":
		_, emailKey, _ = normEmail(lr.ident)
		ident = emailKey
	case "phone_number":
		phone, _ = normPhone(lr.ident)
		ident = phone
	default:
		return nil, invalidRequest("ident_type must be email or phone_number")
	}
	if ident == "" {
		ident = strings.ToLower(strings.TrimSpace(lr.ident))
	}
	set := s.settings(acct)
	now := time.Now()
	ipKey := "a:" + lr.remote
	idKey := s.identKey(acct.AID, lr.typ, ident)
	ipRes, err := s.store.ReserveAttempt(ctx, acct.AID, ipKey, set.LoginIPMaxFailures, loginWindow, now)
	if err != nil {
		return nil, err
	}
	if !ipRes.Allowed {
		s.metrics.logins.WithLabelValues("locked").Inc()
		return nil, lockedOut(ipRes.RetryAfter)
	}
	idRes, err := s.store.ReserveAttempt(ctx, acct.AID, idKey, set.LoginMaxFailures, loginWindow, now)
	if err != nil {
		return nil, err
	}
	if !idRes.Allowed {
		_ = s.store.ReleaseAttempt(ctx, acct.AID, ipKey)
		s.metrics.logins.WithLabelValues("locked").Inc()
		return nil, lockedOut(idRes.RetryAfter)
	}
	c, err := s.store.FindCustomer(ctx, acct.AID, lr.typ, emailKey, phone)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		_ = s.store.ReleaseAttempt(ctx, acct.AID, ipKey)
		_ = s.store.ReleaseAttempt(ctx, acct.AID, idKey)
		return nil, err
	}
	ok, rehash := false, false
	if c != nil && c.PasswordHash != "" {
		ok, rehash, err = s.pwpool.Verify(ctx, lr.password, c.PasswordHash)
	} else {
		_, err = s.pwpool.VerifyDummy(ctx, lr.password)
	}
	if err != nil {
		// Nothing was evaluated: give the attempts back.
		_ = s.store.ReleaseAttempt(ctx, acct.AID, ipKey)
		_ = s.store.ReleaseAttempt(ctx, acct.AID, idKey)
		if errors.Is(err, passwords.ErrBusy) || errors.Is(err, context.DeadlineExceeded) {
			s.metrics.rateLimited.WithLabelValues("password_pool").Inc()
			e := oauthErr(http.StatusServiceUnavailable, "temporarily_unavailable", "too many logins at once; retry in a second")
			e.Header = http.Header{"Retry-After": {"1"}}
			return nil, e
		}
		return nil, err
	}
	if !ok || c.Status != store.CustomerActive {
		base := time.Duration(set.LoginLockoutSeconds) * time.Second
		if err := s.store.FailAttempt(ctx, acct.AID, idKey, set.LoginMaxFailures, base, maxLockout, now); err != nil {
			return nil, err
		}
		if err := s.store.FailAttempt(ctx, acct.AID, ipKey, set.LoginIPMaxFailures, base, maxLockout, now); err != nil {
			return nil, err
		}
		s.metrics.logins.WithLabelValues("failed").Inc()
		return nil, invalidGrant(failedLoginDetail)
	}
	s.metrics.logins.WithLabelValues("ok").Inc()
	if err := s.store.ClearThrottle(ctx, acct.AID, idKey); err != nil {
		return nil, err
	}
	if err := s.store.ReleaseAttempt(ctx, acct.AID, ipKey); err != nil {
		return nil, err
	}
	if rehash {
		if h, err := s.pwpool.Hash(ctx, lr.password); err == nil {
			_ = s.store.RehashPassword(ctx, c.ID, c.PasswordHash, h)
		}
	}
	return c, nil
}

func lockedOut(wait time.Duration) *oauthError {
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	e := oauthErr(http.StatusTooManyRequests, "temporarily_unavailable",
		"too many failed logins; try again in "+strconv.Itoa(secs)+" seconds")
	e.Header = http.Header{"Retry-After": {strconv.Itoa(secs)}}
	return e
}

// userScopes are the scopes of the client's grants for the audience that the customer holds.
func userScopes(grants []store.Grant, c *store.Customer) []string {
	out := []string{}
	for _, g := range grants {
		for _, sc := range g.Scopes {
			if slices.Contains(c.Scopes, sc) && !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out
}

// issueUserTokens issues a customer's access token and, when asked, a new refresh family.
func (s *Server) issueUserTokens(ctx context.Context, acct *store.Account, c *store.Customer, clientID, audience string, scopes []string, withRefresh bool) (*tokenResult, error) {
	set := s.settings(acct)
	tok, err := s.issueAccessToken(ctx, acct, set, c.ID, clientID, audience, scopes, 0)
	if err != nil {
		return nil, err
	}
	res := &tokenResult{access: tok, lifetime: set.AccessTokenLifetime, scopes: scopes}
	if !withRefresh {
		return res, nil
	}
	if res.refresh, _, err = s.newRefreshFamily(ctx, acct, set, c, clientID, audience, scopes); err != nil {
		return nil, err
	}
	return res, nil
}

// newRefreshFamily stores the first refresh token of a new rotation family and returns it
// with the family id.
func (s *Server) newRefreshFamily(ctx context.Context, acct *store.Account, set store.AccountSettings, c *store.Customer, clientID, audience string, scopes []string) (string, string, error) {
	value, err := newRefreshToken()
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	until := now.Add(time.Duration(set.RefreshAbsoluteLifetime) * time.Second)
	row := &store.RefreshToken{
		ID: newID(), AID: acct.AID, FamilyID: newID(), Hash: s.keyring.hashSecret(value), ClientID: clientID,
		CustomerID: c.ID, Audience: audience, Scopes: strings.Join(scopes, " "), CreatedMS: now.UnixMilli(),
		IdleUntilMS: min(now.Add(time.Duration(set.RefreshIdleLifetime)*time.Second).UnixMilli(), until.UnixMilli()), UntilMS: until.UnixMilli(),
	}
	if err := s.store.CreateRefreshToken(ctx, row); err != nil {
		return "", "", err
	}
	return value, row.FamilyID, nil
}

// newRefreshToken draws an opaque refresh token: "twrt_" + 43 base62 characters.
func newRefreshToken() (string, error) {
	v, err := newSecret()
	if err != nil {
		return "", err
	}
	return refreshPrefix + strings.TrimPrefix(v, secretPrefix), nil
}

// successorOf derives the token that replaces value at rotation. Deriving it (with a key
// only the server has) instead of drawing it lets a retry within the grace window get the
// same successor, so exactly one rotation happens, without storing any token in the clear.
func (s *Server) successorOf(value string) string {
	m := hmac.New(sha256.New, s.keyring.refreshKey)
	m.Write([]byte(value))
	n := new(big.Int).SetBytes(m.Sum(nil))
	b := make([]byte, 43)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := range b {
		n.DivMod(n, base, mod)
		b[i] = base62[mod.Int64()]
	}
	return refreshPrefix + string(b)
}

// ---- grants at the token endpoint ---------------------------------------------------------

// refreshGrant exchanges and rotates a refresh token.
func (s *Server) refreshGrant(ctx context.Context, acct *store.Account, tr *tokenRequest) (*tokenResult, error) {
	value := tr.params.get("refresh_token")
	if value == "" {
		return nil, invalidRequest("refresh_token is required")
	}
	ac, err := s.clientFor(ctx, acct.AID, tr)
	if err != nil {
		return nil, err
	}
	old, status, customerScopes, err := s.store.RefreshTokenCustomer(ctx, acct.AID, s.keyring.hashSecret(value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidGrant("the refresh token is not valid")
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if old.ClientID != ac.client.ClientID {
		return nil, invalidGrant("the refresh token was issued to another client")
	}
	if old.RevokedMS != 0 || now.UnixMilli() >= old.IdleUntilMS || now.UnixMilli() >= old.UntilMS {
		return nil, invalidGrant("the refresh token is expired or revoked")
	}
	if status != store.CustomerActive {
		_, _ = s.store.RevokeFamily(ctx, old.FamilyID, now)
		return nil, invalidGrant("the customer can no longer sign in")
	}
	set := s.settings(acct)
	nextValue := s.successorOf(value)
	next := &store.RefreshToken{
		ID: newID(), AID: acct.AID, FamilyID: old.FamilyID, Hash: s.keyring.hashSecret(nextValue), ClientID: old.ClientID,
		CustomerID: old.CustomerID, Audience: old.Audience, Scopes: old.Scopes, CreatedMS: now.UnixMilli(),
		IdleUntilMS: min(now.Add(time.Duration(set.RefreshIdleLifetime)*time.Second).UnixMilli(), old.UntilMS), UntilMS: old.UntilMS,
	}
	err = s.store.RotateRefreshToken(ctx, old, next, now)
	switch {
	case errors.Is(err, store.ErrRevoked):
		return nil, invalidGrant("the refresh token is expired or revoked")
	case errors.Is(err, store.ErrRotated):
		grace := time.Duration(*set.RefreshReuseGrace) * time.Second
		if now.Sub(time.UnixMilli(old.RotatedMS)) > grace {
			n, _ := s.store.RevokeFamily(ctx, old.FamilyID, now)
			s.metrics.refreshReuse.Inc()
			s.log.Warn("refresh token reuse: family revoked", "aid", acct.AID, "client_id", old.ClientID, "revoked", n)
			return nil, invalidGrant("the refresh token was already used; the session is revoked")
		}
		succ, err := s.store.RefreshTokenByHash(ctx, acct.AID, next.Hash)
		if err != nil || succ.RevokedMS != 0 {
			return nil, invalidGrant("the refresh token is expired or revoked")
		}
	case err != nil:
		return nil, err
	}
	scopes := []string{}
	for _, sc := range strings.Fields(old.Scopes) {
		// OpenID scopes came from the sign-in itself; API scopes only while the customer holds them.
		if slices.Contains(customerScopes, sc) || slices.Contains(oidcScopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	tok, err := s.issueAccessToken(ctx, acct, set, old.CustomerID, old.ClientID, old.Audience, scopes, 0)
	if err != nil {
		return nil, err
	}
	return &tokenResult{access: tok, lifetime: set.AccessTokenLifetime, scopes: scopes, refresh: nextValue}, nil
}

// passwordGrant is the resource owner password grant, for clients holding a grant of type
// password for the audience only.
func (s *Server) passwordGrant(ctx context.Context, acct *store.Account, tr *tokenRequest) (*tokenResult, error) {
	ac, err := s.clientFor(ctx, acct.AID, tr)
	if err != nil {
		return nil, err
	}
	var pw []store.Grant
	for _, g := range ac.grants {
		if g.GrantType == store.GrantPassword {
			pw = append(pw, g)
		}
	}
	if ac.public || len(pw) == 0 {
		return nil, oauthErr(http.StatusBadRequest, "unauthorized_client", "this client may not use the password grant")
	}
	audience := tr.params.get("audience")
	if audience == "" && len(pw) == 1 {
		audience = pw[0].Audience
	}
	grants := ac.grantsFor(audience, store.GrantPassword)
	if len(grants) == 0 {
		return nil, oauthErr(http.StatusBadRequest, "unauthorized_client", "this client holds no password grant for audience "+audience)
	}
	username := tr.params.get("username")
	identType := "email"
	if strings.HasPrefix(strings.TrimSpace(username), "+") {
		identType = "phone_number"
	}
	c, err := s.checkLogin(ctx, acct, loginRequest{typ: tr.params.get("type"), identType: identType, ident: username,
		password: tr.params.get("password"), remote: tr.remote})
	if err != nil {
		return nil, err
	}
	withRefresh := slices.ContainsFunc(grants, func(g store.Grant) bool { return slices.Contains(g.Scopes, scopeRefresh) })
	return s.issueUserTokens(ctx, acct, c, ac.client.ClientID, audience, userScopes(grants, c), withRefresh)
}

// loginCapable: the client may log customers in (its token, or its grants, carry
// accounts:auth:users).
func (ac *authedClient) loginCapable() bool {
	if ac.token != nil {
		return ac.token.has(scopeUsers)
	}
	return !ac.public && ac.holds(scopeUsers)
}

// codeGrant redeems an emailed verification code (password reset or invitation) for a
// short-lived token that can only set the customer's password. Authorization codes of the
// browser flow are not issued by this server yet, so any other code is invalid_grant.
func (s *Server) codeGrant(ctx context.Context, acct *store.Account, tr *tokenRequest) (*tokenResult, error) {
	code := strings.TrimSpace(tr.params.get("verification_code"))
	if code == "" {
		if tr.params.get("code") == "" {
			return nil, invalidRequest("verification_code (or code) is required")
		}
		return s.authorizationCodeGrant(ctx, acct, tr)
	}
	ac, err := s.clientFor(ctx, acct.AID, tr)
	if err != nil {
		return nil, err
	}
	if !ac.loginCapable() {
		return nil, oauthErr(http.StatusBadRequest, "unauthorized_client", "the client needs the scope "+scopeUsers)
	}
	c, err := s.redeemCode(ctx, acct, tr.params.get("email"), tr.params.get("type"), code, tr.remote)
	if err != nil {
		return nil, err
	}
	set := s.settings(acct)
	scopes := []string{scopeSetPassword}
	tok, err := s.issueAccessToken(ctx, acct, set, c.ID, ac.client.ClientID, authAudience, scopes, setPasswordTTL)
	if err != nil {
		return nil, err
	}
	return &tokenResult{access: tok, lifetime: int(setPasswordTTL / time.Second), scopes: scopes}, nil
}

// redeemCode uses up an emailed verification code and returns its customer. With an email
// the customer's current code is compared; without, the code is looked up by its hash.
// Guesses are counted per client address in the database (cluster-wide), reserved before
// the lookup like login attempts, and each code takes at most five, counted atomically
// before the comparison.
func (s *Server) redeemCode(ctx context.Context, acct *store.Account, email, typ, code, remote string) (c *store.Customer, err error) {
	now := time.Now()
	guessKey := "v:" + remote
	res, err := s.store.ReserveAttempt(ctx, acct.AID, guessKey, codeGuessLimit, loginWindow, now)
	if err != nil {
		return nil, err
	}
	if !res.Allowed {
		e := lockedOut(res.RetryAfter)
		e.Description = "too many wrong verification codes; retry later"
		return nil, e
	}
	bad := func() (*store.Customer, error) {
		if err := s.store.FailAttempt(ctx, acct.AID, guessKey, codeGuessLimit, time.Minute, maxLockout, now); err != nil {
			return nil, err
		}
		return nil, invalidGrant("the verification code is wrong, used or expired")
	}
	defer func() {
		if err == nil {
			_ = s.store.ReleaseAttempt(ctx, acct.AID, guessKey)
		}
	}()
	code = strings.TrimSpace(code)
	hash := s.codeHash(acct.AID, code)
	var row *store.VerificationCode
	if email != "" {
		if typ == "" {
			typ = string(gen.CustomerTypeCustomer)
		}
		_, key, ok := normEmail(email)
		if !ok {
			return bad()
		}
		c, err = s.store.FindCustomer(ctx, acct.AID, typ, key, "")
		if errors.Is(err, store.ErrNotFound) {
			return bad()
		}
		if err != nil {
			return nil, err
		}
		if row, err = s.store.LatestCode(ctx, c.ID); errors.Is(err, store.ErrNotFound) {
			return bad()
		} else if err != nil {
			return nil, err
		}
	} else {
		if row, err = s.store.CodeByHash(ctx, acct.AID, hash); errors.Is(err, store.ErrNotFound) {
			return bad()
		} else if err != nil {
			return nil, err
		}
	}
	ok, err := s.store.TryCode(ctx, row.ID, maxCodeAttempts, now)
	if err != nil {
		return nil, err
	}
	if !ok || subtle.ConstantTimeCompare(row.CodeHash, hash) != 1 {
		return bad()
	}
	if used, err := s.store.UseCode(ctx, row.ID, now); err != nil {
		return nil, err
	} else if !used {
		return bad()
	}
	if c, err = s.store.GetCustomer(ctx, acct.AID, row.CustomerID); err != nil || c.Status == store.CustomerDisabled {
		return bad()
	}
	return c, nil
}

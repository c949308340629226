package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

func ms(t time.Time) int64 { return t.UnixMilli() }

// CreateRefresh stores the first token of a new family.
func (grp Tokens) CreateRefresh(ctx context.Context, t *RefreshToken) error {
	return translate(grp.s.q(ctx).Create(t).Error)
}

// RefreshWithCustomer finds a refresh token by its keyed hash together with its customer's
// status and scopes, in one query (the refresh grant's hot path).
func (grp Tokens) RefreshWithCustomer(ctx context.Context, aid string, hash []byte) (*RefreshToken, string, []string, error) {
	var row struct {
		RefreshToken
		CustomerStatus string   `gorm:"column:customer_status"`
		CustomerScopes []string `gorm:"column:customer_scopes;serializer:json"`
	}
	err := grp.s.q(ctx).Table("refresh_tokens AS t").
		Select("t.*, c.status AS customer_status, c.scopes AS customer_scopes").
		Joins("JOIN customers AS c ON c.id = t.customer_id").
		Where("t.aid = ? AND t.hash = ?", aid, hash).Take(&row).Error
	if err != nil {
		return nil, "", nil, translate(err)
	}
	return &row.RefreshToken, row.CustomerStatus, row.CustomerScopes, nil
}

// RefreshByHash finds a refresh token of an account by its keyed hash.
func (grp Tokens) RefreshByHash(ctx context.Context, aid string, hash []byte) (*RefreshToken, error) {
	var t RefreshToken
	if err := grp.s.q(ctx).Where("aid = ? AND hash = ?", aid, hash).Take(&t).Error; err != nil {
		return nil, translate(err)
	}
	return &t, nil
}

// Rotation outcomes.
var (
	// ErrRotated: the token was rotated already (by a racing request or earlier).
	ErrRotated = errors.New("refresh token already rotated")
	// ErrRevoked: the token's family is revoked.
	ErrRevoked = errors.New("refresh token revoked")
)

// Rotate marks old as rotated and stores next, in one transaction. The
// conditional update is the database-level guarantee that exactly one request rotates a
// token: a racing request finds rotated_ms set and gets ErrRotated (or ErrRevoked).
func (grp Tokens) Rotate(ctx context.Context, old *RefreshToken, next *RefreshToken, now time.Time) error {
	if grp.s.dialect == "postgres" {
		// One statement, one round trip: the conditional update feeds the insert, so the
		// successor exists exactly when this statement rotated the token.
		res := grp.s.q(ctx).Exec(`WITH rotated AS (
  UPDATE refresh_tokens SET rotated_ms = ? WHERE id = ? AND rotated_ms = 0 AND revoked_ms = 0 RETURNING id
)
INSERT INTO refresh_tokens (id, aid, family_id, hash, client_id, customer_id, audience, scopes, created_ms, idle_until_ms, until_ms, rotated_ms, revoked_ms, amr)
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ? FROM rotated`,
			ms(now), old.ID, next.ID, next.AID, next.FamilyID, next.Hash, next.ClientID, next.CustomerID,
			next.Audience, next.Scopes, next.CreatedMS, next.IdleUntilMS, next.UntilMS, next.AMR)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 1 {
			old.RotatedMS = ms(now)
			return nil
		}
		return grp.s.lostRotation(ctx, old)
	}
	return grp.s.InTx(ctx, func(tx *Store) error {
		res := tx.q(ctx).Model(&RefreshToken{}).
			Where("id = ? AND rotated_ms = 0 AND revoked_ms = 0", old.ID).
			Update("rotated_ms", ms(now))
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return tx.lostRotation(ctx, old)
		}
		old.RotatedMS = ms(now)
		return translate(tx.q(ctx).Create(next).Error)
	})
}

// lostRotation tells why old was not rotated (ErrRevoked, or ErrRotated with old reloaded,
// so the caller sees when it was rotated).
func (s *Store) lostRotation(ctx context.Context, old *RefreshToken) error {
	var cur RefreshToken
	if err := s.q(ctx).Where("id = ?", old.ID).Take(&cur).Error; err != nil {
		return translate(err)
	}
	if cur.RevokedMS != 0 {
		return ErrRevoked
	}
	*old = cur
	return ErrRotated
}

// RevokeFamily revokes every live token of a rotation family; it reports how many.
func (grp Tokens) RevokeFamily(ctx context.Context, familyID string, now time.Time) (int64, error) {
	res := grp.s.q(ctx).Model(&RefreshToken{}).Where("family_id = ? AND revoked_ms = 0", familyID).
		Update("revoked_ms", ms(now))
	return res.RowsAffected, translate(res.Error)
}

// FamilyEnded reports whether a rotation family can no longer be refreshed: none of its
// tokens is unrevoked (revoked, reuse detected, its customer's tokens revoked, or its rows
// gone with a deleted customer or the sweep). The access tokens issued with the family end
// with it. One query on refresh_tokens_family_idx.
func (grp Tokens) FamilyEnded(ctx context.Context, familyID string) (bool, error) {
	var ids []string
	err := grp.s.q(ctx).Model(&RefreshToken{}).Where("family_id = ? AND revoked_ms = 0", familyID).
		Limit(1).Pluck("id", &ids).Error
	return len(ids) == 0, translate(err)
}

func (s *Store) revokeCustomerTokens(ctx context.Context, customerID string, now time.Time) error {
	return translate(s.q(ctx).Model(&RefreshToken{}).Where("customer_id = ? AND revoked_ms = 0", customerID).
		Update("revoked_ms", ms(now)).Error)
}

// RevokeAccess records an access token's jti as revoked until it expires.
func (grp Tokens) RevokeAccess(ctx context.Context, aid, jti string, expires time.Time) error {
	return translate(grp.s.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&revokedToken{JTI: jti, AID: aid, ExpiresMS: ms(expires)}).Error)
}

// AccessRevoked reports whether an access token's jti was revoked.
func (grp Tokens) AccessRevoked(ctx context.Context, jti string) (bool, error) {
	var n int64
	err := grp.s.q(ctx).Model(&revokedToken{}).Where("jti = ?", jti).Count(&n).Error
	return n > 0, translate(err)
}

// SetPassword stores a new password hash, activates an invited customer (and marks the email
// verified when asked), and revokes the customer's refresh tokens, in one transaction.
func (grp Customers) SetPassword(ctx context.Context, c *Customer, hash string, verifyEmail bool, now time.Time) error {
	return grp.s.InTx(ctx, func(tx *Store) error { return tx.setPassword(ctx, c, hash, verifyEmail, now) })
}

// ErrUsed: a single-use token was spent already.
var ErrUsed = errors.New("single-use token used already")

// SetPasswordOnce spends the single-use access token jti (recorded as revoked until
// expires) and sets the password as SetPassword does with the email verified, in one
// transaction. The revoked token's unique key decides between racing requests: only the
// one whose insert lands sets the password; the others get ErrUsed and change nothing
// (on Postgres a racing insert waits for the first transaction and then finds the key).
func (grp Customers) SetPasswordOnce(ctx context.Context, c *Customer, hash, jti string, expires, now time.Time) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		res := tx.q(ctx).Clauses(clause.OnConflict{DoNothing: true}).
			Create(&revokedToken{JTI: jti, AID: c.AID, ExpiresMS: ms(expires)})
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrUsed
		}
		return tx.setPassword(ctx, c, hash, true, now)
	})
}

func (s *Store) setPassword(ctx context.Context, c *Customer, hash string, verifyEmail bool, now time.Time) error {
	c.PasswordHash = hash
	cols := []string{"password_hash"}
	if c.Status == CustomerInvited {
		c.Status = CustomerActive
		cols = append(cols, "status")
	}
	if verifyEmail && c.Email != nil {
		c.EmailVerified = true
		cols = append(cols, "email_verified")
	}
	// At the microsecond Postgres keeps, so the caller's copy equals the stored time.
	c.UpdatedAt = now.UTC().Truncate(time.Microsecond)
	res := s.stamped(ctx).Model(&Customer{}).Where("aid = ? AND id = ?", c.AID, c.ID).
		Select(append(cols, "updated_at")).Updates(c)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return s.revokeCustomerTokens(ctx, c.ID, now)
}

// Rehash replaces a hash with a stronger one, unless the password changed meanwhile.
func (grp Customers) Rehash(ctx context.Context, customerID, oldHash, newHash string) error {
	return translate(grp.s.q(ctx).Model(&Customer{}).Where("id = ? AND password_hash = ?", customerID, oldHash).
		Update("password_hash", newHash).Error)
}

// Replace stores a new verification code of a customer and deletes their earlier ones,
// so a re-sent code invalidates the previous one. ErrConflict when the code collides with
// another live code of the account (the caller draws a new one).
func (grp Codes) Replace(ctx context.Context, code *VerificationCode) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		if err := tx.q(ctx).Where("customer_id = ?", code.CustomerID).Delete(&VerificationCode{}).Error; err != nil {
			return translate(err)
		}
		return translate(tx.q(ctx).Create(code).Error)
	})
}

// Latest returns the customer's current code, if any.
func (grp Codes) Latest(ctx context.Context, customerID string) (*VerificationCode, error) {
	var c VerificationCode
	if err := grp.s.q(ctx).Where("customer_id = ?", customerID).Order("created_ms DESC").Take(&c).Error; err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// ByHash finds a verification code of an account by its keyed hash.
func (grp Codes) ByHash(ctx context.Context, aid string, hash []byte) (*VerificationCode, error) {
	var c VerificationCode
	if err := grp.s.q(ctx).Where("aid = ? AND code_hash = ?", aid, hash).Take(&c).Error; err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// Try counts one attempt at a live code, atomically and before it is compared, so that
// parallel guesses get no more comparisons than maxAttempts. False: the code is spent,
// used or expired.
func (grp Codes) Try(ctx context.Context, id string, maxAttempts int, now time.Time) (bool, error) {
	res := grp.s.q(ctx).Model(&VerificationCode{}).
		Where("id = ? AND attempts < ? AND used_ms = 0 AND expires_ms > ?", id, maxAttempts, ms(now)).
		Update("attempts", gorm.Expr("attempts + 1"))
	return res.RowsAffected == 1, translate(res.Error)
}

// Use marks a code used; false when another request used it first.
func (grp Codes) Use(ctx context.Context, id string, now time.Time) (bool, error) {
	res := grp.s.q(ctx).Model(&VerificationCode{}).Where("id = ? AND used_ms = 0", id).Update("used_ms", ms(now))
	return res.RowsAffected == 1, translate(res.Error)
}

// ThrottleResult is the outcome of reserving a login attempt.
type ThrottleResult struct {
	Allowed bool
	// RetryAfter is how long to wait when not allowed.
	RetryAfter time.Duration
}

// Reserve counts an attempt against key before the password is checked, atomically
// (one upsert with a condition), so that parallel guesses get no more evaluations than max.
// Counters older than window start again; an expired lockout clears.
func (grp Throttle) Reserve(ctx context.Context, aid, key string, max int, window time.Duration, now time.Time) (ThrottleResult, error) {
	n, windowStart := ms(now), ms(now.Add(-window))
	res := grp.s.q(ctx).Exec(`INSERT INTO login_throttle AS t (aid, key, failures, lockouts, locked_until_ms, updated_ms)
VALUES (?, ?, 1, 0, 0, ?)
ON CONFLICT (aid, key) DO UPDATE SET
  failures = CASE WHEN t.locked_until_ms > 0 OR t.updated_ms < ? THEN 1 ELSE t.failures + 1 END,
  locked_until_ms = 0,
  updated_ms = ?
WHERE t.locked_until_ms <= ? AND (t.failures < ? OR t.locked_until_ms > 0 OR t.updated_ms < ?)`,
		aid, key, n, windowStart, n, n, max, windowStart)
	if res.Error != nil {
		return ThrottleResult{}, translate(res.Error)
	}
	if res.RowsAffected == 1 {
		return ThrottleResult{Allowed: true}, nil
	}
	var t throttle
	if err := grp.s.q(ctx).Where("aid = ? AND key = ?", aid, key).Take(&t).Error; err != nil {
		return ThrottleResult{}, translate(err)
	}
	wait := time.Second
	if t.LockedUntilMS > n {
		wait = time.Duration(t.LockedUntilMS-n) * time.Millisecond
	}
	return ThrottleResult{RetryAfter: wait}, nil
}

// Fail locks key once its failures reach max: for base·2^lockouts, at most maxLock. It
// reports whether this failure locked the key (a lockout begins; the audit trail records
// it once).
func (grp Throttle) Fail(ctx context.Context, aid, key string, max int, base, maxLock time.Duration, now time.Time) (bool, error) {
	var t throttle
	if err := grp.s.q(ctx).Where("aid = ? AND key = ?", aid, key).Take(&t).Error; err != nil {
		return false, translate(err)
	}
	if t.Failures < max || t.LockedUntilMS > 0 {
		return false, nil
	}
	d := base << min(t.Lockouts, 16)
	if d > maxLock || d <= 0 {
		d = maxLock
	}
	res := grp.s.q(ctx).Model(&throttle{}).
		Where("aid = ? AND key = ? AND locked_until_ms = 0 AND failures >= ?", aid, key, max).
		Updates(map[string]any{"locked_until_ms": ms(now.Add(d)), "lockouts": t.Lockouts + 1})
	return res.Error == nil && res.RowsAffected == 1, translate(res.Error)
}

// Release takes back a reserved attempt that was not a failure (the password was
// right, or it was never checked).
func (grp Throttle) Release(ctx context.Context, aid, key string) error {
	return translate(grp.s.q(ctx).Model(&throttle{}).Where("aid = ? AND key = ? AND failures > 0", aid, key).
		Update("failures", gorm.Expr("failures - 1")).Error)
}

// Clear deletes the counters of these keys (successful login, administrator unlock).
func (grp Throttle) Clear(ctx context.Context, aid string, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	return translate(grp.s.q(ctx).Where("aid = ? AND key IN ?", aid, keys).Delete(&throttle{}).Error)
}

// Sweep deletes, in batches of at most batch rows per table, what can no longer matter:
// refresh tokens past their idle or absolute lifetime, used or expired codes, revoked access
// tokens past expiry, expired mfa_tokens, and login counters idle for longer than keepThrottle and not locked.
// It reports how many rows went.
func (s *Store) Sweep(ctx context.Context, now time.Time, keepThrottle time.Duration, batch int) (int64, error) {
	n := ms(now)
	var total int64
	steps := []struct {
		model any
		where string
		args  []any
	}{
		// Both ends, as for sessions: callers cap the idle end at the absolute one today, but
		// the absolute lifetime is what the documentation promises.
		{&RefreshToken{}, "idle_until_ms < ? OR until_ms < ?", []any{n, n}},
		{&VerificationCode{}, "expires_ms < ? OR (used_ms > 0 AND used_ms < ?)", []any{n, n - 60_000}},
		{&revokedToken{}, "expires_ms < ?", []any{n}},
		{&throttle{}, "updated_ms < ? AND locked_until_ms < ?", []any{ms(now.Add(-keepThrottle)), n}},
		{&Session{}, "idle_until_ms < ? OR until_ms < ?", []any{n, n}},
		// Used codes are kept as long as the tokens they issued could be replayed against.
		{&AuthCode{}, "expires_ms < ?", []any{n - 24*3600_000}},
		{&MFAToken{}, "expires_ms < ?", []any{n}},
	}
	for _, st := range steps {
		// Select a batch of keys, then delete them: portable across SQLite and Postgres,
		// and each statement stays small.
		stmt := s.q(ctx).Model(st.model).Where(st.where, st.args...).Limit(batch)
		var res *gorm.DB
		switch st.model.(type) {
		case *throttle:
			res = s.q(ctx).Where("(aid, key) IN (?)", stmt.Select("aid", "key")).Delete(st.model)
		case *revokedToken:
			res = s.q(ctx).Where("jti IN (?)", stmt.Select("jti")).Delete(st.model)
		default:
			res = s.q(ctx).Where("id IN (?)", stmt.Select("id")).Delete(st.model)
		}
		if res.Error != nil {
			return total, translate(res.Error)
		}
		total += res.RowsAffected
	}
	return total, nil
}

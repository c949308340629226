package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Create stores a new session.
func (grp Sessions) Create(ctx context.Context, se *Session) error {
	return translate(grp.s.q(ctx).Create(se).Error)
}

// ByHash finds a live session by the keyed hash of its cookie value.
func (grp Sessions) ByHash(ctx context.Context, aid string, hash []byte, now time.Time) (*Session, error) {
	var se Session
	n := ms(now)
	err := grp.s.q(ctx).Where("aid = ? AND hash = ? AND idle_until_ms > ? AND until_ms > ?", aid, hash, n, n).Take(&se).Error
	if err != nil {
		return nil, translate(err)
	}
	return &se, nil
}

// Touch extends a session's idle lifetime (never past its absolute end).
func (grp Sessions) Touch(ctx context.Context, id string, idleUntil int64) error {
	return translate(grp.s.q(ctx).Model(&Session{}).Where("id = ? AND idle_until_ms < ?", id, idleUntil).
		Update("idle_until_ms", idleUntil).Error)
}

// Delete ends a session.
func (grp Sessions) Delete(ctx context.Context, id string) error {
	return translate(grp.s.q(ctx).Where("id = ?", id).Delete(&Session{}).Error)
}

// Create stores an authorization code.
func (grp AuthCodes) Create(ctx context.Context, c *AuthCode) error {
	return translate(grp.s.q(ctx).Create(c).Error)
}

// ByHash finds an authorization code by its keyed hash.
func (grp AuthCodes) ByHash(ctx context.Context, aid string, hash []byte) (*AuthCode, error) {
	var c AuthCode
	if err := grp.s.q(ctx).Where("aid = ? AND hash = ?", aid, hash).Take(&c).Error; err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// Use marks a code used; false when it was used already (a replay).
func (grp AuthCodes) Use(ctx context.Context, id string, now time.Time) (bool, error) {
	res := grp.s.q(ctx).Model(&AuthCode{}).Where("id = ? AND used_ms = 0", id).Update("used_ms", ms(now))
	return res.RowsAffected == 1, translate(res.Error)
}

// A replayed code revokes what its use issued (RFC 6749 §4.1.2), however the replay and
// that use interleave. Replay and RecordTokens each write the code's row and then read it,
// in one transaction: the row lock (Postgres) or the single writer (SQLite) orders them,
// and whichever comes second sees what the first wrote and revokes.

// Replay records that a used code was presented again and revokes the tokens its use
// recorded so far; a use that records its tokens later finds the mark (RecordTokens).
func (grp AuthCodes) Replay(ctx context.Context, id string, now time.Time) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		err := tx.q(ctx).Model(&AuthCode{}).Where("id = ?", id).
			Update("replayed_ms", gorm.Expr("CASE WHEN replayed_ms = 0 THEN ? ELSE replayed_ms END", ms(now))).Error
		if err != nil {
			return translate(err)
		}
		var c AuthCode
		if err := tx.q(ctx).Where("id = ?", id).Take(&c).Error; err != nil {
			return translate(err)
		}
		return tx.revokeIssued(ctx, &c, now)
	})
}

// RecordTokens remembers what a code issued, to revoke it if the code is replayed. When
// the code was replayed already, it revokes them at once and reports true.
func (grp AuthCodes) RecordTokens(ctx context.Context, id, familyID, jti string, accessExp, now time.Time) (bool, error) {
	replayed := false
	err := grp.s.InTx(ctx, func(tx *Store) error {
		res := tx.q(ctx).Model(&AuthCode{}).Where("id = ?", id).
			Updates(map[string]any{"family_id": familyID, "access_jti": jti, "access_exp_ms": ms(accessExp)})
		if res.Error != nil || res.RowsAffected == 0 {
			return translate(res.Error) // no row: the code went with its customer
		}
		var c AuthCode
		if err := tx.q(ctx).Where("id = ?", id).Take(&c).Error; err != nil {
			return translate(err)
		}
		if c.ReplayedMS == 0 {
			return nil
		}
		replayed = true
		return tx.revokeIssued(ctx, &c, now)
	})
	return replayed, err
}

// revokeIssued revokes the refresh token family and the access token recorded for c.
func (s *Store) revokeIssued(ctx context.Context, c *AuthCode, now time.Time) error {
	if c.FamilyID != "" {
		if _, err := s.Tokens().RevokeFamily(ctx, c.FamilyID, now); err != nil {
			return err
		}
	}
	if c.AccessJTI == "" {
		return nil
	}
	return s.Tokens().RevokeAccess(ctx, c.AID, c.AccessJTI, time.UnixMilli(c.AccessExpMS))
}

// ByIdentity finds the customer linked to an upstream identity.
func (grp Customers) ByIdentity(ctx context.Context, aid, authority, subject string) (*Customer, error) {
	var c Customer
	err := grp.s.q(ctx).Table("customers AS c").Select("c.*").
		Joins("JOIN external_identities AS x ON x.customer_id = c.id").
		Where("x.aid = ? AND x.authority = ? AND x.subject = ?", aid, authority, subject).Take(&c).Error
	if err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// LinkIdentity links an upstream identity to a customer (creating the customer first when
// create is set), in one transaction.
func (grp Customers) LinkIdentity(ctx context.Context, x *ExternalIdentity, create *Customer) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		if create != nil {
			if err := translate(tx.q(ctx).Create(create).Error); err != nil {
				return err
			}
		}
		return translate(tx.q(ctx).Create(x).Error)
	})
}

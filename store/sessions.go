package store

import (
	"context"
	"time"
)

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, se *Session) error {
	return translate(s.q(ctx).Create(se).Error)
}

// SessionByHash finds a live session by the keyed hash of its cookie value.
func (s *Store) SessionByHash(ctx context.Context, aid string, hash []byte, now time.Time) (*Session, error) {
	var se Session
	n := ms(now)
	err := s.q(ctx).Where("aid = ? AND hash = ? AND idle_until_ms > ? AND until_ms > ?", aid, hash, n, n).Take(&se).Error
	if err != nil {
		return nil, translate(err)
	}
	return &se, nil
}

// TouchSession extends a session's idle lifetime (never past its absolute end).
func (s *Store) TouchSession(ctx context.Context, id string, idleUntil int64) error {
	return translate(s.q(ctx).Model(&Session{}).Where("id = ? AND idle_until_ms < ?", id, idleUntil).
		Update("idle_until_ms", idleUntil).Error)
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return translate(s.q(ctx).Where("id = ?", id).Delete(&Session{}).Error)
}

// CreateAuthCode stores an authorization code.
func (s *Store) CreateAuthCode(ctx context.Context, c *AuthCode) error {
	return translate(s.q(ctx).Create(c).Error)
}

// AuthCodeByHash finds an authorization code by its keyed hash.
func (s *Store) AuthCodeByHash(ctx context.Context, aid string, hash []byte) (*AuthCode, error) {
	var c AuthCode
	if err := s.q(ctx).Where("aid = ? AND hash = ?", aid, hash).Take(&c).Error; err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// UseAuthCode marks a code used; false when it was used already (a replay).
func (s *Store) UseAuthCode(ctx context.Context, id string, now time.Time) (bool, error) {
	res := s.q(ctx).Model(&AuthCode{}).Where("id = ? AND used_ms = 0", id).Update("used_ms", ms(now))
	return res.RowsAffected == 1, translate(res.Error)
}

// RecordCodeTokens remembers what a code issued, to revoke it if the code is replayed.
func (s *Store) RecordCodeTokens(ctx context.Context, id, familyID, jti string, accessExp time.Time) error {
	return translate(s.q(ctx).Model(&AuthCode{}).Where("id = ?", id).
		Updates(map[string]any{"family_id": familyID, "access_jti": jti, "access_exp_ms": ms(accessExp)}).Error)
}

// IdentityCustomer finds the customer linked to an upstream identity.
func (s *Store) IdentityCustomer(ctx context.Context, aid, authority, subject string) (*Customer, error) {
	var c Customer
	err := s.q(ctx).Table("customers AS c").Select("c.*").
		Joins("JOIN external_identities AS x ON x.customer_id = c.id").
		Where("x.aid = ? AND x.authority = ? AND x.subject = ?", aid, authority, subject).Take(&c).Error
	if err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// LinkIdentity links an upstream identity to a customer (creating the customer first when
// create is set), in one transaction.
func (s *Store) LinkIdentity(ctx context.Context, x *ExternalIdentity, create *Customer) error {
	return s.InTx(ctx, func(tx *Store) error {
		if create != nil {
			if err := translate(tx.q(ctx).Create(create).Error); err != nil {
				return err
			}
		}
		return translate(tx.q(ctx).Create(x).Error)
	})
}

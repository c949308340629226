package store

import (
	"context"
	"time"
)

// Create stores a new mfa_token.
func (grp MFATokens) Create(ctx context.Context, t *MFAToken) error {
	return translate(grp.s.q(ctx).Create(t).Error)
}

// Get finds an mfa_token of an account by its keyed hash, used or not.
func (grp MFATokens) Get(ctx context.Context, aid string, hash []byte) (*MFAToken, error) {
	var t MFAToken
	if err := grp.s.q(ctx).Where("aid = ? AND hash = ?", aid, hash).Take(&t).Error; err != nil {
		return nil, translate(err)
	}
	return &t, nil
}

// Use spends an mfa_token: exactly one of racing requests succeeds, the others (and any
// later one, or one past its expiry) get ErrUsed.
func (grp MFATokens) Use(ctx context.Context, id string, now time.Time) error {
	res := grp.s.q(ctx).Model(&MFAToken{}).Where("id = ? AND used_ms = 0 AND expires_ms > ?", id, ms(now)).
		Update("used_ms", ms(now))
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrUsed
	}
	return nil
}

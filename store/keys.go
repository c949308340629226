package store

import (
	"context"
	"time"
)

// List lists an account's keys, newest activation first.
func (grp Keys) List(ctx context.Context, aid string) ([]SigningKey, error) {
	var rows []SigningKey
	err := grp.s.q(ctx).Where("aid = ?", aid).Order("activates_at DESC, kid DESC").Find(&rows).Error
	return rows, translate(err)
}

// Add inserts the next generation of an account's keys (one key, or an access
// token key with its RS256 ID token companion) and marks the keys they supersede to retire
// at retireAt (when the last token they can still sign has expired), in one transaction.
func (grp Keys) Add(ctx context.Context, retireAt time.Time, keys ...*SigningKey) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		err := tx.q(ctx).Model(&SigningKey{}).
			Where("aid = ? AND retires_at IS NULL", keys[0].AID).
			Update("retires_at", utc(retireAt)).Error
		if err != nil {
			return translate(err)
		}
		return translate(tx.q(ctx).Create(keys).Error)
	})
}

// DeleteRetired removes keys that left the JWKS before now.
func (grp Keys) DeleteRetired(ctx context.Context, now time.Time) (int64, error) {
	res := grp.s.q(ctx).Where("retires_at IS NOT NULL AND retires_at < ?", utc(now)).Delete(&SigningKey{})
	return res.RowsAffected, translate(res.Error)
}

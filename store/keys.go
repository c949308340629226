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
// token key with its RS256 ID token companion, activating together) and retires the keys
// they supersede, in one transaction. Keys that activate before the new generation sign
// until it activates and retire at retireAt (when the last token they can still sign has
// expired). A pending generation that would activate at or after the new one never signs:
// the newest rotation decides, so it retires when the new generation activates.
func (grp Keys) Add(ctx context.Context, retireAt time.Time, keys ...*SigningKey) error {
	activates := utc(keys[0].ActivatesAt)
	return grp.s.InTx(ctx, func(tx *Store) error {
		err := tx.q(ctx).Model(&SigningKey{}).
			Where("aid = ? AND retires_at IS NULL AND activates_at < ?", keys[0].AID, activates).
			Update("retires_at", utc(retireAt)).Error
		if err != nil {
			return translate(err)
		}
		err = tx.q(ctx).Model(&SigningKey{}).
			Where("aid = ? AND retires_at IS NULL AND activates_at >= ?", keys[0].AID, activates).
			Update("retires_at", activates).Error
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

package store

import (
	"context"
	"time"
)

// Factor types.
const (
	FactorTOTP     = "totp"
	FactorRecovery = "recovery_codes"
	FactorWebAuthn = "webauthn"
)

// Factor is a customer's second factor. Secret is the TOTP secret sealed by the caller with
// the master key; CredentialID and Credential are a WebAuthn credential (Credential is the
// library's record as JSON: public key, sign counter, flags, transports). A TOTP factor is
// Confirmed once a first code was checked; LastStep is the last TOTP time step accepted.
type Factor struct {
	ID           string     `gorm:"column:id;primaryKey"`
	AID          string     `gorm:"column:aid"`
	CustomerID   string     `gorm:"column:customer_id"`
	Type         string     `gorm:"column:type"`
	Name         string     `gorm:"column:name"`
	Secret       []byte     `gorm:"column:secret"`
	CredentialID []byte     `gorm:"column:credential_id"`
	Credential   string     `gorm:"column:credential"`
	Confirmed    bool       `gorm:"column:confirmed"`
	LastStep     int64      `gorm:"column:last_step"`
	CreatedAt    time.Time  `gorm:"column:created_at"`
	LastUsedAt   *time.Time `gorm:"column:last_used_at"`
}

// recoveryCode is one single-use recovery code of a recovery_codes factor (keyed hash).
type recoveryCode struct {
	FactorID string `gorm:"column:factor_id;primaryKey"`
	Hash     []byte `gorm:"column:hash;primaryKey"`
	UsedMS   int64  `gorm:"column:used_ms"`
}

func (recoveryCode) TableName() string { return "recovery_codes" }

// Create stores a factor; ErrConflict when its WebAuthn credential id is taken in the
// account.
func (grp Factors) Create(ctx context.Context, f *Factor) error {
	return translate(grp.s.q(ctx).Create(f).Error)
}

// List answers a customer's factors, oldest first (at most a few per customer).
func (grp Factors) List(ctx context.Context, aid, customerID string) ([]Factor, error) {
	var out []Factor
	err := grp.s.q(ctx).Where("aid = ? AND customer_id = ?", aid, customerID).Order("id").Find(&out).Error
	return out, translate(err)
}

// Get loads one factor of a customer.
func (grp Factors) Get(ctx context.Context, aid, customerID, id string) (*Factor, error) {
	var f Factor
	if err := grp.s.q(ctx).Where("aid = ? AND customer_id = ? AND id = ?", aid, customerID, id).Take(&f).Error; err != nil {
		return nil, translate(err)
	}
	return &f, nil
}

// Delete deletes one factor of a customer (its recovery codes go with it).
func (grp Factors) Delete(ctx context.Context, aid, customerID, id string) error {
	res := grp.s.q(ctx).Where("aid = ? AND customer_id = ? AND id = ?", aid, customerID, id).Delete(&Factor{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteAll deletes every factor of a customer and reports how many there were.
func (grp Factors) DeleteAll(ctx context.Context, aid, customerID string) (int64, error) {
	res := grp.s.q(ctx).Where("aid = ? AND customer_id = ?", aid, customerID).Delete(&Factor{})
	return res.RowsAffected, translate(res.Error)
}

// DeletePending deletes a customer's TOTP factors never confirmed (enrolments a new one
// replaces), and reports how many.
func (grp Factors) DeletePending(ctx context.Context, aid, customerID string) (int64, error) {
	res := grp.s.q(ctx).Where("aid = ? AND customer_id = ? AND type = ? AND confirmed = ?",
		aid, customerID, FactorTOTP, false).Delete(&Factor{})
	return res.RowsAffected, translate(res.Error)
}

// UseStep accepts TOTP time step step for the factor, once: the conditional update lets
// exactly one of racing requests with a code of the same (or an older) step through; the
// others get ErrUsed (the step was used already). The first accepted step confirms a new factor.
func (grp Factors) UseStep(ctx context.Context, id string, step int64, now time.Time) error {
	res := grp.s.q(ctx).Model(&Factor{}).Where("id = ? AND last_step < ?", id, step).
		Updates(map[string]any{"last_step": step, "last_used_at": now.UTC(), "confirmed": true})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		if _, err := grp.byID(ctx, id); err != nil {
			return err
		}
		return ErrUsed
	}
	return nil
}

func (grp Factors) byID(ctx context.Context, id string) (*Factor, error) {
	var f Factor
	if err := grp.s.q(ctx).Where("id = ?", id).Take(&f).Error; err != nil {
		return nil, translate(err)
	}
	return &f, nil
}

// UpdateCredential writes a WebAuthn factor's credential record (its sign counter moves
// with every use) and when it was used.
func (grp Factors) UpdateCredential(ctx context.Context, id, credential string, now time.Time) error {
	res := grp.s.q(ctx).Model(&Factor{}).Where("id = ? AND type = ?", id, FactorWebAuthn).
		Updates(map[string]any{"credential": credential, "last_used_at": now.UTC()})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ReplaceRecoveryCodes makes f (a recovery_codes factor) the customer's only set of
// recovery codes, with the given keyed hashes, in one transaction: the old set stops
// working when the new one exists.
func (grp Factors) ReplaceRecoveryCodes(ctx context.Context, f *Factor, hashes [][]byte) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		if err := translate(tx.q(ctx).Where("aid = ? AND customer_id = ? AND type = ?", f.AID, f.CustomerID, FactorRecovery).
			Delete(&Factor{}).Error); err != nil {
			return err
		}
		if err := translate(tx.q(ctx).Create(f).Error); err != nil {
			return err
		}
		codes := make([]recoveryCode, len(hashes))
		for i, h := range hashes {
			codes[i] = recoveryCode{FactorID: f.ID, Hash: h}
		}
		if len(codes) == 0 {
			return nil
		}
		return translate(tx.q(ctx).Create(&codes).Error)
	})
}

// UseRecoveryCode spends one of the customer's recovery codes, by its keyed hash: exactly
// one of racing requests with the same code succeeds. ErrNotFound: no such unused code.
func (grp Factors) UseRecoveryCode(ctx context.Context, aid, customerID string, hash []byte, now time.Time) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		var ids []string
		if err := tx.q(ctx).Model(&Factor{}).Where("aid = ? AND customer_id = ? AND type = ?", aid, customerID, FactorRecovery).
			Pluck("id", &ids).Error; err != nil {
			return translate(err)
		}
		if len(ids) == 0 {
			return ErrNotFound
		}
		res := tx.q(ctx).Model(&recoveryCode{}).Where("factor_id = ? AND hash = ? AND used_ms = 0", ids[0], hash).
			Update("used_ms", ms(now))
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return translate(tx.q(ctx).Model(&Factor{}).Where("id = ?", ids[0]).Update("last_used_at", now.UTC()).Error)
	})
}

// RecoveryCodesLeft counts the unused codes of the customer's recovery set.
func (grp Factors) RecoveryCodesLeft(ctx context.Context, aid, customerID string) (int64, error) {
	var n int64
	err := grp.s.q(ctx).Model(&recoveryCode{}).
		Joins("JOIN factors ON factors.id = recovery_codes.factor_id").
		Where("factors.aid = ? AND factors.customer_id = ? AND recovery_codes.used_ms = 0", aid, customerID).Count(&n).Error
	return n, translate(err)
}

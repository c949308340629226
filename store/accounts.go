package store

import (
	"context"
)

// Create inserts an account with its built-in scopes and first signing key in one
// transaction.
func (grp Accounts) Create(ctx context.Context, a *Account, scopes []Scope, keys ...*SigningKey) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		if err := translate(tx.q(ctx).Create(a).Error); err != nil {
			return err
		}
		if len(scopes) > 0 {
			if err := translate(tx.q(ctx).Create(&scopes).Error); err != nil {
				return err
			}
		}
		if len(keys) > 0 {
			return translate(tx.q(ctx).Create(keys).Error)
		}
		return nil
	})
}

// Get loads one account.
func (grp Accounts) Get(ctx context.Context, aid string) (*Account, error) {
	var a Account
	if err := grp.s.q(ctx).Where("aid = ?", aid).Take(&a).Error; err != nil {
		return nil, translate(err)
	}
	return &a, nil
}

// List pages through all accounts by aid.
func (grp Accounts) List(ctx context.Context, p Page) ([]Account, string, error) {
	var rows []Account
	if err := p.apply(grp.s.q(ctx).Model(&Account{}), "aid").Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := pageOf(rows, p.Limit, func(a Account) string { return a.AID })
	return rows, next, nil
}

// IDs lists every account id (for background jobs).
func (grp Accounts) IDs(ctx context.Context) ([]string, error) {
	var ids []string
	err := grp.s.q(ctx).Model(&Account{}).Order("aid").Pluck("aid", &ids).Error
	return ids, translate(err)
}

// Update writes the name and settings of an account.
func (grp Accounts) Update(ctx context.Context, a *Account) error {
	a.UpdatedAt = grp.s.stamp()
	res := grp.s.stamped(ctx).Model(&Account{}).Where("aid = ?", a.AID).
		Select("name", "settings", "updated_at").Updates(a)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete deletes an account and, by cascade, everything in it.
func (grp Accounts) Delete(ctx context.Context, aid string) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		// client_scopes reference scopes without cascade; clear them first so the cascade
		// from accounts never trips over them, whatever order the database picks.
		if err := tx.q(ctx).Exec(`DELETE FROM client_scopes WHERE client_pk IN (SELECT id FROM clients WHERE aid = ?)`, aid).Error; err != nil {
			return translate(err)
		}
		res := tx.q(ctx).Where("aid = ?", aid).Delete(&Account{})
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

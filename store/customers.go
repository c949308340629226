package store

import (
	"context"
	"unicode/utf8"
)

// CustomerFilter selects customers: a prefix of the normalised email or of the E.164 phone
// number, a type and a status (empty: any).
type CustomerFilter struct {
	EmailPrefix string
	PhonePrefix string
	Type        string
	Status      string
}

// Create inserts a customer; ErrConflict when the email or phone number is taken for
// the type. An invitation code, when given, is stored in the same transaction.
func (grp Customers) Create(ctx context.Context, c *Customer, code *VerificationCode) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		if err := translate(tx.q(ctx).Create(c).Error); err != nil {
			return err
		}
		if code != nil {
			return translate(tx.q(ctx).Create(code).Error)
		}
		return nil
	})
}

// Get loads a customer of an account.
func (grp Customers) Get(ctx context.Context, aid, id string) (*Customer, error) {
	var c Customer
	if err := grp.s.q(ctx).Where("aid = ? AND id = ?", aid, id).Take(&c).Error; err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// Find finds a customer by normalised email or by E.164 phone number and type.
func (grp Customers) Find(ctx context.Context, aid, typ, emailNorm, phone string) (*Customer, error) {
	var c Customer
	q := grp.s.q(ctx).Where("aid = ? AND type = ?", aid, typ)
	switch {
	case emailNorm != "":
		q = q.Where("email_norm = ?", emailNorm)
	case phone != "":
		q = q.Where("phone_number = ?", phone)
	default:
		return nil, ErrNotFound
	}
	if err := q.Take(&c).Error; err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// prefixEnd is the smallest string above every string that starts with p (byte order):
// p followed by the highest code point.
func prefixEnd(p string) string { return p + string(utf8.MaxRune) }

// List pages through customers matching f. With an email prefix the order is
// (email_norm, id), with a phone prefix (phone_number, id), else id; the cursor is the id of
// the last customer of the previous page, whose sort key is looked up.
func (grp Customers) List(ctx context.Context, aid string, f CustomerFilter, p Page) ([]Customer, string, error) {
	q := grp.s.q(ctx).Where("aid = ?", aid)
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	col, prefix := "", ""
	switch {
	case f.EmailPrefix != "":
		col, prefix = "email_norm", f.EmailPrefix
	case f.PhonePrefix != "":
		col, prefix = "phone_number", f.PhonePrefix
	}
	var rows []Customer
	if col == "" {
		if err := p.apply(q, "id").Find(&rows).Error; err != nil {
			return nil, "", translate(err)
		}
	} else {
		q = q.Where(col+" >= ? AND "+col+" < ?", prefix, prefixEnd(prefix))
		if p.After != "" {
			var after Customer
			if err := grp.s.q(ctx).Select("id", col).Where("aid = ? AND id = ?", aid, p.After).Take(&after).Error; err != nil {
				return nil, "", translate(err)
			}
			key := after.EmailNorm
			if col == "phone_number" {
				key = after.PhoneNumber
			}
			if key != nil {
				q = q.Where("("+col+" > ? OR ("+col+" = ? AND id > ?))", *key, *key, after.ID)
			}
		}
		if err := q.Order(col).Order("id").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
			return nil, "", translate(err)
		}
	}
	rows, next := pageOf(rows, p.Limit, func(c Customer) string { return c.ID })
	return rows, next, nil
}

// Update writes the named columns of a customer. When revokeTokens is set, the
// customer's refresh tokens are revoked in the same transaction.
func (grp Customers) Update(ctx context.Context, c *Customer, columns []string, revokeTokens bool) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		c.UpdatedAt = grp.s.stamp()
		res := tx.stamped(ctx).Model(&Customer{}).Where("aid = ? AND id = ?", c.AID, c.ID).
			Select(append([]string{"updated_at"}, columns...)).Updates(c)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if revokeTokens {
			return tx.revokeCustomerTokens(ctx, c.ID, tx.now())
		}
		return nil
	})
}

// Delete deletes a customer; their refresh tokens and codes go with them.
func (grp Customers) Delete(ctx context.Context, aid, id string) error {
	res := grp.s.q(ctx).Where("aid = ? AND id = ?", aid, id).Delete(&Customer{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

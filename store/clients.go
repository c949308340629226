package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm/clause"
)

// ErrLimit: a per-parent limit (such as secrets per client) is reached.
var ErrLimit = errors.New("limit reached")

// Create inserts a client and its scopes in one transaction.
func (grp Clients) Create(ctx context.Context, c *Client, scopeIDs []string) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		if err := translate(tx.q(ctx).Create(c).Error); err != nil {
			return err
		}
		return tx.setClientScopes(ctx, c.AID, c.ID, scopeIDs)
	})
}

// setClientScopes replaces the scopes of client clientPK of account aid. Every scope must be
// one of aid: client_scopes only references scopes (id), so without this check a client
// could list another account's scope, which would then block that account's deletion. A
// scope of another account is not found to this one, like a missing scope; the check runs
// in the caller's transaction with the insert.
func (s *Store) setClientScopes(ctx context.Context, aid, clientPK string, scopeIDs []string) error {
	if err := s.q(ctx).Where("client_pk = ?", clientPK).Delete(&clientScope{}).Error; err != nil {
		return translate(err)
	}
	if len(scopeIDs) == 0 {
		return nil
	}
	distinct := make(map[string]bool, len(scopeIDs))
	for _, id := range scopeIDs {
		distinct[id] = true
	}
	var n int64
	if err := s.q(ctx).Model(&Scope{}).Where("aid = ? AND id IN ?", aid, scopeIDs).Count(&n).Error; err != nil {
		return translate(err)
	}
	if n != int64(len(distinct)) {
		return ErrNotFound
	}
	links := make([]clientScope, len(scopeIDs))
	for i, id := range scopeIDs {
		links[i] = clientScope{ClientPK: clientPK, ScopeID: id, Position: i}
	}
	return translate(s.q(ctx).Create(&links).Error)
}

// Get loads a client of an account by its internal id, with its scopes.
func (grp Clients) Get(ctx context.Context, aid, kind, id string) (*Client, error) {
	var c Client
	if err := grp.s.q(ctx).Where("aid = ? AND kind = ? AND id = ?", aid, kind, id).Take(&c).Error; err != nil {
		return nil, translate(err)
	}
	if err := grp.s.loadScopes(ctx, []*Client{&c}); err != nil {
		return nil, err
	}
	return &c, nil
}

// ByClientID loads a client of an account by its OAuth client_id, with its scopes.
func (grp Clients) ByClientID(ctx context.Context, aid, clientID string) (*Client, error) {
	var c Client
	if err := grp.s.q(ctx).Where("aid = ? AND client_id = ?", aid, clientID).Take(&c).Error; err != nil {
		return nil, translate(err)
	}
	if err := grp.s.loadScopes(ctx, []*Client{&c}); err != nil {
		return nil, err
	}
	return &c, nil
}

// List pages through an account's clients of one kind, with their scopes.
func (grp Clients) List(ctx context.Context, aid, kind string, p Page) ([]Client, string, error) {
	var rows []Client
	if err := p.apply(grp.s.q(ctx).Where("aid = ? AND kind = ?", aid, kind), "id").Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := pageOf(rows, p.Limit, func(c Client) string { return c.ID })
	ptrs := make([]*Client, len(rows))
	for i := range rows {
		ptrs[i] = &rows[i]
	}
	if err := grp.s.loadScopes(ctx, ptrs); err != nil {
		return nil, "", err
	}
	return rows, next, nil
}

// loadScopes fills Scopes of the clients with one query.
func (s *Store) loadScopes(ctx context.Context, clients []*Client) error {
	if len(clients) == 0 {
		return nil
	}
	ids := make([]string, len(clients))
	byID := make(map[string]*Client, len(clients))
	for i, c := range clients {
		ids[i] = c.ID
		byID[c.ID] = c
		c.Scopes = []Scope{}
	}
	type row struct {
		ClientPK string
		Scope
	}
	var rows []row
	err := s.q(ctx).Table("client_scopes AS cs").
		Select("cs.client_pk AS client_pk, s.*").
		Joins("JOIN scopes AS s ON s.id = cs.scope_id").
		Where("cs.client_pk IN ?", ids).
		Order("cs.client_pk, cs.position").
		Scan(&rows).Error
	if err != nil {
		return translate(err)
	}
	for _, r := range rows {
		c := byID[r.ClientPK]
		c.Scopes = append(c.Scopes, r.Scope)
	}
	return nil
}

// Update writes the named columns of a client and, when scopeIDs is not nil, replaces
// its scopes, in one transaction.
func (grp Clients) Update(ctx context.Context, c *Client, columns []string, scopeIDs *[]string) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		c.UpdatedAt = grp.s.stamp()
		cols := append([]string{"updated_at"}, columns...)
		res := tx.stamped(ctx).Model(&Client{}).Where("aid = ? AND id = ?", c.AID, c.ID).Select(cols).Updates(c)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if scopeIDs != nil {
			return tx.setClientScopes(ctx, c.AID, c.ID, *scopeIDs)
		}
		return nil
	})
}

// Delete deletes a client with its scopes links and secrets.
func (grp Clients) Delete(ctx context.Context, aid, kind, id string) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		res := tx.q(ctx).Where("aid = ? AND kind = ? AND id = ?", aid, kind, id).Delete(&Client{})
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// Create inserts a secret unless the client already has max of them (ErrLimit).
func (grp Secrets) Create(ctx context.Context, sec *Secret, max int) error {
	return grp.s.InTx(ctx, func(tx *Store) error {
		if tx.dialect == DialectPostgres {
			// Under READ COMMITTED every racing transaction would count the same rows and
			// all insert; locking the client row first makes them count one after another.
			// SQLite's immediate transactions serialise writers already.
			var locked []string
			err := tx.q(ctx).Model(&Client{}).Clauses(clause.Locking{Strength: "UPDATE"}).
				Where("id = ?", sec.ClientPK).Pluck("id", &locked).Error
			if err != nil {
				return translate(err)
			}
		}
		var n int64
		if err := tx.q(ctx).Model(&Secret{}).Where("client_pk = ?", sec.ClientPK).Count(&n).Error; err != nil {
			return translate(err)
		}
		if int(n) >= max {
			return ErrLimit
		}
		return translate(tx.q(ctx).Create(sec).Error)
	})
}

// List pages through the secrets of a client.
func (grp Secrets) List(ctx context.Context, clientPK string, p Page) ([]Secret, string, error) {
	var rows []Secret
	if err := p.apply(grp.s.q(ctx).Where("client_pk = ?", clientPK), "id").Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := pageOf(rows, p.Limit, func(sc Secret) string { return sc.ID })
	return rows, next, nil
}

// Of lists every secret of a client (there are few: creation is capped).
func (grp Secrets) Of(ctx context.Context, clientPK string) ([]Secret, error) {
	var rows []Secret
	err := grp.s.q(ctx).Where("client_pk = ?", clientPK).Order("id").Find(&rows).Error
	return rows, translate(err)
}

// Delete deletes one secret of a client.
func (grp Secrets) Delete(ctx context.Context, clientPK, id string) error {
	res := grp.s.q(ctx).Where("client_pk = ? AND id = ?", clientPK, id).Delete(&Secret{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// Touch records when secrets were last used, in one transaction per batch. Secrets
// deleted meanwhile are skipped.
func (grp Secrets) Touch(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return grp.s.InTx(ctx, func(tx *Store) error {
		for id, at := range used {
			at = utc(at)
			err := tx.q(ctx).Model(&Secret{}).Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, at).
				Update("last_used_at", at).Error
			if err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

// AllowedOrigins is the union of the web origins the account's clients allow (CORS),
// sorted, each once.
func (grp Clients) AllowedOrigins(ctx context.Context, aid string) ([]string, error) {
	var lists []Client
	err := grp.s.q(ctx).Select("allowed_origins").Where("aid = ? AND allowed_origins <> ?", aid, "[]").Find(&lists).Error
	if err != nil {
		return nil, translate(err)
	}
	out := []string{}
	for _, c := range lists {
		out = append(out, c.AllowedOrigins...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

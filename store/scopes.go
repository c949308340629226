package store

import "context"

// CreateScope inserts a scope; ErrConflict when the scope string is taken in the account.
func (s *Store) CreateScope(ctx context.Context, sc *Scope) error {
	return translate(s.q(ctx).Create(sc).Error)
}

// GetScope loads a scope of an account.
func (s *Store) GetScope(ctx context.Context, aid, id string) (*Scope, error) {
	var sc Scope
	if err := s.q(ctx).Where("aid = ? AND id = ?", aid, id).Take(&sc).Error; err != nil {
		return nil, translate(err)
	}
	return &sc, nil
}

// ListScopes pages through an account's scopes.
func (s *Store) ListScopes(ctx context.Context, aid string, p Page) ([]Scope, string, error) {
	var rows []Scope
	if err := p.apply(s.q(ctx).Where("aid = ?", aid), "id").Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := pageOf(rows, p.Limit, func(sc Scope) string { return sc.ID })
	return rows, next, nil
}

// ScopesByName finds the account's scopes with these scope strings.
func (s *Store) ScopesByName(ctx context.Context, aid string, names []string) ([]Scope, error) {
	var rows []Scope
	if len(names) == 0 {
		return rows, nil
	}
	err := s.q(ctx).Where("aid = ? AND scope IN ?", aid, names).Find(&rows).Error
	return rows, translate(err)
}

// UpdateScope writes the mutable fields of a scope.
func (s *Store) UpdateScope(ctx context.Context, sc *Scope) error {
	res := s.q(ctx).Model(&Scope{}).Where("aid = ? AND id = ?", sc.AID, sc.ID).
		Select("service_name", "description").Updates(sc)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteScope deletes a scope; ErrInUse while a client holds it.
func (s *Store) DeleteScope(ctx context.Context, aid, id string) error {
	res := s.q(ctx).Where("aid = ? AND id = ?", aid, id).Delete(&Scope{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

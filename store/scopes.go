package store

import "context"

// Create inserts a scope; ErrConflict when the scope string is taken in the account.
func (grp Scopes) Create(ctx context.Context, sc *Scope) error {
	return translate(grp.s.q(ctx).Create(sc).Error)
}

// Get loads a scope of an account.
func (grp Scopes) Get(ctx context.Context, aid, id string) (*Scope, error) {
	var sc Scope
	if err := grp.s.q(ctx).Where("aid = ? AND id = ?", aid, id).Take(&sc).Error; err != nil {
		return nil, translate(err)
	}
	return &sc, nil
}

// List pages through an account's scopes.
func (grp Scopes) List(ctx context.Context, aid string, p Page) ([]Scope, string, error) {
	var rows []Scope
	if err := p.apply(grp.s.q(ctx).Where("aid = ?", aid), "id").Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := pageOf(rows, p.Limit, func(sc Scope) string { return sc.ID })
	return rows, next, nil
}

// ByName finds the account's scopes with these scope strings.
func (grp Scopes) ByName(ctx context.Context, aid string, names []string) ([]Scope, error) {
	var rows []Scope
	if len(names) == 0 {
		return rows, nil
	}
	err := grp.s.q(ctx).Where("aid = ? AND scope IN ?", aid, names).Find(&rows).Error
	return rows, translate(err)
}

// Update writes the mutable fields of a scope.
func (grp Scopes) Update(ctx context.Context, sc *Scope) error {
	res := grp.s.q(ctx).Model(&Scope{}).Where("aid = ? AND id = ?", sc.AID, sc.ID).
		Select("service_name", "description").Updates(sc)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete deletes a scope; ErrInUse while a client holds it.
func (grp Scopes) Delete(ctx context.Context, aid, id string) error {
	res := grp.s.q(ctx).Where("aid = ? AND id = ?", aid, id).Delete(&Scope{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

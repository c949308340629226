package store

import (
	"context"

	"gorm.io/gorm"
)

type gormDB = gorm.DB

// AppKinds are the kinds of application clients (not service accounts).
var AppKinds = []string{KindPublic, KindConfidential}

// App loads an application client (public or confidential) by its client_id.
func (grp Clients) App(ctx context.Context, aid, clientID string) (*Client, error) {
	var c Client
	err := grp.s.q(ctx).Where("aid = ? AND client_id = ? AND kind IN ?", aid, clientID, AppKinds).Take(&c).Error
	if err != nil {
		return nil, translate(err)
	}
	c.Scopes = []Scope{}
	return &c, nil
}

// ListApps pages through an account's application clients.
func (grp Clients) ListApps(ctx context.Context, aid string, p Page) ([]Client, string, error) {
	var rows []Client
	q := grp.s.q(ctx).Where("aid = ? AND kind IN ?", aid, AppKinds)
	if err := p.apply(q, "client_id").Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := pageOf(rows, p.Limit, func(c Client) string { return c.ClientID })
	return rows, next, nil
}

const grantSelect = "grants.*, clients.client_id AS client_id"

func (s *Store) grants(ctx context.Context) *gormDB {
	return s.q(ctx).Table("grants").Select(grantSelect).Joins("JOIN clients ON clients.id = grants.client_pk")
}

// Create inserts a grant; ErrConflict when the client has one for this audience and type.
func (grp Grants) Create(ctx context.Context, g *Grant) error {
	return translate(grp.s.q(ctx).Omit("client_id").Create(g).Error)
}

// Get loads a grant of an account.
func (grp Grants) Get(ctx context.Context, aid, id string) (*Grant, error) {
	var g Grant
	if err := grp.s.grants(ctx).Where("grants.aid = ? AND grants.id = ?", aid, id).Take(&g).Error; err != nil {
		return nil, translate(err)
	}
	return &g, nil
}

// List pages through an account's grants, optionally of one client (by client_id).
func (grp Grants) List(ctx context.Context, aid, clientID string, p Page) ([]Grant, string, error) {
	var rows []Grant
	q := grp.s.grants(ctx).Where("grants.aid = ?", aid)
	if clientID != "" {
		q = q.Where("clients.client_id = ?", clientID)
	}
	if err := p.apply(q, "grants.id").Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := pageOf(rows, p.Limit, func(g Grant) string { return g.ID })
	return rows, next, nil
}

// Of lists every grant of a client (few: one per audience and type).
func (grp Grants) Of(ctx context.Context, clientPK string) ([]Grant, error) {
	var rows []Grant
	err := grp.s.grants(ctx).Where("grants.client_pk = ?", clientPK).Order("grants.id").Find(&rows).Error
	return rows, translate(err)
}

// Update writes the named columns of a grant.
func (grp Grants) Update(ctx context.Context, g *Grant, columns []string) error {
	g.UpdatedAt = grp.s.stamp()
	res := grp.s.stamped(ctx).Model(&Grant{}).Where("aid = ? AND id = ?", g.AID, g.ID).
		Select(append([]string{"updated_at"}, columns...)).Updates(g)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete deletes a grant of an account.
func (grp Grants) Delete(ctx context.Context, aid, id string) error {
	res := grp.s.q(ctx).Where("aid = ? AND id = ?", aid, id).Delete(&Grant{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

package store

import (
	"context"
	"time"
)

// Event outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// Event is one entry of an account's audit trail. It names who acted and on what, never a
// secret. ID is time-ordered (UUIDv7), so id order is the order events were recorded in.
type Event struct {
	ID            string    `gorm:"column:id;primaryKey"`
	AID           string    `gorm:"column:aid"`
	Type          string    `gorm:"column:type"`
	OccurredAt    time.Time `gorm:"column:occurred_at"`
	Outcome       string    `gorm:"column:outcome"`
	ActorType     string    `gorm:"column:actor_type"`
	ActorID       string    `gorm:"column:actor_id"`
	ActorAID      string    `gorm:"column:actor_aid"`
	ClientID      string    `gorm:"column:client_id"`
	SubjectType   string    `gorm:"column:subject_type"`
	SubjectID     string    `gorm:"column:subject_id"`
	SourceAddress string    `gorm:"column:source_address"`
	RequestID     string    `gorm:"column:request_id"`
	Reason        string    `gorm:"column:reason"`
}

// EventFilter narrows a listing of events; zero fields do not filter. Since is inclusive,
// Until exclusive.
type EventFilter struct {
	Type, ActorType, ActorID, SubjectID string
	Since, Until                        time.Time
}

// Add records an event.
func (grp Events) Add(ctx context.Context, e *Event) error {
	e.OccurredAt = utc(e.OccurredAt)
	return translate(grp.s.q(ctx).Create(e).Error)
}

// List pages through an account's events matching f, newest first: After is the id of the
// last event of the previous page, and the next page holds older ones.
func (grp Events) List(ctx context.Context, aid string, f EventFilter, p Page) ([]Event, string, error) {
	db := grp.s.q(ctx).Where("aid = ?", aid)
	for col, v := range map[string]string{"type": f.Type, "actor_type": f.ActorType, "actor_id": f.ActorID, "subject_id": f.SubjectID} {
		if v != "" {
			db = db.Where(col+" = ?", v)
		}
	}
	if !f.Since.IsZero() {
		db = db.Where("occurred_at >= ?", utc(f.Since))
	}
	if !f.Until.IsZero() {
		db = db.Where("occurred_at < ?", utc(f.Until))
	}
	if p.After != "" {
		db = db.Where("id < ?", p.After)
	}
	var rows []Event
	if err := db.Order("id DESC").Limit(p.size() + 1).Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := pageOf(rows, p.Limit, func(e Event) string { return e.ID })
	return rows, next, nil
}

// DeleteBefore deletes at most batch events that occurred before t (the retention) and
// reports how many it deleted.
func (grp Events) DeleteBefore(ctx context.Context, t time.Time, batch int) (int64, error) {
	old := grp.s.q(ctx).Model(&Event{}).Where("occurred_at < ?", utc(t)).Limit(batch).Select("id")
	res := grp.s.q(ctx).Where("id IN (?)", old).Delete(&Event{})
	return res.RowsAffected, translate(res.Error)
}

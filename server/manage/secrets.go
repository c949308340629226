package manage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/clients"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/store"
)

// MaxSecretsPerClient bounds a client's secrets: enough to rotate without downtime, few
// enough that the constant-time check against all of them stays cheap.
const MaxSecretsPerClient = 10

// secrets are the secrets of a client, service account or confidential application client
// alike: both surfaces of the API call the same three operations.
type secrets struct {
	store   *store.Store
	keyring *keys.Keyring
	clients *clients.Clients
	now     func() time.Time
}

// list pages through a client's secrets (never their values).
func (s secrets) list(ctx context.Context, c *store.Client, limit *int, after *string) ([]gen.Secret, nullable.Nullable[string], error) {
	list := "secrets/" + c.ID
	var none nullable.Nullable[string]
	pg, err := page(s.keyring, list, limit, after)
	if err != nil {
		return nil, none, err
	}
	rows, next, err := s.store.Secrets().List(ctx, c.ID, pg)
	if err != nil {
		return nil, none, err
	}
	now := s.now()
	items := make([]gen.Secret, len(rows))
	for i := range rows {
		items[i] = toSecret(&rows[i], now)
	}
	return items, nextCursor(s.keyring, list, next), nil
}

// add creates a secret of a client. Only its keyed hash and last four characters are
// stored, so its value is in the result and nowhere else.
func (s secrets) add(ctx context.Context, c *store.Client, body *gen.SecretCreate) (gen.SecretWithValue, error) {
	value, err := keys.NewSecret()
	if err != nil {
		return gen.SecretWithValue{}, err
	}
	now := s.now().UTC()
	sec := &store.Secret{
		ID: keys.NewID(), ClientPK: c.ID, Hash: s.keyring.HashSecret(value), Hint: value[len(value)-4:],
		CreatedAt: now,
	}
	if body != nil {
		if body.Description != nil {
			sec.Description = *body.Description
		}
		if body.ExpiresAt != nil {
			if !body.ExpiresAt.After(now) {
				return gen.SecretWithValue{}, problem.Unprocessable("expires_in_past", "expiresAt must be in the future",
					problem.FieldError{Field: "expiresAt", Message: "must be in the future"})
			}
			t := body.ExpiresAt.UTC()
			sec.ExpiresAt = &t
		}
	}
	// The store counts the client's secrets and inserts in one transaction.
	if err := s.store.Secrets().Create(ctx, sec, MaxSecretsPerClient); err != nil {
		if errors.Is(err, store.ErrLimit) {
			return gen.SecretWithValue{}, problem.Unprocessable("too_many_secrets",
				fmt.Sprintf("a client has at most %d secrets; delete one first", MaxSecretsPerClient))
		}
		return gen.SecretWithValue{}, err
	}
	s.clients.Forget(c.AID, c.ClientID)
	out := toSecret(sec, now)
	return gen.SecretWithValue{
		ID: out.ID, Hint: out.Hint, Description: out.Description, CreatedAt: out.CreatedAt,
		ExpiresAt: out.ExpiresAt, LastUsedAt: out.LastUsedAt,
		Status: gen.SecretWithValueStatus(out.Status), Secret: value,
	}, nil
}

// delete revokes a client's secret: it stops working at once on this node (the cached
// client is dropped) and within the cache TTL on others.
func (s secrets) delete(ctx context.Context, c *store.Client, secretID string) error {
	if err := s.store.Secrets().Delete(ctx, c.ID, secretID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFound("secret")
		}
		return err
	}
	s.clients.Forget(c.AID, c.ClientID)
	return nil
}

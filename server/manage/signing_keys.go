package manage

import (
	"context"
	"time"

	"github.com/twinid/twinid/gen"
	"github.com/twinid/twinid/server/account"
	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/store"
)

// signingKeyViews lists the account's live keys from the database, not from the node cache:
// the admin view is always current, and reading it never evicts what the token path uses.
func signingKeyViews(ctx context.Context, st *store.Store, aid string, now time.Time) ([]gen.SigningKey, error) {
	all, err := st.Keys().List(ctx, aid)
	if err != nil {
		return nil, err
	}
	rows := keys.Live(all, now)
	items := make([]gen.SigningKey, 0, len(rows))
	for i := range rows {
		k, err := toSigningKey(rows, i, now)
		if err != nil {
			return nil, err
		}
		items = append(items, k)
	}
	return items, nil
}

// ListSigningKeys implements GET .../signing-keys.
func (a *API) ListSigningKeys(ctx context.Context, req gen.ListSigningKeysRequestObject) (gen.ListSigningKeysResponseObject, error) {
	if _, err := accountOr404(ctx, a.accounts, req.Aid); err != nil {
		return nil, err
	}
	items, err := signingKeyViews(ctx, a.store, req.Aid, a.now())
	if err != nil {
		return nil, err
	}
	return gen.ListSigningKeys200JSONResponse{Items: items}, nil
}

// RotateSigningKey implements POST .../signing-keys/rotate: the new key is published at
// once and signs after activateAfter (default keyPropagationDelay), so verifiers have
// fetched it before the first token it signs.
func (a *API) RotateSigningKey(ctx context.Context, req gen.RotateSigningKeyRequestObject) (gen.RotateSigningKeyResponseObject, error) {
	acct, err := accountOr404(ctx, a.accounts, req.Aid)
	if err != nil {
		return nil, err
	}
	delay := time.Duration(*account.Effective(acct).KeyPropagationDelay) * time.Second
	alg := ""
	if req.Body != nil {
		if req.Body.ActivateAfter != nil {
			delay = time.Duration(*req.Body.ActivateAfter) * time.Second
		}
		if req.Body.Alg != nil {
			alg = string(*req.Body.Alg)
		}
	}
	key, err := a.keys.Rotate(ctx, acct, alg, delay)
	if err != nil {
		return nil, err
	}
	a.record(ctx, req.Aid, gen.SigningKeyRotated, "signing_key", key.KID)
	// Read back so the answer shows the status and retirement the list would.
	items, err := signingKeyViews(ctx, a.store, req.Aid, a.now())
	if err != nil {
		return nil, err
	}
	for _, k := range items {
		if k.Kid == key.KID {
			return gen.RotateSigningKey201JSONResponse(k), nil
		}
	}
	// Only if the key vanished between insert and read (a concurrent account delete).
	return nil, problem.NotFound("signing key")
}

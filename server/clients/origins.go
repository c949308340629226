package clients

import (
	"context"
	"time"
)

// AllowsOrigin reports whether a client of one of the accounts lists the web origin (its
// allowedOrigins, compared exactly as the browser sends Origin). Each account's origins are
// loaded once per node and cache TTL; Forget drops them with any change of a client.
func (cs *Clients) AllowsOrigin(ctx context.Context, origin string, aids ...string) (bool, error) {
	for _, aid := range aids {
		set, err := cs.origins.Load(aid, func() (map[string]bool, time.Time, error) {
			list, err := cs.store.Clients().AllowedOrigins(ctx, aid)
			if err != nil {
				return nil, time.Time{}, err
			}
			set := make(map[string]bool, len(list))
			for _, o := range list {
				set[o] = true
			}
			return set, time.Time{}, nil
		})
		if err != nil {
			return false, err
		}
		if set[origin] {
			return true, nil
		}
	}
	return false, nil
}

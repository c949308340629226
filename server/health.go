package server

import (
	"context"
	"time"

	"github.com/twinid/twinid/gen"
)

// GetHealth implements /healthz: alive while serving HTTP.
func (s *Server) GetHealth(context.Context, gen.GetHealthRequestObject) (gen.GetHealthResponseObject, error) {
	return gen.GetHealth200JSONResponse{Status: gen.Ok}, nil
}

// GetReadiness implements /readyz: ready when the database answers within 2 seconds.
func (s *Server) GetReadiness(ctx context.Context, _ gen.GetReadinessRequestObject) (gen.GetReadinessResponseObject, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness: database does not answer", "err", err)
		checks := map[string]string{"database": "unavailable"}
		return gen.GetReadiness503JSONResponse{Status: gen.Unavailable, Checks: &checks}, nil
	}
	checks := map[string]string{"database": "ok"}
	return gen.GetReadiness200JSONResponse{Status: gen.Ok, Checks: &checks}, nil
}

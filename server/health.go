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

// SetDraining reports not ready from now on: the process is shutting down, and /readyz
// tells load balancers so while requests are still served. Every answer from now on
// carries Connection: close (Handler), so each client leaves its kept-alive connection
// after the answer it reads instead of having it closed under a request it is sending.
func (s *Server) SetDraining() { s.draining.Store(true) }

// GetReadiness implements /readyz: ready when the database answers within 2 seconds and
// shutdown has not begun.
func (s *Server) GetReadiness(ctx context.Context, _ gen.GetReadinessRequestObject) (gen.GetReadinessResponseObject, error) {
	if s.draining.Load() {
		checks := map[string]string{"shutdown": "draining"}
		return gen.GetReadiness503JSONResponse{Status: gen.Unavailable, Checks: &checks}, nil
	}
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

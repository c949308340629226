package main

import (
	"context"
	"fmt"
	"time"
)

// The tokens part: client_credentials tokens per signing algorithm, with one client and with
// many (-clients distinct service accounts, so the server's client cache misses and
// reloads). Each round times the raw baseline (the jwx build+sign of the claims of a token
// this server issued) on the server's core, drives the token endpoint for -duration, and
// times the baseline again: the round is divided by the mean of the two.

// tokenTarget is the upper bound of server CPU per token / raw build+sign (issue 10);
// tokenStretch is the stretch goal.
const (
	tokenTarget  = 2.0
	tokenStretch = 1.5
)

// signingAlgs are the signing algorithms the tokens part can measure.
var signingAlgs = []string{"RS256", "ES256"}

// tokenRound is one round's figures.
type tokenRound struct {
	load      loadResult
	tokens    float64       // tokens issued during the round (from /metrics)
	cpuPerTok time.Duration // server CPU per issued token
	queries   float64       // SQL statements per issued token
	loads     float64       // cache loads during the round (-1: the server exports no such counter)
	base      time.Duration // raw build+sign, this round
}

// ratio is the round's CPU per token over its baseline (0 when no token was issued).
func (r tokenRound) ratio() float64 {
	if r.tokens == 0 || r.base == 0 {
		return 0
	}
	return float64(r.cpuPerTok) / float64(r.base)
}

// tokenRun is one algorithm's rounds with a number of clients.
type tokenRun struct {
	alg     string
	clients int
	where   string // where the baselines ran: "same core" or "unpinned"
	rounds  []tokenRound
}

// benchTokens warms up, then runs rounds of (baseline, load) against t.
func benchTokens(ctx context.Context, gen generator, srv *server, c *apiClient, bl baseliner, alg string, t target,
	rounds int, warmup, d time.Duration, ticks int64, logf func(string, ...any)) (tokenRun, error) {
	run := tokenRun{alg: alg, clients: max(1, len(t.auths)), where: bl.where()}
	tok, err := c.token(ctx, t.aid, t.auths[0], t.scope)
	if err != nil {
		return run, err
	}
	header, claims, err := tokenParts(tok)
	if err != nil {
		return run, err
	}
	if got := jwtAlg(tok); got != alg {
		return run, fmt.Errorf("account %s signs with %s, not %s", t.aid, got, alg)
	}
	if warmup > 0 {
		if _, err := gen.run(ctx, t, warmup); err != nil {
			return run, err
		}
	}
	for i := range rounds {
		var r tokenRound
		if r.base, err = bl.signCost(ctx, alg, header, claims); err != nil {
			return run, err
		}
		before, err := srv.sample(ctx, c, ticks)
		if err != nil {
			return run, err
		}
		logf("tokens %s, %d client(s), round %d/%d: build+sign %s, %s load, %s", alg, run.clients, i+1, rounds, ms(r.base), gen.name(), d)
		if r.load, err = gen.run(ctx, t, d); err == nil {
			err = ctx.Err() // interrupted: the figures are partial
		}
		if err != nil {
			return run, err
		}
		after, err := srv.sample(ctx, c, ticks)
		if err != nil {
			return run, err
		}
		// The baseline again after the load, so the round's figure is divided by the mean of
		// the two timings that bracket it: one 400ms timing swings by ±10% on a VM.
		end, err := bl.signCost(ctx, alg, header, claims)
		if err != nil {
			return run, err
		}
		r.base = (r.base + end) / 2
		r.tokens, r.loads = after.tokens-before.tokens, -1
		if r.tokens > 0 {
			r.cpuPerTok = time.Duration(float64(after.cpu-before.cpu) / r.tokens)
			r.queries = (after.queries - before.queries) / r.tokens
		}
		if before.loads >= 0 && after.loads >= 0 {
			r.loads = after.loads - before.loads
		}
		logf("tokens %s, %d client(s), round %d/%d: cpu/token %s ÷ build+sign %s (mean of %s before, %s after) = %.2fx, %g cache load(s)",
			alg, run.clients, i+1, rounds, ms(r.cpuPerTok), ms(r.base), ms(r.base*2-end), ms(end), r.ratio(), r.loads)
		run.rounds = append(run.rounds, r)
	}
	return run, nil
}

// figures are the run's figures: tokens/s, latency, CPU per token against the baseline,
// SQL statements per token and, when the server counts them, cache loads per round.
func (run tokenRun) figures() []figure {
	part := "tokens " + run.alg
	if run.clients > 1 {
		part = fmt.Sprintf("tokens %s, %d clients", run.alg, run.clients)
	}
	var rps, p50, p99, cpu, base, ratio, queries, loads, errs []float64
	for _, r := range run.rounds {
		rps, p50, p99 = append(rps, r.load.rps), append(p50, float64(r.load.p50)), append(p99, float64(r.load.p99))
		cpu, base, ratio = append(cpu, float64(r.cpuPerTok)), append(base, float64(r.base)), append(ratio, r.ratio())
		queries, errs = append(queries, r.queries), append(errs, float64(r.load.errors))
		if r.loads >= 0 {
			loads = append(loads, r.loads)
		}
	}
	figs := []figure{
		{part: part, name: "tokens/s", vals: rps, format: fmtRate},
		{part: part, name: "p50", vals: p50, format: fmtMs},
		{part: part, name: "p99", vals: p99, format: fmtMs},
		{part: part, name: "server cpu/token", vals: cpu, format: fmtMs},
		{part: part, name: "raw jwx build+sign (" + run.where + ")", vals: base, format: fmtMs},
		{part: part, name: "cpu/token ÷ build+sign", vals: ratio, format: fmtRatio, op: "≤", target: tokenTarget,
			note: fmt.Sprintf("stretch %.1fx", tokenStretch)},
		{part: part, name: "SQL statements/token", vals: queries, format: fmtCount},
		failures(part, "errors", errs),
	}
	if len(loads) == len(run.rounds) {
		figs = append(figs, figure{part: part, name: "cache loads/round", vals: loads, format: fmtCount})
	}
	return figs
}

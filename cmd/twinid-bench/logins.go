package main

import (
	"context"
	"fmt"
	"time"
)

// The logins and flood parts: customer password logins (POST /customers/login) at a load
// the server's password pool can serve, in rounds of (argon2id baseline on the server's
// core, load); then a flood of connections, whose successful logins per second (goodput)
// are held to a share of the unloaded rate measured in the logins part of the same run.

const (
	loginTarget = 1.15 // upper bound of server CPU per login / raw argon2id verify (issue 10)
	floodShare  = 0.80 // lower bound of flood goodput / unloaded logins per second (issue 9)
)

// loginRound is one round of the logins part.
type loginRound struct {
	run    scriptRun
	ok     int64
	cpuPer time.Duration // server CPU per successful login
	base   time.Duration // passwords.Verify with passwords.Default, this round
}

// loginFigures are the rounds of the logins part.
type loginFigures struct {
	conns  int
	where  string // where the baselines ran: "same core" or "unpinned"
	rounds []loginRound
}

// benchLogins warms up, then runs rounds of (baseline, logins with correct passwords for d).
func benchLogins(ctx context.Context, g wrkGen, srv *server, bl baseliner, sh *shop, conns, rounds int, warmup, d time.Duration,
	ticks int64, logf func(string, ...any)) (loginFigures, error) {
	f := loginFigures{conns: conns, where: bl.where()}
	threads := g.threadsFor(conns)
	script := loginScript("Bearer "+sh.clientTok, apiAudience, sh.emails, sh.passwords)
	url := srv.base + "/v1/accounts/" + sh.aid + "/customers/login"
	if warmup > 0 {
		if _, err := g.runScript(ctx, "login-warmup", script, url, conns, threads, warmup); err != nil {
			return f, err
		}
	}
	for i := range rounds {
		var r loginRound
		var err error
		if r.base, err = bl.argonCost(ctx); err != nil {
			return f, err
		}
		logf("logins round %d/%d: argon2id verify %s, wrk %d connections, %s", i+1, rounds, ms(r.base), conns, d)
		before, err := srv.cpu(ticks)
		if err != nil {
			return f, err
		}
		if r.run, err = g.runScript(ctx, "login", script, url, conns, threads, d); err != nil {
			return f, err
		}
		after, err := srv.cpu(ticks)
		if err != nil {
			return f, err
		}
		end, err := bl.argonCost(ctx) // the round is divided by the mean of the two timings around it
		if err != nil {
			return f, err
		}
		r.base = (r.base + end) / 2
		if r.ok = r.run.status["200"]; r.ok > 0 {
			r.cpuPer = (after - before) / time.Duration(r.ok)
			logf("logins round %d/%d: cpu/login %s ÷ argon2id verify %s (mean of %s before, %s after) = %.2fx",
				i+1, rounds, ms(r.cpuPer), ms(r.base), ms(r.base*2-end), ms(end), float64(r.cpuPer)/float64(r.base))
		}
		f.rounds = append(f.rounds, r)
	}
	return f, nil
}

// rates are the successful logins per second of each round.
func (f loginFigures) rates() []float64 {
	var out []float64
	for _, r := range f.rounds {
		out = append(out, rate(r.run))
	}
	return out
}

func (f loginFigures) figures() []figure {
	part := fmt.Sprintf("logins (%d connections)", f.conns)
	var p50, p99, cpu, base, ratio, failed []float64
	for _, r := range f.rounds {
		p50, p99 = append(p50, float64(r.run.load.p50)), append(p99, float64(r.run.load.p99))
		cpu, base = append(cpu, float64(r.cpuPer)), append(base, float64(r.base))
		x := 0.0
		if r.ok > 0 {
			x = float64(r.cpuPer) / float64(r.base)
		}
		ratio, failed = append(ratio, x), append(failed, float64(r.run.load.requests-r.ok))
	}
	return []figure{
		{part: part, name: "logins/s", vals: f.rates(), format: fmtRate},
		{part: part, name: "p50", vals: p50, format: fmtMs},
		{part: part, name: "p99", vals: p99, format: fmtMs},
		{part: part, name: "server cpu/login", vals: cpu, format: fmtMs},
		{part: part, name: "raw argon2id verify (" + f.where + ")", vals: base, format: fmtMs},
		{part: part, name: "cpu/login ÷ argon2id verify", vals: ratio, format: fmtRatio, op: "≤", target: loginTarget},
		failures(part, "non-200 answers", failed),
	}
}

// floodRound is one round of the login flood.
type floodRound struct {
	run      scriptRun
	hwmAfter float64 // MiB, peak RSS since the reset before the flood
}

// floodFigures are the rounds of the login flood.
type floodFigures struct {
	conns     int
	rounds    []floodRound
	hwmBefore float64 // MiB, just after the reset
	rssAfter  float64
	resetOK   bool
	unloaded  []float64 // logins/s of the logins part in this run (nil: not run)
}

// benchFlood hammers /customers/login with conns connections for rounds of d, reading the
// server's peak RSS (reset before the first round) after each.
func benchFlood(ctx context.Context, g wrkGen, srv *server, sh *shop, conns, rounds int, d time.Duration, logf func(string, ...any)) (floodFigures, error) {
	f := floodFigures{conns: conns, resetOK: srv.resetPeak() == nil}
	var err error
	if _, f.hwmBefore, err = srv.memory(); err != nil {
		return f, err
	}
	script := loginScript("Bearer "+sh.clientTok, apiAudience, sh.emails, sh.passwords)
	url := srv.base + "/v1/accounts/" + sh.aid + "/customers/login"
	for i := range rounds {
		logf("flood round %d/%d: wrk, %d connections, %s", i+1, rounds, conns, d)
		var r floodRound
		if r.run, err = g.runScript(ctx, "flood", script, url, conns, g.threadsFor(conns), d); err != nil {
			return f, err
		}
		if f.rssAfter, r.hwmAfter, err = srv.memory(); err != nil {
			return f, err
		}
		f.rounds = append(f.rounds, r)
	}
	return f, nil
}

func (f floodFigures) figures() []figure {
	part := fmt.Sprintf("login flood (%d connections)", f.conns)
	var good, busy, other, hwm []float64
	for _, r := range f.rounds {
		secs := r.run.load.elapsed.Seconds()
		if secs <= 0 {
			secs = 1
		}
		good, busy = append(good, rate(r.run)), append(busy, float64(r.run.status["503"])/secs)
		other = append(other, float64(r.run.load.requests-r.run.status["200"]-r.run.status["503"]))
		hwm = append(hwm, r.hwmAfter)
	}
	g := figure{part: part, name: "goodput (successful logins/s)", vals: good, format: fmtRate}
	if len(f.unloaded) > 0 {
		u := spreadOf(f.unloaded).med
		g.op, g.target, g.note = "≥", floodShare*u, fmt.Sprintf("%.0f%% of %s unloaded, same run", 100*floodShare, fmtRate(u))
	} else {
		g.note = "no target: the logins part did not run"
	}
	return []figure{
		g,
		{part: part, name: "503 answers/s", vals: busy, format: fmtRate},
		failures(part, "answers neither 200 nor 503", other),
		{part: part, name: "server peak RSS (MiB)", vals: hwm, format: func(v float64) string { return fmt.Sprintf("%.0f", v) }},
	}
}

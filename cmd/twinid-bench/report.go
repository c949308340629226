package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

// summary collects every part's figures for the closing block.
type summary struct {
	tokens  []row
	logins  *loginFigures
	flood   *floodFigures
	refresh *refreshFigures
	search  *searchFigures
	sso     *ssoFigures
}

// redactURL drops the password of a URL for printing.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// statusCounts formats the status counts of a script run, e.g. "200: 812, 503: 3".
func statusCounts(st map[string]int64) string {
	var out []string
	for _, k := range []string{"200", "429", "503", "other", "empty"} {
		if n, ok := st[k]; ok && (n > 0 || k == "200") {
			out = append(out, fmt.Sprintf("%s: %d", k, n))
		}
	}
	return strings.Join(out, ", ")
}

// verdict is "met" or "NOT met".
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// ms formats d in milliseconds with three significant decimals.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 1 {
		return fmt.Sprintf("%.3fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

// rate is successful answers per second of a script run.
func rate(r scriptRun) float64 {
	if r.load.elapsed <= 0 {
		return 0
	}
	return float64(r.status["200"]) / r.load.elapsed.Seconds()
}

func printLogins(w io.Writer, srv *server, f loginFigures) {
	fmt.Fprintf(w, "\ntwinid bench: customer password logins over loopback HTTP (wrk, %d connections, %s), %s, argon2id default params\n",
		f.conns, f.run.load.elapsed.Round(1e7), srv.dbName())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "logins/s\tp50\tp99\tcpu/login\traw argon2id verify\tratio\ttarget\t\tstatus")
	ratio, v, cpu := "-", "-", "-"
	if f.ok > 0 {
		cpu, ratio, v = ms(f.cpuPer), fmt.Sprintf("%.2fx", f.ratio()), verdict(f.ratio() <= loginTarget)
	}
	fmt.Fprintf(tw, "%.1f\t%s\t%s\t%s\t%s\t%s\t%.2fx\t%s\t%s\n", rate(f.run), ms(f.run.load.p50), ms(f.run.load.p99),
		cpu, ms(f.rawVerify), ratio, loginTarget, v, statusCounts(f.run.status))
	tw.Flush()
}

func printSSO(w io.Writer, f ssoFigures) {
	fmt.Fprintf(w, "\ntwinid bench: browser sign-in (hosted login page, code + PKCE)\n")
	fmt.Fprintf(w, "code-flow logins (authorize → login → code → token, %d at a time): %.1f/s, cpu/login %s vs argon2id verify %s = %.2fx, errors %d\n",
		f.flowConns, f.flowRate(), ms(f.flowCPUPer), ms(f.rawVerify), float64(f.flowCPUPer)/float64(f.rawVerify), f.flowErrors)
	fmt.Fprintf(w, "SSO authorizations (session cookie → 303 with a code, %d connections): %.0f/s, p50 %s, p99 %s, non-303 %d (target ≥ %.0f/s: %s)\n",
		f.ssoConn, f.ssoRate(), ms(f.sso.load.p50), ms(f.sso.load.p99), f.sso.status["other"], ssoTarget, verdict(f.ssoRate() >= ssoTarget))
}

func printFlood(w io.Writer, srv *server, f floodFigures) {
	fmt.Fprintf(w, "\ntwinid bench: login flood (wrk, %d connections, %s), %s\n", f.conns, f.run.load.elapsed.Round(1e7), srv.dbName())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "answers/s\tlogins/s\tp50\tp99\tstatus\tpeak RSS before\tpeak RSS during flood\tRSS after")
	ans := 0.0
	if f.run.load.elapsed > 0 {
		ans = float64(f.run.load.requests) / f.run.load.elapsed.Seconds()
	}
	fmt.Fprintf(tw, "%.0f\t%.1f\t%s\t%s\t%s\t%.1f MiB\t%.1f MiB\t%.1f MiB\n", ans, rate(f.run), ms(f.run.load.p50), ms(f.run.load.p99),
		statusCounts(f.run.status), f.hwmBefore, f.hwmAfter, f.rssAfter)
	tw.Flush()
	if f.resetOK {
		fmt.Fprintln(w, "(server subprocess VmHWM, reset through /proc/<pid>/clear_refs just before the flood)")
	} else {
		fmt.Fprintln(w, "(server subprocess VmHWM since its start: /proc/<pid>/clear_refs could not be written)")
	}
}

func printRefresh(w io.Writer, f refreshFigures) {
	fmt.Fprintf(w, "\ntwinid bench: refresh-token exchanges with rotation (wrk, %d connections, %d chains), %s\n", f.conns, f.tokens, f.db)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "alg\texchanges/s\tp50\tp99\tcpu/exchange\ttarget\t\tnon-200\tstatus")
	for _, r := range f.rows {
		target, v := "-", "-"
		if r.alg == "RS256" {
			target, v = fmt.Sprintf("≥ %.0f/s (Postgres)", refreshTarget), verdict(rate(r.run) >= refreshTarget)
		}
		cpu := "-"
		if r.ok > 0 {
			cpu = ms(r.cpuPer)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.alg, rate(r.run), ms(r.run.load.p50), ms(r.run.load.p99),
			cpu, target, v, r.run.load.requests-r.ok, statusCounts(r.run.status))
	}
	tw.Flush()
}

func printSearch(w io.Writer, f searchFigures) {
	fmt.Fprintf(w, "\ntwinid bench: customer search, GET /customers/users?<prefix>&limit=20, sequential, %s\n", f.db)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "customers\tsearch\trequests\tp50\tp99\thits/request\terrors")
	for _, r := range f.rows {
		kind := "email (3-letter prefix)"
		if r.kind == "phone" {
			kind = "phone (+479 and 3 digits)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%.1f\t%d\n", r.customers, kind, r.n, ms(r.p50), ms(r.p99), r.avgHits, r.errors)
	}
	tw.Flush()
}

// printSummary writes one line per figure.
func printSummary(w io.Writer, s summary) {
	fmt.Fprintln(w, "\n== summary ==")
	for _, r := range s.tokens {
		line := fmt.Sprintf("tokens %s: %.0f/s, p50 %s, p99 %s", r.alg, r.load.rps, ms(r.load.p50), ms(r.load.p99))
		if r.tokens > 0 {
			x := float64(r.cpuPerTok) / float64(r.signPerTok)
			line += fmt.Sprintf(", cpu/token %s vs jwt.Sign %s = %.2fx (target %.2fx: %s)", ms(r.cpuPerTok), ms(r.signPerTok),
				x, targets[r.alg], verdict(x <= targets[r.alg]))
		}
		fmt.Fprintf(w, "%s, errors %d\n", line, r.load.errors)
	}
	if f := s.logins; f != nil {
		fmt.Fprintf(w, "logins: %.1f/s, p50 %s, p99 %s, cpu/login %s vs argon2id verify %s = %.2fx (target %.2fx: %s), %s\n",
			rate(f.run), ms(f.run.load.p50), ms(f.run.load.p99), ms(f.cpuPer), ms(f.rawVerify), f.ratio(), loginTarget,
			verdict(f.ok > 0 && f.ratio() <= loginTarget), statusCounts(f.run.status))
	}
	if f := s.flood; f != nil {
		fmt.Fprintf(w, "login flood (%d connections): %s; server peak RSS %.1f MiB (before %.1f MiB, after %.1f MiB)\n",
			f.conns, statusCounts(f.run.status), f.hwmAfter, f.hwmBefore, f.rssAfter)
	}
	if f := s.sso; f != nil {
		fmt.Fprintf(w, "code-flow logins: %.1f/s, cpu/login %s vs argon2id verify %s = %.2fx, errors %d\n",
			f.flowRate(), ms(f.flowCPUPer), ms(f.rawVerify), float64(f.flowCPUPer)/float64(f.rawVerify), f.flowErrors)
		fmt.Fprintf(w, "SSO authorizations: %.0f/s, p50 %s, p99 %s, non-303 %d (target ≥ %.0f/s: %s)\n",
			f.ssoRate(), ms(f.sso.load.p50), ms(f.sso.load.p99), f.sso.status["other"], ssoTarget, verdict(f.ssoRate() >= ssoTarget))
	}
	if f := s.refresh; f != nil {
		for _, r := range f.rows {
			line := fmt.Sprintf("refresh %s (%s): %.0f/s, p50 %s, p99 %s, cpu/exchange %s, non-200 %d", r.alg, f.db, rate(r.run),
				ms(r.run.load.p50), ms(r.run.load.p99), ms(r.cpuPer), r.run.load.requests-r.ok)
			if r.alg == "RS256" {
				line += fmt.Sprintf(" (target ≥ %.0f/s on Postgres: %s)", refreshTarget, verdict(f.db == "Postgres" && rate(r.run) >= refreshTarget))
			}
			fmt.Fprintln(w, line)
		}
	}
	if f := s.search; f != nil {
		for _, r := range f.rows {
			fmt.Fprintf(w, "search %s @ %d customers (%s): p50 %s, p99 %s, errors %d\n", r.kind, r.customers, f.db, ms(r.p50), ms(r.p99), r.errors)
		}
	}
}

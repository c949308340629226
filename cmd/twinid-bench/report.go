package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"
)

// report prints each part's figures as the part ends and collects them for the summary.
type report struct {
	w    io.Writer
	figs []figure
}

// add prints a part's figures under title and keeps them for the summary.
func (r *report) add(title string, figs []figure) {
	fmt.Fprintf(r.w, "\n== %s ==\n", title)
	printFigures(r.w, figs)
	r.figs = append(r.figs, figs...)
}

// summary prints every figure that has a target, and how many missed it.
func (r *report) summary(header string) {
	var targeted []figure
	for _, f := range r.figs {
		if f.op != "" {
			targeted = append(targeted, f)
		}
	}
	fmt.Fprintf(r.w, "\n== summary: %s ==\n", header)
	printFigures(r.w, targeted)
	n, missed := verdicts(r.figs)
	fmt.Fprintf(r.w, "%d figures with a target: %d met, %d missed\n", n, n-missed, missed)
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

// rate is successful answers per second of a script run.
func rate(r scriptRun) float64 {
	if r.load.elapsed <= 0 {
		return 0
	}
	return float64(r.status["200"]) / r.load.elapsed.Seconds()
}

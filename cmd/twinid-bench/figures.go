package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// A figure is one number the bench reports: its value in each round, the target its median
// is held to and the verdict. Every part turns its rounds into figures; the summary prints
// them all in one table, so no figure goes out without its spread, its target and a verdict.

// figure is one reported quantity over the rounds of its part.
type figure struct {
	part, name string
	vals       []float64            // one per round
	format     func(float64) string // how a value prints (ms, rate, ratio)
	op         string               // "≤" or "≥": the median must be at most / at least target; "" is no target
	target     float64
	note       string // how the target was derived, e.g. "80% of 45.1/s unloaded"
	everyRound bool   // the target holds for every round (counts of failures), not just the median
}

// spread is the median, minimum and maximum of a figure's rounds.
type spread struct {
	med, min, max float64
	n             int
}

// spreadOf returns the spread of vals (the median of an even count is the mean of the two
// middle values); zero for no values.
func spreadOf(vals []float64) spread {
	if len(vals) == 0 {
		return spread{}
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{med: med, min: s[0], max: s[len(s)-1], n: len(s)}
}

// met reports whether the figure's median (with everyRound: its worst round) meets its
// target; ok is false when the figure has no target or no rounds.
func (f figure) met() (met, ok bool) {
	if f.op == "" || len(f.vals) == 0 {
		return false, false
	}
	s := spreadOf(f.vals)
	if f.op == "≤" {
		if f.everyRound {
			return s.max <= f.target, true
		}
		return s.med <= f.target, true
	}
	if f.everyRound {
		return s.min >= f.target, true
	}
	return s.med >= f.target, true
}

// verdict is "met", "missed", or "-" for a figure without a target.
func (f figure) verdict() string {
	met, ok := f.met()
	switch {
	case !ok:
		return "-"
	case met:
		return "met"
	}
	return "missed"
}

// targetText is the target as printed, e.g. "≤ 2.00x" or "≥ 36.1/s (80% of 45.1/s unloaded)".
func (f figure) targetText() string {
	if f.op == "" {
		if f.note != "" {
			return f.note
		}
		return "-"
	}
	s := f.op + " " + f.format(f.target)
	if f.everyRound {
		s += " every round"
	}
	if f.note != "" {
		s += " (" + f.note + ")"
	}
	return s
}

// spreadText is "median (min–max)" of the figure's rounds.
func (f figure) spreadText() (med, rng string) {
	if len(f.vals) == 0 {
		return "-", "-"
	}
	s := spreadOf(f.vals)
	return f.format(s.med), f.format(s.min) + "–" + f.format(s.max)
}

// ms formats d in milliseconds with three significant decimals.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 1 {
		return fmt.Sprintf("%.3fms", v)
	}
	return fmt.Sprintf("%.2fms", v)
}

// Value formats.
func fmtMs(v float64) string    { return ms(time.Duration(v)) } // v in nanoseconds
func fmtRatio(v float64) string { return fmt.Sprintf("%.2fx", v) }
func fmtRate(v float64) string {
	if v < 100 {
		return fmt.Sprintf("%.1f/s", v)
	}
	return fmt.Sprintf("%.0f/s", v)
}
func fmtCount(v float64) string { return fmt.Sprintf("%.3g", v) }

// failures is a count of failed answers per round: none is the target, in every round.
func failures(part, name string, vals []float64) figure {
	return figure{part: part, name: name, vals: vals, format: fmtCount, op: "≤", target: 0, everyRound: true}
}

// durs converts durations to the float64 nanoseconds figures hold.
func durs(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d)
	}
	return out
}

// printFigures writes a table of figures: part, figure, median, min–max, rounds, target, verdict.
func printFigures(w io.Writer, figs []figure) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "part\tfigure\tmedian\tmin–max\trounds\ttarget\tverdict")
	for _, f := range figs {
		med, rng := f.spreadText()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", f.part, f.name, med, rng, len(f.vals), f.targetText(), f.verdict())
	}
	tw.Flush()
}

// verdicts counts the figures with a target and those that missed it.
func verdicts(figs []figure) (targets, missed int) {
	for _, f := range figs {
		if met, ok := f.met(); ok {
			targets++
			if !met {
				missed++
			}
		}
	}
	return targets, missed
}

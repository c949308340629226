package main

import (
	"strings"
	"testing"
	"time"
)

func TestSpreadOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in            []float64
		med, min, max float64
	}{
		{[]float64{3, 1, 2}, 2, 1, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
		{[]float64{7}, 7, 7, 7},
	} {
		s := spreadOf(tc.in)
		if s.med != tc.med || s.min != tc.min || s.max != tc.max || s.n != len(tc.in) {
			t.Errorf("spreadOf(%v) = %+v", tc.in, s)
		}
	}
	in := []float64{3, 1, 2}
	spreadOf(in)
	if in[0] != 3 {
		t.Error("spreadOf sorted its argument")
	}
}

func TestFigureVerdict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f    figure
		want string
	}{
		// The verdict is on the median: one bad round of three does not decide it.
		{figure{vals: []float64{1.4, 2.6, 1.5}, op: "≤", target: 2}, "met"},
		{figure{vals: []float64{2.1, 2.6, 1.5}, op: "≤", target: 2}, "missed"},
		{figure{vals: []float64{2, 2, 2}, op: "≤", target: 2}, "met"},
		{figure{vals: []float64{30, 41, 40}, op: "≥", target: 36}, "met"},
		{figure{vals: []float64{30, 41, 35}, op: "≥", target: 36}, "missed"},
		{figure{vals: []float64{1, 2, 3}}, "-"},
		{figure{op: "≤", target: 2}, "-"}, // no rounds: no verdict
		{failures("p", "errors", []float64{0, 0, 1}), "missed"},
		{failures("p", "errors", []float64{0, 0, 0}), "met"},
		{figure{vals: []float64{19, 20, 20}, op: "≥", target: 20, everyRound: true}, "missed"},
	} {
		if got := tc.f.verdict(); got != tc.want {
			t.Errorf("%v %s %v: verdict %q, want %q", tc.f.vals, tc.f.op, tc.f.target, got, tc.want)
		}
	}
	figs := []figure{
		{vals: []float64{1}, op: "≤", target: 2},
		{vals: []float64{3}, op: "≤", target: 2},
		{vals: []float64{3}},
	}
	if n, missed := verdicts(figs); n != 2 || missed != 1 {
		t.Errorf("verdicts = %d, %d; want 2, 1", n, missed)
	}
}

func TestPrintFigures(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	printFigures(&b, []figure{{part: "tokens ES256", name: "cpu/token ÷ build+sign", vals: []float64{1.6, 1.8, 1.7},
		format: fmtRatio, op: "≤", target: 2, note: "stretch 1.5x"}})
	out := b.String()
	for _, want := range []string{"tokens ES256", "1.70x", "1.60x–1.80x", "3", "≤ 2.00x (stretch 1.5x)", "met"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestTokenFigures checks that each round's CPU per token is divided by that round's
// baseline, not by a baseline of another round.
func TestTokenFigures(t *testing.T) {
	t.Parallel()
	run := tokenRun{alg: "ES256", clients: 1000, rounds: []tokenRound{
		{tokens: 1000, cpuPerTok: 60 * time.Microsecond, base: 30 * time.Microsecond, loads: -1},
		{tokens: 1000, cpuPerTok: 90 * time.Microsecond, base: 30 * time.Microsecond, loads: -1},
		{tokens: 1000, cpuPerTok: 90 * time.Microsecond, base: 60 * time.Microsecond, loads: -1},
	}}
	figs := run.figures()
	var ratio *figure
	for i := range figs {
		if strings.HasPrefix(figs[i].name, "cpu/token ÷") {
			ratio = &figs[i]
		}
		if figs[i].name == "cache loads/round" {
			t.Error("cache loads reported although the server exports no counter")
		}
		if figs[i].part != "tokens ES256, 1000 clients" {
			t.Errorf("part %q", figs[i].part)
		}
	}
	if ratio == nil {
		t.Fatal("no ratio figure")
	}
	if s := spreadOf(ratio.vals); s.med != 2 || s.min != 1.5 || s.max != 3 {
		t.Errorf("ratios %v, want 2, 3, 1.5", ratio.vals)
	}
	if ratio.verdict() != "met" {
		t.Errorf("verdict %s at a median of 2.0x against ≤ 2.0x", ratio.verdict())
	}
}

// TestFloodGoodputTarget checks that the flood's goodput is held to 80% of the unloaded
// login rate of the same run, and has no verdict without it.
func TestFloodGoodputTarget(t *testing.T) {
	t.Parallel()
	round := func(ok, busy int64) floodRound {
		return floodRound{run: scriptRun{load: loadResult{elapsed: 2 * time.Second, requests: ok + busy},
			status: map[string]int64{"200": ok, "503": busy}}}
	}
	f := floodFigures{conns: 200, rounds: []floodRound{round(70, 5000), round(80, 5000), round(90, 4000)}}
	good := f.figures()[0]
	if good.verdict() != "-" || !strings.Contains(good.targetText(), "logins part did not run") {
		t.Errorf("without the logins part: verdict %s, target %s", good.verdict(), good.targetText())
	}
	f.unloaded = []float64{50, 45, 52}
	good = f.figures()[0]
	if good.target != 40 || good.verdict() != "met" { // median goodput 40/s ≥ 0.8 × 50/s
		t.Errorf("goodput %v, target %v, verdict %s", good.vals, good.target, good.verdict())
	}
	f.unloaded = []float64{60, 60, 60}
	if good = f.figures()[0]; good.verdict() != "missed" {
		t.Errorf("goodput 40/s against 48/s: %s", good.verdict())
	}
	if busy := f.figures()[1]; spreadOf(busy.vals).med != 2500 {
		t.Errorf("503/s %v", busy.vals)
	}
}

// TestSearchGrowthTarget checks that a search at a larger size is held to searchGrowth
// times its p50 at the smallest size.
func TestSearchGrowthTarget(t *testing.T) {
	t.Parallel()
	rounds := func(p50 time.Duration) []searchRound {
		return []searchRound{{p50: p50}, {p50: p50, short: 1}, {p50: p50}}
	}
	f := searchFigures{db: "Postgres", rows: []searchRow{
		{customers: 1000, kind: "status=disabled", rounds: rounds(time.Millisecond)},
		{customers: 100000, kind: "status=disabled", rounds: rounds(2 * time.Millisecond)},
		{customers: 1000000, kind: "status=disabled", rounds: rounds(13 * time.Millisecond)},
	}}
	var got []string
	for _, fig := range f.figures() {
		switch {
		case strings.HasSuffix(fig.name, " p50"):
			got = append(got, fig.verdict())
		case strings.HasPrefix(fig.name, "answers not 200"):
			// One short answer in one round of three misses: failures count in every round.
			if fig.verdict() != "missed" || spreadOf(fig.vals).max != 1 || !strings.Contains(fig.targetText(), "every round") {
				t.Errorf("%s %s: %v %s", fig.part, fig.name, fig.vals, fig.verdict())
			}
		}
	}
	if strings.Join(got, ",") != "-,met,missed" {
		t.Errorf("p50 verdicts %v, want -, met, missed", got)
	}
}

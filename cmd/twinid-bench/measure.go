package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// sample is the server's state at one instant.
type sample struct {
	cpu     time.Duration // user + system CPU since start
	queries float64       // twinid_db_queries_total
	tokens  float64       // twinid_tokens_issued_total
	loads   float64       // cacheLoadsMetric, -1 when the server has no such counter
}

// cacheLoadsMetric counts the database loads of the server's caches (clients, accounts,
// keys), when the server exports it.
const cacheLoadsMetric = "twinid_cache_loads_total"

// sample reads the server's CPU time from /proc and its counters from /metrics.
func (s *server) sample(ctx context.Context, c *apiClient, ticksPerSec int64) (sample, error) {
	var out sample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return out, err
	}
	if out.cpu, err = parseStatCPU(string(stat), ticksPerSec); err != nil {
		return out, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return out, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	m, found, err := scanMetrics(bufio.NewScanner(resp.Body), "twinid_db_queries_total", "twinid_tokens_issued_total", cacheLoadsMetric)
	if err != nil {
		return out, err
	}
	if !found[0] || !found[1] {
		return out, errors.New("metrics: no twinid_db_queries_total or twinid_tokens_issued_total")
	}
	out.queries, out.tokens, out.loads = m[0], m[1], m[2]
	if !found[2] {
		out.loads = -1
	}
	return out, nil
}

// parseStatCPU returns utime+stime of a /proc/<pid>/stat line.
func parseStatCPU(stat string, ticksPerSec int64) (time.Duration, error) {
	// The command name (field 2) may hold spaces and parentheses: split after the last ')'.
	i := strings.LastIndexByte(stat, ')')
	f := strings.Fields(stat[i+1:])
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat: %.200q", stat)
	}
	var ticks int64
	for _, s := range f[11:13] { // fields 14 (utime) and 15 (stime)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / time.Duration(ticksPerSec), nil
}

// parseMetrics sums, per name, every series of the Prometheus text exposition whose metric
// name is exactly one of names. A name without any series is an error.
func parseMetrics(sc *bufio.Scanner, names ...string) ([]float64, error) {
	sums, found, err := scanMetrics(sc, names...)
	if err != nil {
		return nil, err
	}
	for i, ok := range found {
		if !ok {
			return nil, fmt.Errorf("metrics: no %s", names[i])
		}
	}
	return sums, nil
}

// scanMetrics is parseMetrics that reports, instead of failing, which names had a series.
func scanMetrics(sc *bufio.Scanner, names ...string) ([]float64, []bool, error) {
	sums := make([]float64, len(names))
	found := make([]bool, len(names))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, "{ ")
		if end < 0 {
			continue
		}
		for i, n := range names {
			if line[:end] != n {
				continue
			}
			rest := line[end:]
			if j := strings.LastIndexByte(rest, '}'); j >= 0 {
				rest = rest[j+1:]
			}
			f := strings.Fields(rest) // value [timestamp]
			if len(f) == 0 {
				return nil, nil, fmt.Errorf("metrics: %q: no value", line)
			}
			v, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				return nil, nil, fmt.Errorf("metrics: %q: %w", line, err)
			}
			sums[i] += v
			found[i] = true
		}
	}
	return sums, found, sc.Err()
}

// cpu returns the server's user+system CPU time.
func (s *server) cpu(ticksPerSec int64) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(stat), ticksPerSec)
}

// memory returns the server's resident set size and its peak, in MiB.
func (s *server) memory() (rss, hwm float64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		if k != "VmRSS" && k != "VmHWM" {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc status %s: %w", k, err)
		}
		if k == "VmRSS" {
			rss = kb / 1024
		} else {
			hwm = kb / 1024
		}
	}
	return rss, hwm, sc.Err()
}

// resetPeak resets the server's VmHWM to its current RSS (Linux: "5" > clear_refs).
func (s *server) resetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0)
}

// clockTicks returns the kernel's clock ticks per second (getconf CLK_TCK, else 100).
func clockTicks(ctx context.Context) (int64, error) {
	out, err := exec.CommandContext(ctx, "getconf", "CLK_TCK").Output()
	if err != nil {
		return 100, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("getconf CLK_TCK: %q", out)
	}
	return n, nil
}

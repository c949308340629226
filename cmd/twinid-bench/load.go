package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// target is one load target: a POST to url with a fixed body, rotating over one or more
// clients' Authorization headers.
type target struct {
	url   string
	aid   string   // the account of the token endpoint
	scope string   // the scope requested
	auths []string // full Authorization header values, one per client (at least one)
	body  string   // application/x-www-form-urlencoded
}

// loadResult is what a load generator measured.
type loadResult struct {
	requests int64         // completed requests, whatever their status
	errors   int64         // non-2xx answers plus transport (socket) errors
	elapsed  time.Duration // as measured by the generator
	rps      float64       // successful requests per second
	p50, p99 time.Duration
}

// generator drives load against a target for about d and reports what it measured.
type generator interface {
	name() string
	run(ctx context.Context, t target, d time.Duration) (loadResult, error)
}

// wrkGen runs the wrk binary with a Lua script written to dir.
type wrkGen struct {
	path        string
	dir         string
	connections int
	threads     int
	pin         bool
}

func (g wrkGen) name() string { return "wrk" }

// wrkScript sets method, body and headers of every request wrk sends.
const wrkScript = `wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = %s
`

// wrkClientsScript rotates over many clients' Authorization headers, each thread from its
// own offset.
const wrkClientsScript = `wrk.method = "POST"
wrk.body = %s
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local auths = %s
i = 0
local n = 0
function setup(thread)
  n = n + 1
  thread:set("i", (n - 1) * 7919 %% #auths)
end
function request()
  i = i %% #auths + 1
  wrk.headers["Authorization"] = auths[i]
  return wrk.format()
end
`

// luaString quotes s as a Lua string literal (only the characters this bench ever uses
// need care, but every byte outside printable ASCII is escaped anyway).
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// luaList is a Lua table constructor of strings.
func luaList(items []string) string {
	var b strings.Builder
	b.WriteString("{\n")
	for _, s := range items {
		b.WriteString("  " + luaString(s) + ",\n")
	}
	b.WriteString("}")
	return b.String()
}

// tokenScript is the wrk script of target t.
func tokenScript(t target) string {
	if len(t.auths) == 1 {
		return fmt.Sprintf(wrkScript, luaString(t.body), luaString(t.auths[0]))
	}
	return fmt.Sprintf(wrkClientsScript, luaString(t.body), luaList(t.auths))
}

func (g wrkGen) run(ctx context.Context, t target, d time.Duration) (loadResult, error) {
	script := filepath.Join(g.dir, "token.lua")
	if err := os.WriteFile(script, []byte(tokenScript(t)), 0o600); err != nil {
		return loadResult{}, err
	}
	// wrk takes whole seconds; round up so the run is never shorter than asked.
	secs := max(1, int(math.Ceil(d.Seconds())))
	threads := max(1, min(g.threads, g.connections))
	args := []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(g.connections), "-d" + strconv.Itoa(secs) + "s",
		"--timeout", "10s", "--latency", "-s", script, t.url}
	cmd := exec.CommandContext(ctx, g.path, args...)
	if g.pin {
		cmd = exec.CommandContext(ctx, "taskset", append([]string{"-c", strconv.Itoa(loadCPU), g.path}, args...)...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return loadResult{}, ctx.Err()
	}
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return parseWrk(string(out))
}

// parseWrk reads the report of `wrk --latency`: the 50% and 99% lines of the latency
// distribution, "N requests in T", "Requests/sec:", "Non-2xx or 3xx responses:" and
// "Socket errors:".
func parseWrk(out string) (loadResult, error) {
	var (
		r        loadResult
		totalRPS float64
		seen     = map[string]bool{}
	)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		var err error
		switch {
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			var v time.Duration
			if v, err = time.ParseDuration(f[1]); err == nil {
				if f[0] == "50%" {
					r.p50 = v
				} else {
					r.p99 = v
				}
				seen[f[0]] = true
			}
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			if r.requests, err = strconv.ParseInt(f[0], 10, 64); err == nil {
				r.elapsed, err = time.ParseDuration(strings.TrimSuffix(f[3], ","))
			}
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			totalRPS, err = strconv.ParseFloat(f[1], 64)
			seen["rps"] = true
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:") && len(f) == 5:
			var n int64
			n, err = strconv.ParseInt(f[4], 10, 64)
			r.errors += n
		case strings.HasPrefix(line, "Socket errors:"):
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f) && err == nil; i += 2 {
				var n int64
				n, err = strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				r.errors += n
			}
		}
		if err != nil {
			return loadResult{}, fmt.Errorf("wrk output: %q: %w", line, err)
		}
	}
	for _, k := range []string{"50%", "99%", "rps"} {
		if !seen[k] {
			return loadResult{}, fmt.Errorf("wrk output: no %s line in:\n%s", k, out)
		}
	}
	r.rps = totalRPS
	if r.requests > 0 {
		r.rps = totalRPS * float64(max(0, r.requests-r.errors)) / float64(r.requests)
	}
	return r, nil
}

// goGen is the built-in generator: connections goroutines, each sending requests
// back to back over its own keep-alive connection and recording every latency.
type goGen struct {
	connections int
}

func (g goGen) name() string { return "go" }

func (g goGen) run(ctx context.Context, t target, d time.Duration) (loadResult, error) {
	tr := &http.Transport{
		MaxIdleConns:        g.connections,
		MaxIdleConnsPerHost: g.connections,
		MaxConnsPerHost:     g.connections,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	type worker struct {
		lat    []time.Duration
		errors int64
		err    error
	}
	workers := make([]worker, g.connections)
	var next atomic.Int64 // rotates over the clients
	start := time.Now()
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.lat = make([]time.Duration, 0, 1<<14)
		wg.Go(func() {
			for ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(t.body))
				if err != nil {
					w.err = err
					return
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Authorization", t.auths[int(next.Add(1))%len(t.auths)])
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if ctx.Err() != nil {
					return // cut off by the deadline: neither a sample nor an error
				}
				w.lat = append(w.lat, time.Since(t0))
				if err != nil || resp.StatusCode/100 != 2 {
					w.errors++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	r := loadResult{elapsed: elapsed}
	var all []time.Duration
	for _, w := range workers {
		if w.err != nil {
			return loadResult{}, w.err
		}
		all = append(all, w.lat...)
		r.errors += w.errors
	}
	r.requests = int64(len(all))
	if r.requests == 0 {
		return loadResult{}, errors.New("go generator: no request completed")
	}
	slices.Sort(all)
	r.p50 = percentile(all, 0.50)
	r.p99 = percentile(all, 0.99)
	r.rps = float64(r.requests-r.errors) / elapsed.Seconds()
	return r, nil
}

// percentile returns the q-quantile (nearest rank) of sorted, which must not be empty.
func percentile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

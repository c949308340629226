package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// sample is the server's state at one instant.
type sample struct {
	cpu     time.Duration // user + system CPU since start
	queries float64       // twinid_db_queries_total
	tokens  float64       // twinid_tokens_issued_total
}

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
	m, err := parseMetrics(bufio.NewScanner(resp.Body), "twinid_db_queries_total", "twinid_tokens_issued_total")
	if err != nil {
		return out, err
	}
	out.queries, out.tokens = m[0], m[1]
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
				return nil, fmt.Errorf("metrics: %q: no value", line)
			}
			v, err := strconv.ParseFloat(f[0], 64)
			if err != nil {
				return nil, fmt.Errorf("metrics: %q: %w", line, err)
			}
			sums[i] += v
			found[i] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for i, ok := range found {
		if !ok {
			return nil, fmt.Errorf("metrics: no %s", names[i])
		}
	}
	return sums, nil
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

// signCost times jwt.Sign of an access token with typical claims, on one goroutine, with a
// fresh RSA-2048 or P-256 key. One goroutine makes wall time per op equal CPU time per op.
func signCost(alg string) (time.Duration, error) {
	var (
		key any
		err error
		sa  jwa.SignatureAlgorithm
	)
	switch alg {
	case "RS256":
		sa = jwa.RS256()
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		sa = jwa.ES256()
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		err = fmt.Errorf("unsupported algorithm %q", alg)
	}
	if err != nil {
		return 0, err
	}
	now := time.Now()
	tok, err := jwt.NewBuilder().
		Issuer("http://127.0.0.1:8080/v1/accounts/bench").
		Subject("0b8f8a49-8f8a-4c47-9f0e-6f8e3b7c2a11").
		Audience([]string{"api://bench"}).
		IssuedAt(now).
		Expiration(now.Add(time.Hour)).
		JwtID("0192f1b2-6c1e-7a3d-9f51-0c4b8e2d1a77").
		Claim("client_id", "0b8f8a49-8f8a-4c47-9f0e-6f8e3b7c2a11").
		Claim("scope", "api://bench/.default").
		Claim("aid", "bench").
		Build()
	if err != nil {
		return 0, err
	}
	hdr := jws.NewHeaders()
	for k, v := range map[string]string{jws.KeyIDKey: "bench-key-1", jws.TypeKey: "at+jwt"} {
		if err := hdr.Set(k, v); err != nil {
			return 0, err
		}
	}
	opt := jwt.WithKey(sa, key, jws.WithProtectedHeaders(hdr))
	if _, err := jwt.Sign(tok, opt); err != nil {
		return 0, fmt.Errorf("jwt.Sign %s: %w", alg, err)
	}
	res := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if _, err := jwt.Sign(tok, opt); err != nil {
				b.Fatal(err)
			}
		}
	})
	if res.N == 0 {
		return 0, fmt.Errorf("jwt.Sign %s: benchmark did not run", alg)
	}
	return time.Duration(res.NsPerOp()), nil
}

package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/twinid/twinid/server/passwords"
)

// The raw baselines the server's CPU figures are divided by: the jwx build+sign of the
// claims the server signs, and passwords.Verify with passwords.Default. Each is timed in a
// child process of this binary started on the server's core (taskset), between the load
// rounds, as the CPU time the child spends (every thread of it, garbage collection
// included, like the server's CPU per request it is compared with) divided by the
// operations it ran. The server's core is idle then: the child has it to itself, as the
// server has it during a load round.

// baselineArg is the hidden first argument that makes this binary a baseline child.
const baselineArg = "__baseline"

// baseliner starts baseline children.
type baseliner struct {
	exe string // this binary
	cpu int    // core to run on (the server's), -1: any
}

// where says where the baselines ran, for the figures' names.
func (b baseliner) where() string {
	if b.cpu < 0 {
		return "unpinned"
	}
	return "same core"
}

// signCost returns the CPU time of one jwx build+sign of claims with the header's kid and
// typ, using a fresh key of alg (RS256: RSA-2048, ES256: P-256, as the server's keys).
func (b baseliner) signCost(ctx context.Context, alg string, header, claims []byte) (time.Duration, error) {
	return b.run(ctx, "sign", alg, string(header), string(claims))
}

// argonCost returns the CPU time of one passwords.Verify with passwords.Default.
func (b baseliner) argonCost(ctx context.Context) (time.Duration, error) {
	return b.run(ctx, "argon2id")
}

func (b baseliner) run(ctx context.Context, args ...string) (time.Duration, error) {
	argv := append([]string{b.exe, baselineArg}, args...)
	if b.cpu >= 0 {
		argv = append([]string{"taskset", "-c", strconv.Itoa(b.cpu)}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("baseline %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return parseBaseline(string(out))
}

// parseBaseline reads the child's "cpu_ns_per_op N ops M" line.
func parseBaseline(out string) (time.Duration, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "cpu_ns_per_op" && f[2] == "ops" {
			ns, err1 := strconv.ParseInt(f[1], 10, 64)
			ops, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil || ns <= 0 || ops <= 0 {
				return 0, fmt.Errorf("baseline output %q", sc.Text())
			}
			return time.Duration(ns), nil
		}
	}
	return 0, fmt.Errorf("baseline printed no cpu_ns_per_op line: %q", out)
}

// baselineMain is the child: it builds the operation, runs it and prints its CPU per op.
func baselineMain(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("baseline: no kind")
	}
	var (
		op     func() error
		minOps int
		err    error
	)
	switch {
	case args[0] == "sign" && len(args) == 4:
		op, err = signOp(args[1], []byte(args[2]), []byte(args[3]))
		minOps = 200
	case args[0] == "argon2id" && len(args) == 1:
		op, err = argonOp()
		minOps = 8
	default:
		return fmt.Errorf("baseline: bad arguments %q", args)
	}
	if err != nil {
		return err
	}
	per, n, err := cpuPerOp(op, minOps, 400*time.Millisecond)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "cpu_ns_per_op %d ops %d\n", per.Nanoseconds(), n)
	return err
}

// cpuPerOp runs op a few times unmeasured, then at least minOps times and for at least
// budget of wall time, and returns this process's CPU time (user + system, every thread)
// per op. The heap is collected before and after the measured ops, so the garbage they
// made is collected within the measurement.
func cpuPerOp(op func() error, minOps int, budget time.Duration) (time.Duration, int, error) {
	for range max(2, minOps/10) {
		if err := op(); err != nil {
			return 0, 0, err
		}
	}
	runtime.GC()
	before, err := processCPU()
	if err != nil {
		return 0, 0, err
	}
	n := 0
	for t0 := time.Now(); n < minOps || time.Since(t0) < budget; n++ {
		if err := op(); err != nil {
			return 0, 0, err
		}
	}
	runtime.GC()
	after, err := processCPU()
	if err != nil {
		return 0, 0, err
	}
	return (after - before) / time.Duration(n), n, nil
}

// processCPU is the user plus system CPU time this process has used.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// argonOp verifies a password against a hash made with passwords.Default.
func argonOp() (func() error, error) {
	const pw = "correct horse battery staple"
	h, err := passwords.Hash(pw, passwords.Default)
	if err != nil {
		return nil, err
	}
	return func() error {
		ok, _, err := passwords.Verify(pw, h, passwords.Default)
		if err == nil && !ok {
			err = errors.New("passwords.Verify rejected a fresh hash")
		}
		return err
	}, nil
}

// signOp builds and signs, with jwx, a JWT of the given claims (iat, exp and jti fresh for
// each token, as the server's are) under a protected header with the header's kid and typ.
func signOp(alg string, header, claims []byte) (func() error, error) {
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
		return nil, err
	}
	var hdr struct{ Kid, Typ string }
	var cl map[string]any
	if err := json.Unmarshal(header, &hdr); err != nil {
		return nil, fmt.Errorf("token header: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(claims)))
	dec.UseNumber()
	if err := dec.Decode(&cl); err != nil {
		return nil, fmt.Errorf("token claims: %w", err)
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.KeyIDKey, hdr.Kid); err != nil {
		return nil, err
	}
	if err := h.Set(jws.TypeKey, hdr.Typ); err != nil {
		return nil, err
	}
	opt := jwt.WithKey(sa, key, jws.WithProtectedHeaders(h))
	names := make([]string, 0, len(cl))
	for k := range cl {
		names = append(names, k)
	}
	slices.Sort(names)
	lifetime := time.Hour
	if iat, err1 := numClaim(cl, "iat"); err1 == nil {
		if exp, err2 := numClaim(cl, "exp"); err2 == nil && exp > iat {
			lifetime = time.Duration(exp-iat) * time.Second
		}
	}
	jtiLen := len(fmt.Sprint(cl["jti"]))
	return func() error {
		now := time.Now()
		b := jwt.NewBuilder()
		for _, k := range names {
			switch k {
			case "iat":
				b = b.IssuedAt(now)
			case "exp":
				b = b.Expiration(now.Add(lifetime))
			case "jti":
				b = b.JwtID(newSecret()[5 : 5+min(jtiLen, 43)])
			case "aud":
				if s, ok := cl[k].(string); ok {
					b = b.Audience([]string{s})
					continue
				}
				b = b.Claim(k, cl[k])
			default:
				b = b.Claim(k, cl[k])
			}
		}
		tok, err := b.Build()
		if err != nil {
			return err
		}
		_, err = jwt.Sign(tok, opt)
		return err
	}, nil
}

// numClaim is a numeric claim of a decoded (UseNumber) claim set.
func numClaim(cl map[string]any, k string) (int64, error) {
	n, ok := cl[k].(json.Number)
	if !ok {
		return 0, fmt.Errorf("claim %s is not a number", k)
	}
	return n.Int64()
}

// tokenParts returns the decoded protected header and claims of a compact JWS.
func tokenParts(tok string) (header, claims []byte, err error) {
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		return nil, nil, errors.New("access token is not a compact JWS")
	}
	if header, err = base64.RawURLEncoding.DecodeString(p[0]); err == nil {
		claims, err = base64.RawURLEncoding.DecodeString(p[1])
	}
	return header, claims, err
}

// selfExe is the path of this binary, for the baseline children.
func selfExe() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("baseline children: %w", err)
	}
	return exe, nil
}

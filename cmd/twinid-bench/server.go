package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// With -pin the server (and the baselines its figures are divided by) run on serverCPU,
// the load generator on loadCPU.
const (
	serverCPU = 1
	loadCPU   = 0
)

// bootstrapClientID is the admin client the server creates at start.
const bootstrapClientID = "bench-admin"

// newSecret returns "twid_" and 43 base62 characters from crypto/rand.
// masterKey is this run's TWINID_MASTER_KEY, which twinid requires on Postgres; one for
// every server of the run, as a cluster shares one.
var masterKey = func() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}()

func newSecret() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	out := []byte("twid_")
	buf := make([]byte, 64)
	for len(out) < 5+43 {
		rand.Read(buf)
		for _, b := range buf {
			if b < 248 && len(out) < 5+43 { // 248 = 4*62: no modulo bias
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out)
}

// buildServer builds ./cmd/twinid of the enclosing module into dir.
func buildServer(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(dir, "twinid")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/twinid")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/twinid: %w\n%s", err, out)
	}
	return bin, nil
}

// server is a running twinid.
type server struct {
	cmd         *exec.Cmd
	done        chan struct{} // closed when the process has exited
	base        string
	logPath     string
	adminSecret string
	db          string // TWINID_DATABASE_URL ("" is SQLite in dataDir)
	dataDir     string
}

// dbName is "Postgres" or "SQLite".
func (s *server) dbName() string {
	if isPostgres(s.db) {
		return "Postgres"
	}
	return "SQLite"
}

// startServer starts bin serve on a free loopback port and waits until /readyz answers 200.
func startServer(ctx context.Context, bin, tmp, db string, pin bool) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	dataDir := filepath.Join(tmp, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		return nil, err
	}
	s := &server{done: make(chan struct{}), base: "http://" + addr,
		logPath: filepath.Join(tmp, "server.log"), adminSecret: newSecret(), db: db, dataDir: dataDir}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	s.cmd = exec.Command(bin, "serve")
	if pin {
		// taskset execs the server in place, so the pid (and /proc figures) stay the server's.
		s.cmd = exec.Command("taskset", "-c", strconv.Itoa(serverCPU), bin, "serve")
	}
	// The server runs at its default log level (info, one access-log line per request), as
	// deployed: the bench's environment must not quiet it.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "TWINID_LOG_LEVEL=") })
	s.cmd.Env = append(env,
		"TWINID_LISTEN="+addr,
		"TWINID_PUBLIC_URL="+s.base,
		"TWINID_DATA_DIR="+dataDir,
		"TWINID_DATABASE_URL="+db,
		"TWINID_MASTER_KEY="+masterKey,
		"TWINID_BOOTSTRAP_CLIENT_ID="+bootstrapClientID,
		"TWINID_BOOTSTRAP_CLIENT_SECRET="+s.adminSecret,
	)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	// Should this process die without stopping the server, the kernel stops it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.done) }()

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/readyz", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		var why string
		select {
		case <-s.done:
			why = "server exited: " + s.cmd.ProcessState.String()
		case <-ctx.Done():
			why = ctx.Err().Error()
		case <-time.After(100 * time.Millisecond):
			if time.Now().Before(deadline) {
				continue
			}
			why = "/readyz not 200 after 60s"
		}
		s.stop(io.Discard)
		return nil, fmt.Errorf("%s; server log:\n%s", why, s.logTail())
	}
}

// logTail returns the end of the server's log.
func (s *server) logTail() string {
	data, _ := os.ReadFile(s.logPath)
	return string(data[max(0, len(data)-4000):])
}

// stop sends SIGTERM and, if the server has not exited after 10 s, SIGKILL.
func (s *server) stop(stderr io.Writer) {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		fmt.Fprintln(stderr, "twinid-bench: server ignored SIGTERM for 10s; killing it")
		s.cmd.Process.Kill()
		<-s.done
	}
}

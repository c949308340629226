package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestInvalidConfigListsEveryProblem(t *testing.T) {
	t.Setenv("TWINID_LISTEN", "nonsense")
	t.Setenv("TWINID_PUBLIC_URL", "ftp://x")
	t.Setenv("TWINID_MASTER_KEY", "short")
	t.Setenv("TWINID_LOG_LEVEL", "loud")
	t.Setenv("TWINID_DATABASE_URL", "mysql://x")
	t.Setenv("TWINID_DB_TIMEOUT", "100ms")
	t.Setenv("TWINID_CACHE_TTL", "five seconds")
	t.Setenv("TWINID_SMTP_TLS_SKIP_VERIFY", "maybe")
	t.Setenv("TWINID_REQUEST_TIMEOUT", "2h")
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"serve"}, nil, &out, &errb)
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, v := range []string{"TWINID_LISTEN", "TWINID_PUBLIC_URL", "TWINID_MASTER_KEY", "TWINID_LOG_LEVEL", "TWINID_DATABASE_URL", "TWINID_DB_TIMEOUT",
		"TWINID_CACHE_TTL", "TWINID_SMTP_TLS_SKIP_VERIFY", "TWINID_REQUEST_TIMEOUT"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
}

// A Postgres database without TWINID_MASTER_KEY is refused: a key generated per node
// would break a cluster. SQLite generates one (TestGeneratedMasterKeyIsPrivate).
func TestPostgresNeedsTheMasterKey(t *testing.T) {
	t.Setenv("TWINID_DATABASE_URL", "postgres://twinid@127.0.0.1:1/twinid")
	t.Setenv("TWINID_MASTER_KEY", "")
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"serve"}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "TWINID_MASTER_KEY: required with TWINID_DATABASE_URL") {
		t.Fatalf("started without a master key on Postgres: %v", err)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"version"}, nil, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^twinid \S+ \(revision \S+, go1\.\S+\)\n$`).MatchString(out.String()) {
		t.Fatalf("version output %q", out.String())
	}
}

func TestServeHelpListsEveryVariable(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--help"}, nil, &out, &errb); err != nil {
		t.Fatalf("--help is not a success: %v", err)
	}
	for _, v := range []string{"TWINID_LISTEN", "TWINID_PUBLIC_URL", "TWINID_DATABASE_URL", "TWINID_DATA_DIR",
		"TWINID_MASTER_KEY", "TWINID_LOG_LEVEL", "TWINID_BOOTSTRAP_CLIENT_ID", "TWINID_BOOTSTRAP_CLIENT_SECRET", "TWINID_REDIS_URL",
		"TWINID_SHUTDOWN_DRAIN", "TWINID_SHUTDOWN_GRACE", "TWINID_DB_TIMEOUT", "TWINID_REQUEST_TIMEOUT"} {
		if !strings.Contains(errb.String(), v) {
			t.Errorf("--help does not list %s", v)
		}
	}
}

func TestMigrateOnSQLiteThenServeBootstrapsOnce(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TWINID_DATA_DIR", dir)
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, nil, &out, &errb); err != nil {
		t.Fatalf("migrate: %v %s", err, errb.String())
	}
	// Every migration of the dialect, however many there are by now.
	files, err := os.ReadDir("../../store/migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("applied %d migration", len(files))) {
		t.Fatalf("migrate output: %s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate"}, nil, &out, &errb); err != nil || !strings.Contains(out.String(), "applied 0") {
		t.Fatalf("second migrate: %v %s", err, out.String())
	}
}

func TestGeneratedMasterKeyIsPrivate(t *testing.T) {
	dir := t.TempDir()
	cfg := &config{DataDir: dir}
	var logs bytes.Buffer
	k, err := cfg.masterKey(newLogger(&config{LogLevel: "info", LogFormat: "text"}, newLogWriter(&logs, logFlushDelay)))
	if err != nil || len(k) != 32 {
		t.Fatalf("master key: %v %d", err, len(k))
	}
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key mode %v, %v", fi.Mode().Perm(), err)
	}
	if !strings.Contains(logs.String(), "TWINID_MASTER_KEY is not set") {
		t.Fatal("no warning logged")
	}
	again, _ := cfg.masterKey(newLogger(&config{LogLevel: "info", LogFormat: "text"}, newLogWriter(&logs, logFlushDelay)))
	if !bytes.Equal(k, again) {
		t.Fatal("the master key changed between starts")
	}
}

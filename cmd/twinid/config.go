package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/twinid/twinid/server/mail"
	"github.com/twinid/twinid/server/passwords"
)

// config is twinid's configuration: environment variables, with flags mirroring them.
type config struct {
	Listen                string        `env:"TWINID_LISTEN" envDefault:":8080"`
	PublicURL             string        `env:"TWINID_PUBLIC_URL" envDefault:"http://localhost:8080"`
	DatabaseURL           string        `env:"TWINID_DATABASE_URL"`
	DataDir               string        `env:"TWINID_DATA_DIR" envDefault:"./data"`
	MasterKey             string        `env:"TWINID_MASTER_KEY"`
	LogLevel              string        `env:"TWINID_LOG_LEVEL" envDefault:"info"`
	LogFormat             string        `env:"TWINID_LOG_FORMAT" envDefault:"text"`
	RedisURL              string        `env:"TWINID_REDIS_URL"`
	CacheTTL              time.Duration `env:"TWINID_CACHE_TTL" envDefault:"5s"`
	DBTimeout             time.Duration `env:"TWINID_DB_TIMEOUT" envDefault:"5s"`
	RequestTimeout        time.Duration `env:"TWINID_REQUEST_TIMEOUT"`
	BootstrapClientID     string        `env:"TWINID_BOOTSTRAP_CLIENT_ID"`
	BootstrapClientSecret string        `env:"TWINID_BOOTSTRAP_CLIENT_SECRET"`
	BootstrapAdminEmail   string        `env:"TWINID_BOOTSTRAP_ADMIN_EMAIL"`
	BootstrapAdminPass    string        `env:"TWINID_BOOTSTRAP_ADMIN_PASSWORD"`
	SMTPURL               string        `env:"TWINID_SMTP_URL"`
	SMTPFrom              string        `env:"TWINID_SMTP_FROM" envDefault:"no-reply@localhost"`
	SMTPTLSSkipVerify     bool          `env:"TWINID_SMTP_TLS_SKIP_VERIFY"`
	TrustedProxies        string        `env:"TWINID_TRUSTED_PROXIES"`
	ShutdownDrain         time.Duration `env:"TWINID_SHUTDOWN_DRAIN" envDefault:"5s"`
	ShutdownGrace         time.Duration `env:"TWINID_SHUTDOWN_GRACE" envDefault:"10s"`
	AuditRetention        time.Duration `env:"TWINID_AUDIT_RETENTION" envDefault:"2160h"`
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{3,128}$`)

// loadConfig reads the environment, then the flags of fs (which override it). A variable
// that does not parse is reported in the error *envError, naming the variable, and its
// default stands in, so that Validate still checks the rest and every problem is listed
// at once.
func loadConfig(fs *flag.FlagSet, args []string) (*config, error) {
	cfg, envErr := readEnv()
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to listen on (TWINID_LISTEN)")
	fs.StringVar(&cfg.PublicURL, "public-url", cfg.PublicURL, "URL clients reach twinid at; issuers and links are built from it (TWINID_PUBLIC_URL)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "postgres:// URL; empty: embedded SQLite under the data dir (TWINID_DATABASE_URL)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the SQLite database and the generated master key (TWINID_DATA_DIR)")
	fs.StringVar(&cfg.MasterKey, "master-key", cfg.MasterKey, "32 random bytes, base64; encrypts signing keys and keys secret hashes (TWINID_MASTER_KEY)")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error (TWINID_LOG_LEVEL)")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json (TWINID_LOG_FORMAT)")
	fs.StringVar(&cfg.RedisURL, "redis-url", cfg.RedisURL, "redis:// URL for cluster-wide token rate limits; empty: per node (TWINID_REDIS_URL)")
	fs.DurationVar(&cfg.CacheTTL, "cache-ttl", cfg.CacheTTL, "how long a node trusts cached clients, accounts and keys (TWINID_CACHE_TTL)")
	fs.DurationVar(&cfg.DBTimeout, "db-timeout", cfg.DBTimeout, "bound of database work: connecting, each statement and transaction, and Postgres statement_timeout; past it the answer is 503 (TWINID_DB_TIMEOUT)")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of each API request's work, its database statements together; past it the answer is 503; 0: the db timeout (TWINID_REQUEST_TIMEOUT)")
	fs.StringVar(&cfg.BootstrapClientID, "bootstrap-client-id", cfg.BootstrapClientID, "first start only: the admin's client id (TWINID_BOOTSTRAP_CLIENT_ID)")
	fs.StringVar(&cfg.BootstrapClientSecret, "bootstrap-client-secret", cfg.BootstrapClientSecret, "first start only: the admin's client secret, never printed (TWINID_BOOTSTRAP_CLIENT_SECRET)")
	fs.StringVar(&cfg.BootstrapAdminEmail, "bootstrap-admin-email", cfg.BootstrapAdminEmail, "first start only: email of a person who administers every account and signs in to Swagger UI (TWINID_BOOTSTRAP_ADMIN_EMAIL)")
	fs.StringVar(&cfg.BootstrapAdminPass, "bootstrap-admin-password", cfg.BootstrapAdminPass, "first start only: that person's password, never printed (TWINID_BOOTSTRAP_ADMIN_PASSWORD)")
	fs.StringVar(&cfg.SMTPURL, "smtp-url", cfg.SMTPURL, "smtp://user:pass@host:587 (STARTTLS when offered; ?tls=required|none), smtps://host:465; empty: emails go to the development outbox under the data dir (TWINID_SMTP_URL)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", cfg.SMTPFrom, "sender address of emails (TWINID_SMTP_FROM)")
	fs.BoolVar(&cfg.SMTPTLSSkipVerify, "smtp-tls-skip-verify", cfg.SMTPTLSSkipVerify, "accept any certificate of the SMTP server, for testing only (TWINID_SMTP_TLS_SKIP_VERIFY)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", cfg.TrustedProxies, "comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For is trusted for the client address (TWINID_TRUSTED_PROXIES)")
	fs.DurationVar(&cfg.ShutdownDrain, "shutdown-drain", cfg.ShutdownDrain, "on SIGTERM, how long /readyz answers 503 while requests are still served, before the listener closes (TWINID_SHUTDOWN_DRAIN)")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", cfg.ShutdownGrace, "after the drain, how long requests in flight may take before their connections are closed (TWINID_SHUTDOWN_GRACE)")
	fs.DurationVar(&cfg.AuditRetention, "audit-retention", cfg.AuditRetention, "how long audit events are kept before the janitor deletes them; 2160h is 90 days (TWINID_AUDIT_RETENTION)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return cfg, envErr
}

// envError lists the environment variables whose values do not parse.
type envError struct{ errs []error }

func (e *envError) Error() string { return errors.Join(e.errs...).Error() }

// readEnv parses the environment into a config; the fields of variables that do not parse
// keep their defaults, and the error (an *envError) names each such variable.
func readEnv() (*config, error) {
	var cfg config
	err := env.Parse(&cfg)
	var agg env.AggregateError
	if err == nil {
		return &cfg, nil
	} else if !errors.As(err, &agg) {
		return nil, err
	}
	var def config
	if err := env.ParseWithOptions(&def, env.Options{Environment: map[string]string{}}); err != nil {
		return nil, err
	}
	out := &envError{}
	cv, dv, ct := reflect.ValueOf(&cfg).Elem(), reflect.ValueOf(def), reflect.TypeOf(cfg)
	for _, e := range agg.Errors {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			out.errs = append(out.errs, e)
			continue
		}
		f, _ := ct.FieldByName(pe.Name)
		name := f.Tag.Get("env")
		out.errs = append(out.errs, fmt.Errorf("%s %q: %s", name, os.Getenv(name), parseHint(f.Type)))
		cv.FieldByName(pe.Name).Set(dv.FieldByName(pe.Name))
	}
	return &cfg, out
}

// parseHint says what a variable of type t must look like.
func parseHint(t reflect.Type) string {
	switch t {
	case reflect.TypeOf(time.Duration(0)):
		return "want a duration such as 5s, 500ms or 2m"
	case reflect.TypeOf(false):
		return "want true or false"
	}
	return "want a " + t.String()
}

// Validate reports every problem at once.
func (c *config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("TWINID_LISTEN %q: want host:port or :port", c.Listen))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("TWINID_PUBLIC_URL %q: want an absolute http(s) URL without query", c.PublicURL))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("TWINID_DATABASE_URL: want a postgres:// URL, or empty for the embedded SQLite database"))
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("TWINID_DATA_DIR: must not be empty"))
	}
	if c.MasterKey == "" && c.DatabaseURL != "" {
		// Each node would generate a key of its own, and none could read what the others
		// encrypted or verify the secrets they hashed.
		errs = append(errs, errors.New("TWINID_MASTER_KEY: required with TWINID_DATABASE_URL (Postgres), "+
			"and the same on every node: a key generated per node breaks a cluster (openssl rand -base64 32)"))
	}
	if c.MasterKey != "" {
		if k, err := base64.StdEncoding.DecodeString(c.MasterKey); err != nil || len(k) != 32 {
			errs = append(errs, errors.New("TWINID_MASTER_KEY: want 32 bytes, base64-encoded (openssl rand -base64 32)"))
		}
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("TWINID_LOG_FORMAT %q: want text or json", c.LogFormat))
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			errs = append(errs, errors.New("TWINID_REDIS_URL: want a redis:// or rediss:// URL"))
		}
	}
	if c.CacheTTL <= 0 || c.CacheTTL > time.Minute {
		errs = append(errs, fmt.Errorf("TWINID_CACHE_TTL %s: want more than 0 and at most 1m", c.CacheTTL))
	}
	if c.ShutdownDrain < 0 || c.ShutdownDrain > 10*time.Minute {
		errs = append(errs, fmt.Errorf("TWINID_SHUTDOWN_DRAIN %s: want 0 to 10m", c.ShutdownDrain))
	}
	if c.ShutdownGrace <= 0 || c.ShutdownGrace > 10*time.Minute {
		errs = append(errs, fmt.Errorf("TWINID_SHUTDOWN_GRACE %s: want more than 0 and at most 10m", c.ShutdownGrace))
	}
	// Under a second the connect timeout (whole seconds) would exceed it; over a minute
	// requests would hold connections long after their clients gave up.
	if c.DBTimeout < time.Second || c.DBTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("TWINID_DB_TIMEOUT %s: want at least 1s and at most 1m", c.DBTimeout))
	}
	if c.AuditRetention < time.Hour {
		errs = append(errs, fmt.Errorf("TWINID_AUDIT_RETENTION %s: want at least 1h (2160h is 90 days)", c.AuditRetention))
	}
	if c.RequestTimeout != 0 && (c.RequestTimeout < time.Second || c.RequestTimeout > time.Minute) {
		errs = append(errs, fmt.Errorf("TWINID_REQUEST_TIMEOUT %s: want at least 1s and at most 1m, or 0 for TWINID_DB_TIMEOUT", c.RequestTimeout))
	}
	if c.BootstrapClientID != "" && !clientIDPattern.MatchString(c.BootstrapClientID) {
		errs = append(errs, errors.New("TWINID_BOOTSTRAP_CLIENT_ID: 3 to 128 characters of A-Z a-z 0-9 . _ ~ -"))
	}
	if (c.BootstrapClientID == "") != (c.BootstrapClientSecret == "") {
		errs = append(errs, errors.New("TWINID_BOOTSTRAP_CLIENT_ID and TWINID_BOOTSTRAP_CLIENT_SECRET go together"))
	}
	if c.BootstrapClientSecret != "" && len(c.BootstrapClientSecret) < 32 {
		errs = append(errs, errors.New("TWINID_BOOTSTRAP_CLIENT_SECRET: at least 32 characters"))
	}
	if (c.BootstrapAdminEmail == "") != (c.BootstrapAdminPass == "") {
		errs = append(errs, errors.New("TWINID_BOOTSTRAP_ADMIN_EMAIL and TWINID_BOOTSTRAP_ADMIN_PASSWORD go together"))
	}
	if c.BootstrapAdminPass != "" {
		if err := passwords.Check(c.BootstrapAdminPass); err != nil {
			errs = append(errs, fmt.Errorf("TWINID_BOOTSTRAP_ADMIN_PASSWORD: %w", err))
		}
	}
	if c.SMTPURL != "" {
		if _, err := mail.New(mail.Config{URL: c.SMTPURL, From: c.SMTPFrom}, nil); err != nil {
			errs = append(errs, fmt.Errorf("TWINID_SMTP_URL: %w", err))
		}
	}
	if _, err := c.trustedProxies(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// trustedProxies parses TWINID_TRUSTED_PROXIES: IPs or CIDRs, comma-separated.
func (c *config) trustedProxies() ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(c.TrustedProxies, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("TWINID_TRUSTED_PROXIES: %q is not an IP address or CIDR", part)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("TWINID_TRUSTED_PROXIES: %q is not an IP address or CIDR", part)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("TWINID_LOG_LEVEL %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// masterKey returns the configured key, or the one in the data dir, generating it (mode
// 0600) on first use.
func (c *config) masterKey(log *slog.Logger) ([]byte, error) {
	if c.MasterKey != "" {
		return base64.StdEncoding.DecodeString(c.MasterKey)
	}
	path := filepath.Join(c.DataDir, "master.key")
	if b, err := os.ReadFile(path); err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("%s: not a base64 32-byte key", path)
		}
		return k, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		_ = f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	log.Warn("TWINID_MASTER_KEY is not set: generated a master key; keep it safe and back it up, it decrypts the signing keys", "path", path)
	return k, nil
}

// bootstrapSet names the first-start variables that are set.
func (c *config) bootstrapSet() []string {
	var set []string
	for name, v := range map[string]string{
		"TWINID_BOOTSTRAP_CLIENT_ID": c.BootstrapClientID, "TWINID_BOOTSTRAP_CLIENT_SECRET": c.BootstrapClientSecret,
		"TWINID_BOOTSTRAP_ADMIN_EMAIL": c.BootstrapAdminEmail, "TWINID_BOOTSTRAP_ADMIN_PASSWORD": c.BootstrapAdminPass,
	} {
		if v != "" {
			set = append(set, name)
		}
	}
	slices.Sort(set)
	return set
}

// Package mail sends the transactional emails of the identity server
// (verification codes, invitations).
//
// New returns an SMTP sender when TWINID_SMTP_URL is configured and a
// development outbox sender (one .eml file per message) otherwise. Queue puts
// a bounded asynchronous queue in front of a Sender so that HTTP handlers
// never wait on SMTP. Render turns the embedded templates into subject, text
// and HTML bodies.
//
// Nothing in this package logs a message body, a code, a link or a password;
// at most the recipient's domain is logged.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Message is one email to deliver.
type Message struct {
	// To is the recipient address (a single RFC 5322 address).
	To string
	// FromName is the sender display name, e.g. the account name "Acme Shop".
	// The sender address always comes from Config.From.
	FromName string
	Subject  string
	// Text is the text/plain body; HTML the text/html alternative. Either may
	// be empty, but not both.
	Text string
	HTML string
}

// Sender delivers a message synchronously.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Config configures New.
type Config struct {
	// URL is TWINID_SMTP_URL:
	//
	//	smtp://[user:pass@]host[:port]               STARTTLS if offered (default port 587)
	//	smtp://[user:pass@]host[:port]?tls=required  STARTTLS mandatory
	//	smtp://[user:pass@]host[:port]?tls=none      plain text (local dev servers)
	//	smtps://[user:pass@]host[:port]              implicit TLS (default port 465)
	//
	// With opportunistic STARTTLS, credentials are only sent over TLS (or to
	// localhost); use tls=none to allow plain-text authentication.
	// Empty means: write messages to OutboxDir instead of sending them.
	URL string
	// From is the envelope and header sender address (default
	// "no-reply@localhost"). A display name in it is used when a message has
	// no FromName.
	From string
	// TLSSkipVerify disables verification of the server certificate.
	TLSSkipVerify bool
	// OutboxDir receives the .eml files when URL is empty (default
	// $TMPDIR/twinid-outbox).
	OutboxDir string
}

// DefaultFrom is the sender address used when Config.From is empty.
const DefaultFrom = "no-reply@localhost"

// sendTimeout bounds one SMTP delivery (dial, TLS, auth and transfer).
const sendTimeout = 15 * time.Second

// New returns an SMTP sender when cfg.URL is set and a development outbox
// sender otherwise. An invalid URL or From address is an error.
func New(cfg Config, log *slog.Logger) (Sender, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	from, err := parseFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.URL) == "" {
		return newOutbox(cfg.OutboxDir, from, log)
	}
	ep, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	return newSMTPSender(ep, from, cfg.TLSSkipVerify, log)
}

func parseFrom(s string) (*mail.Address, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultFrom
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid sender address (From): %w", err)
	}
	return a, nil
}

type tlsMode int

const (
	tlsOpportunistic tlsMode = iota // STARTTLS when offered
	tlsRequired                     // STARTTLS mandatory
	tlsNone                         // never encrypt
	tlsImplicit                     // smtps://
)

func (m tlsMode) String() string {
	switch m {
	case tlsRequired:
		return "required"
	case tlsNone:
		return "none"
	case tlsImplicit:
		return "implicit"
	default:
		return "opportunistic"
	}
}

// endpoint is a parsed TWINID_SMTP_URL.
type endpoint struct {
	host     string
	port     int
	tls      tlsMode
	user     string
	pass     string
	hasAuth  bool
	redacted string // for logs: never contains the password
}

// parseURL validates TWINID_SMTP_URL. Error messages never contain the
// password.
func parseURL(raw string) (endpoint, error) {
	var ep endpoint
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// *url.Error repeats the whole URL, password included: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return ep, fmt.Errorf("mail: invalid TWINID_SMTP_URL: %w", err)
	}
	switch u.Scheme {
	case "smtp":
		ep.tls, ep.port = tlsOpportunistic, 587
	case "smtps":
		ep.tls, ep.port = tlsImplicit, 465
	case "":
		return ep, errors.New("mail: invalid TWINID_SMTP_URL: missing scheme (want smtp:// or smtps://)")
	default:
		return ep, fmt.Errorf("mail: invalid TWINID_SMTP_URL: unsupported scheme %q (want smtp or smtps)", u.Scheme)
	}
	if u.Opaque != "" {
		return ep, errors.New("mail: invalid TWINID_SMTP_URL: missing host (want " + u.Scheme + "://host[:port])")
	}
	ep.host = u.Hostname()
	if ep.host == "" {
		return ep, errors.New("mail: invalid TWINID_SMTP_URL: missing host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return ep, fmt.Errorf("mail: invalid TWINID_SMTP_URL: invalid port %q", p)
		}
		ep.port = n
	}
	if u.Path != "" && u.Path != "/" {
		return ep, fmt.Errorf("mail: invalid TWINID_SMTP_URL: unexpected path %q", u.Path)
	}
	if u.Fragment != "" {
		return ep, errors.New("mail: invalid TWINID_SMTP_URL: unexpected fragment")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return ep, fmt.Errorf("mail: invalid TWINID_SMTP_URL: invalid query: %w", err)
	}
	for k, v := range q {
		if k != "tls" {
			return ep, fmt.Errorf("mail: invalid TWINID_SMTP_URL: unknown option %q (only tls is supported)", k)
		}
		if len(v) != 1 {
			return ep, errors.New("mail: invalid TWINID_SMTP_URL: tls option given more than once")
		}
		mode := strings.ToLower(v[0])
		switch {
		case ep.tls == tlsImplicit && mode == "required":
			// Implicit TLS is always required.
		case ep.tls == tlsImplicit:
			return ep, fmt.Errorf("mail: invalid TWINID_SMTP_URL: tls=%s cannot be used with smtps:// (implicit TLS)", v[0])
		case mode == "none":
			ep.tls = tlsNone
		case mode == "required":
			ep.tls = tlsRequired
		case mode == "opportunistic":
			ep.tls = tlsOpportunistic
		default:
			return ep, fmt.Errorf("mail: invalid TWINID_SMTP_URL: invalid tls option %q (want none, required or opportunistic)", v[0])
		}
	}
	if u.User != nil {
		ep.user = u.User.Username()
		ep.pass, _ = u.User.Password()
		if ep.user == "" {
			return ep, errors.New("mail: invalid TWINID_SMTP_URL: empty user name in user info")
		}
		ep.hasAuth = true
	}
	ep.redacted = u.Scheme + "://" + u.Host
	if ep.hasAuth {
		ep.redacted = u.Scheme + "://" + url.User(ep.user).String() + "@" + u.Host
	}
	return ep, nil
}

// recipientDomain returns the domain part of an address, for logs.
func recipientDomain(addr string) string {
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return strings.ToLower(addr[i+1:])
	}
	return "(invalid)"
}

package mail

import (
	"context"
	"net/mail"
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

package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// buildMsg turns a Message into a go-mail message: multipart/alternative
// (text + HTML) when both bodies are present, with From, To, Subject, Date
// and Message-ID headers.
func buildMsg(from *mail.Address, m Message) (*gomail.Msg, error) {
	if strings.TrimSpace(m.To) == "" {
		return nil, errors.New("mail: message has no recipient")
	}
	if m.Text == "" && m.HTML == "" {
		return nil, errors.New("mail: message has no body")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	name := oneLine(m.FromName)
	if name == "" {
		name = from.Name
	}
	// FromMailAddress lets net/mail quote and RFC 2047-encode the display
	// name (FromFormat would break on a name containing a double quote).
	msg.FromMailAddress(&mail.Address{Name: name, Address: from.Address})
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: invalid recipient address: %w", err)
	}
	msg.Subject(oneLine(m.Subject))
	msg.SetDate()
	msg.SetMessageIDWithValue(messageID(from.Address))
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// oneLine collapses line breaks so a value cannot span header lines.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// messageID returns "<random>@<domain of the sender>" (go-mail adds the
// angle brackets).
func messageID(from string) string {
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = from[i+1:]
	}
	return randomHex(16) + "@" + domain
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// smtpSender delivers through an SMTP relay. A go-mail Client is built per
// message, so concurrent Sends share no connection or authentication state.
type smtpSender struct {
	ep   endpoint
	from *mail.Address
	opts []gomail.Option
	log  *slog.Logger
}

func newSMTPSender(ep endpoint, from *mail.Address, skipVerify bool, log *slog.Logger) (*smtpSender, error) {
	opts := []gomail.Option{
		gomail.WithPort(ep.port),
		gomail.WithTimeout(sendTimeout),
		gomail.WithTLSConfig(&tls.Config{
			ServerName:         ep.host,
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: skipVerify, //nolint:gosec // explicit opt-in (Config.TLSSkipVerify)
		}),
	}
	switch ep.tls {
	case tlsImplicit:
		opts = append(opts, gomail.WithSSL())
	case tlsRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case tlsNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	// Validate the options once so that New reports configuration errors.
	if _, err := gomail.NewClient(ep.host, opts...); err != nil {
		return nil, fmt.Errorf("mail: smtp client: %w", err)
	}
	log.Info("SMTP mail delivery configured", "server", ep.redacted, "port", ep.port,
		"tls", ep.tls.String(), "from", from.Address)
	return &smtpSender{ep: ep, from: from, opts: opts, log: log}, nil
}

func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg, err := buildMsg(s.from, m)
	if err != nil {
		return err
	}
	opts := s.opts
	if s.ep.hasAuth {
		opts = append(opts[:len(opts):len(opts)], gomail.WithSMTPAuthCustom(&plainOrLoginAuth{
			user:          s.ep.user,
			pass:          s.ep.pass,
			host:          s.ep.host,
			allowPlaintxt: s.ep.tls == tlsNone,
		}))
	}
	client, err := gomail.NewClient(s.ep.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: smtp %s: %w", s.ep.host+":"+strconv.Itoa(s.ep.port), err)
	}
	return nil
}

// plainOrLoginAuth authenticates with PLAIN when the server offers it and
// with LOGIN otherwise. It is created per connection (LOGIN keeps state).
type plainOrLoginAuth struct {
	user, pass, host string
	allowPlaintxt    bool // tls=none: the operator accepted plain-text credentials
	inner            gosmtp.Auth
}

func (a *plainOrLoginAuth) Start(si *gosmtp.ServerInfo) (string, []byte, error) {
	switch {
	case offers(si.Auth, "PLAIN"):
		a.inner = gosmtp.PlainAuth("", a.user, a.pass, a.host, a.allowPlaintxt)
	case offers(si.Auth, "LOGIN"):
		a.inner = gosmtp.LoginAuth(a.user, a.pass, a.host, a.allowPlaintxt)
	default:
		return "", nil, fmt.Errorf("server offers no PLAIN or LOGIN authentication (offers %q)",
			strings.Join(si.Auth, " "))
	}
	proto, resp, err := a.inner.Start(si)
	if errors.Is(err, gosmtp.ErrUnencrypted) {
		err = fmt.Errorf("%w: refusing to send credentials without TLS "+
			"(the server did not offer STARTTLS; add ?tls=none to allow it)", err)
	}
	return proto, resp, err
}

func (a *plainOrLoginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if a.inner == nil {
		return nil, errors.New("authentication not started")
	}
	return a.inner.Next(fromServer, more)
}

func offers(mechs []string, mech string) bool {
	for _, m := range mechs {
		if strings.EqualFold(m, mech) {
			return true
		}
	}
	return false
}

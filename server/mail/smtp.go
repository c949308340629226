package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

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

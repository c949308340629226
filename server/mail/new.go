package mail

import (
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
)

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

package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// outboxSender writes each message as an RFC 5322 .eml file into a
// directory. It is the development fallback when SMTP is not configured.
type outboxSender struct {
	dir  string
	from *mail.Address
	log  *slog.Logger
}

func newOutbox(dir string, from *mail.Address, log *slog.Logger) (*outboxSender, error) {
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "twinid-outbox")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: create outbox directory: %w", err)
	}
	log.Warn("SMTP is not configured (TWINID_SMTP_URL); emails are written to the development outbox",
		"dir", dir)
	return &outboxSender{dir: dir, from: from, log: log}, nil
}

func (o *outboxSender) Send(ctx context.Context, m Message) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg, err := buildMsg(o.from, m)
	if err != nil {
		return err
	}
	name := filepath.Join(o.dir, strconv.FormatInt(time.Now().UnixNano(), 10)+"-"+randomHex(6)+".eml")
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("mail: outbox: %w", cerr)
		}
		if err != nil {
			_ = os.Remove(name)
		}
	}()
	if _, err := msg.WriteTo(f); err != nil {
		return fmt.Errorf("mail: outbox: write message: %w", err)
	}
	o.log.Debug("email written to the development outbox", "file", filepath.Base(name),
		"to_domain", recipientDomain(m.To))
	return nil
}

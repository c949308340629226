package mail

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"
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

package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message as delivered to one envelope recipient.
type Received struct {
	// From is the From header with RFC 2047 encoded words decoded, e.g.
	// `"Acme Shop" <no-reply@example.com>`; parse it with net/mail.
	From string
	// To is the envelope recipient (RCPT TO).
	To string
	// Subject is the decoded Subject header.
	Subject string
	// Text and HTML are the decoded text/plain and text/html parts (the
	// first of each), with CRLF line endings turned into LF.
	Text string
	HTML string
	// Raw is the message as received (headers and body).
	Raw string
}

// Server is an SMTP server listening on 127.0.0.1 that accepts every
// message, with or without AUTH PLAIN (any user name and password).
type Server struct {
	smtp *smtp.Server
	addr string

	mu       sync.Mutex
	msgs     []entry
	count    int
	notify   chan struct{} // closed and replaced when a message arrives
	parseErr error
}

type entry struct {
	r        Received
	consumed bool
}

// Start starts a server on 127.0.0.1:0; it is closed by t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{addr: ln.Addr().String(), notify: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	// The default logger writes to stderr, possibly after the test ended.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.smtp = srv

	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
	})
	return s
}

// URL returns the TWINID_SMTP_URL for this server:
// smtp://user:pass@127.0.0.1:PORT?tls=none.
func (s *Server) URL() string {
	return "smtp://user:pass@" + s.addr + "?tls=none"
}

// Addr returns host:port.
func (s *Server) Addr() string { return s.addr }

// Count returns the number of messages received (one per DATA command,
// whatever the number of recipients).
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Wait returns the oldest message to recipient to (case-insensitive) that
// no earlier Wait returned, waiting up to timeout for it to arrive. It fails
// the test on timeout.
func (s *Server) Wait(t testing.TB, to string, timeout time.Duration) Received {
	t.Helper()
	to = normalize(to)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		for i := range s.msgs {
			if e := &s.msgs[i]; !e.consumed && normalize(e.r.To) == to {
				e.consumed = true
				r := e.r
				s.mu.Unlock()
				return r
			}
		}
		notify, perr := s.notify, s.parseErr
		s.mu.Unlock()
		select {
		case <-notify:
		case <-timer.C:
			if perr != nil {
				t.Fatalf("mailtest: no email to %s within %s (a received message could not be parsed: %v)", to, timeout, perr)
			}
			t.Fatalf("mailtest: no email to %s within %s (%d received in total)", to, timeout, s.Count())
			return Received{}
		}
	}
}

var codeRE = regexp.MustCompile(`(?:^|\D)(\d{8})(?:\D|$)`)

// Code returns the first run of exactly eight digits in text, or "".
func Code(text string) string {
	if m := codeRE.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

func normalize(addr string) string {
	return strings.ToLower(strings.TrimSpace(strings.Trim(strings.TrimSpace(addr), "<>")))
}

func (s *Server) deliver(rcpts []string, raw []byte) {
	r, err := parse(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil && s.parseErr == nil {
		s.parseErr = err
	}
	s.count++
	for _, to := range rcpts {
		rr := r
		rr.To = to
		s.msgs = append(s.msgs, entry{r: rr})
	}
	close(s.notify)
	s.notify = make(chan struct{})
}

// session implements smtp.Session and smtp.AuthSession.
type session struct {
	srv   *Server
	rcpts []string
}

func (*session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (*session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		return nil // any credentials are fine
	}), nil
}

func (*session) Mail(string, *smtp.MailOptions) error { return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.deliver(s.rcpts, raw)
	return nil
}

func (s *session) Reset()        { s.rcpts = nil }
func (s *session) Logout() error { return nil }

// parse decodes the headers and the text/plain and text/html parts of raw.
// On error, the returned Received still holds Raw and whatever was decoded.
func parse(raw []byte) (Received, error) {
	r := Received{Raw: string(raw)}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return r, fmt.Errorf("read message: %w", err)
	}
	dec := new(mime.WordDecoder)
	r.From = decodeHeader(dec, msg.Header.Get("From"))
	r.Subject = decodeHeader(dec, msg.Header.Get("Subject"))
	err = walk(&r, msg.Header, msg.Body, 0)
	return r, err
}

func decodeHeader(dec *mime.WordDecoder, v string) string {
	if d, err := dec.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// header is what walk needs from mail.Header and textproto.MIMEHeader.
type header interface{ Get(string) string }

func walk(r *Received, h header, body io.Reader, depth int) error {
	if depth > 10 {
		return errors.New("multipart nesting too deep")
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart keeps Content-Transfer-Encoding for decode below.
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			if err := walk(r, p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	if mediaType != "text/plain" && mediaType != "text/html" {
		return nil // attachments and the like
	}
	b, err := io.ReadAll(decode(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return fmt.Errorf("decode %s part: %w", mediaType, err)
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	if mediaType == "text/plain" && r.Text == "" {
		r.Text = s
	} else if mediaType == "text/html" && r.HTML == "" {
		r.HTML = s
	}
	return nil
}

func decode(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r) // skips CR and LF
	default: // 7bit, 8bit, binary
		return r
	}
}

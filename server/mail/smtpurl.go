package mail

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// tlsMode is how the connection to the SMTP server is encrypted: the
// scheme and the tls option of TWINID_SMTP_URL.
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

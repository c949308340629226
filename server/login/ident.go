package login

import (
	"net/mail"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// Customer identifiers are compared in a normal form: trimmed, Unicode NFC, emails in lower
// case, phone numbers in E.164.

// NormEmail checks an email address and returns it as given (trimmed, NFC) and its
// comparison form (lower case).
func NormEmail(raw string) (display, key string, ok bool) {
	s := norm.NFC.String(strings.TrimSpace(raw))
	if s == "" || len(s) > 320 || strings.ContainsFunc(s, unicode.IsControl) || strings.ContainsFunc(s, invisible) {
		return "", "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", "", false
	}
	local, domain, found := strings.Cut(s, "@")
	if !found || local == "" || len(local) > 64 || domain == "" || strings.HasPrefix(domain, "[") {
		return "", "", false
	}
	return s, strings.ToLower(s), true
}

// invisible reports the format characters that make two addresses look alike while they
// differ, or reorder how one is shown: zero-width spaces and joiners and the directional
// marks (U+200B–U+200F), the bidirectional embeddings and overrides (U+202A–U+202E), the
// isolates (U+2066–U+2069) and the zero-width no-break space (U+FEFF). unicode.IsControl
// covers only Cc, not these Cf characters.
func invisible(r rune) bool {
	return r >= 0x200B && r <= 0x200F || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0xFEFF
}

// NormEmailPrefix is the comparison form of a search prefix.
func NormEmailPrefix(raw string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(raw)))
}

// NormPhone parses a phone number with its country code (+47 912 34 567) into E.164.
func NormPhone(raw string) (string, bool) {
	s := norm.NFC.String(strings.TrimSpace(raw))
	if !strings.HasPrefix(s, "+") || len(s) > 32 || strings.ContainsFunc(s, unicode.IsControl) {
		return "", false
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false
	}
	return phonenumbers.Format(n, phonenumbers.E164), true
}

// CleanText is free text stored as given: trimmed, NFC, without control characters.
func CleanText(s string) (string, bool) {
	s = norm.NFC.String(strings.TrimSpace(s))
	return s, !strings.ContainsFunc(s, unicode.IsControl)
}

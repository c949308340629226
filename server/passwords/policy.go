package passwords

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Password length bounds, in Unicode code points after NFC normalisation.
const (
	MinLength = 8
	MaxLength = 256
)

// Policy error codes, stable for API clients.
const (
	CodeTooShort          = "password_too_short"
	CodeTooLong           = "password_too_long"
	CodeInvalidCharacters = "password_invalid_characters"
	CodeTooCommon         = "password_too_common"
)

// PolicyError is returned by Check when a password is not acceptable. Code
// is one of the Code* constants; Message is a human-readable explanation.
type PolicyError struct {
	Code    string
	Message string
}

func (e *PolicyError) Error() string { return e.Message }

// commonPasswordsText is the list of common passwords: one per line,
// lowercased, only entries of at least MinLength characters; lines starting
// with '#' are comments. Its first line names the source.
//
//go:embed common-passwords.txt
var commonPasswordsText string

var (
	commonOnce sync.Once
	common     map[string]struct{}
)

func commonPasswords() map[string]struct{} {
	commonOnce.Do(func() {
		m := make(map[string]struct{}, strings.Count(commonPasswordsText, "\n"))
		for line := range strings.Lines(commonPasswordsText) {
			line = strings.TrimRight(line, "\r\n")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			m[line] = struct{}{}
		}
		common = m
	})
	return common
}

// Check reports whether password satisfies the password policy. It returns
// nil or a *PolicyError for a password that
//   - is not valid UTF-8 or contains NUL or another control character
//     (password_invalid_characters),
//   - has fewer than MinLength code points after NFC normalisation
//     (password_too_short),
//   - has more than MaxLength code points (password_too_long),
//   - is, ignoring case, in the embedded list of common passwords
//     (password_too_common).
func Check(password string) error {
	// NFC can merge several code points into one, but by far less than 16
	// bytes per resulting code point; refuse absurd input before normalising.
	if len(password) > 16*MaxLength {
		return tooLong()
	}
	if !utf8.ValidString(password) {
		return invalidCharacters()
	}
	s := norm.NFC.String(password)
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalidCharacters()
		}
	}
	n := utf8.RuneCountInString(s)
	if n < MinLength {
		return &PolicyError{Code: CodeTooShort, Message: "password must be at least 8 characters long"}
	}
	if n > MaxLength {
		return tooLong()
	}
	if _, found := commonPasswords()[strings.ToLower(s)]; found {
		return &PolicyError{Code: CodeTooCommon, Message: "password is too common; choose a less predictable one"}
	}
	return nil
}

func tooLong() error {
	return &PolicyError{Code: CodeTooLong, Message: "password must be at most 256 characters long"}
}

func invalidCharacters() error {
	return &PolicyError{Code: CodeInvalidCharacters, Message: "password must not contain control characters or invalid text"}
}

package oauth2

import (
	"strconv"
	"unicode/utf8"
)

// The hot answers (the token endpoint's, the access token's claims) are written by
// appending to one buffer instead of through encoding/json's reflection. AppendString and
// AppendMember write what encoding/json writes for the same strings, HTML escaping aside
// (no answer of these is embedded in HTML).

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string (RFC 8259 §7): quotes, backslashes and control
// characters escaped, invalid UTF-8 as U+FFFD, and U+2028 and U+2029 escaped as
// encoding/json does, so the text is also valid JavaScript.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	return append(AppendEscaped(dst, s), '"')
}

// AppendEscaped appends s escaped as inside a JSON string, without the quotes, for a
// string written in parts.
func AppendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// AppendMember appends `,"name":"value"` (no comma before the first member: dst ends
// with '{'). name is a literal of the caller's, written as is.
func AppendMember(dst []byte, name, value string) []byte {
	dst = appendName(dst, name)
	return AppendString(dst, value)
}

// AppendJoined appends `,"name":"v1 v2 …"` like AppendMember: the values separated by
// spaces, as the scope parameter is (RFC 6749 §3.3), written in place rather than joined
// first.
func AppendJoined(dst []byte, name string, values []string) []byte {
	dst = appendName(dst, name)
	dst = append(dst, '"')
	for i, v := range values {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = AppendEscaped(dst, v)
	}
	return append(dst, '"')
}

// AppendInt appends `,"name":n` like AppendMember.
func AppendInt(dst []byte, name string, n int64) []byte {
	dst = appendName(dst, name)
	return strconv.AppendInt(dst, n, 10)
}

func appendName(dst []byte, name string) []byte {
	if len(dst) > 0 && dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

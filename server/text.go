package server

import (
	"strings"
	"unicode/utf8"
)

// unusableString reports whether s holds a NUL character or invalid UTF-8, which no
// identifier, parameter or form field needs and Postgres text cannot hold.
func unusableString(s string) bool { return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) }

package oauth2

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode"
)

// The ways a JSON body can be more than one plain value. Parsers disagree on them (RFC 8259
// §4: with repeated names "many implementations report the last name/value pair only",
// others the first), so a body that one reader sees one way and another reader another is
// refused instead of guessed at.
var (
	ErrJSONSyntax    = errors.New("the JSON body is malformed")
	ErrJSONDuplicate = errors.New("a JSON object repeats a member name")
	ErrJSONTrailing  = errors.New("the JSON body holds data after its value")
)

// CheckJSON reports whether body is exactly one JSON value (RFC 8259 §2: JSON-text is one
// value between optional whitespace), with no object at any depth naming a member twice.
// fold compares names case-insensitively, as encoding/json matches them to struct fields:
// {"email":…,"EMAIL":…} would otherwise fill one field with the last of two values. It
// walks the tokens and keeps only the names of the open objects, so any body it can read
// it checks in one pass.
func CheckJSON(body []byte, fold bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // numbers are the validator's business, not a syntax error here
	// One frame per open container: the member names seen so far, nil for an array.
	// expectName is true where the next token of an object is a member name.
	type frame struct {
		names      map[string]bool
		expectName bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return ErrJSONSyntax
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if top != nil && top.names != nil {
					top.expectName = true
				}
				stack = append(stack, &frame{names: map[string]bool{}, expectName: true})
			case '[':
				if top != nil && top.names != nil {
					top.expectName = true
				}
				stack = append(stack, &frame{})
			default: // '}' or ']': the decoder has checked that they match
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.names != nil && top.expectName {
				name := t
				if fold {
					name = foldName(t)
				}
				if top.names[name] {
					return ErrJSONDuplicate
				}
				top.names[name] = true
				top.expectName = false
				continue
			}
			if top != nil && top.names != nil {
				top.expectName = true
			}
		default: // a number, a boolean or null
			if top != nil && top.names != nil {
				top.expectName = true
			}
		}
		if len(stack) == 0 {
			break
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ErrJSONTrailing
	}
	return nil
}

// foldName maps a member name to one representative of its case-folding class: two names
// fold alike exactly when strings.EqualFold (encoding/json's matching) holds for them.
func foldName(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

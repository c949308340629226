package oauth2

import (
	"encoding/json"
	"testing"
)

// AppendString writes what encoding/json writes (without HTML escaping) for any string,
// including quotes, control characters, invalid UTF-8 and the JavaScript line separators,
// and the result decodes back.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "nl\nret\rtab\t", "\x00\x01\b\f\x1f\x7f",
		"é ü 日本 🙂", "bad\xffutf8\xc3", "sep\u2028par\u2029", "api://tenant-a/.default openid", "<&>"} {
		want, err := marshalNoHTML(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(AppendString(nil, s)); got != want {
			t.Errorf("AppendString(%q) = %s, encoding/json %s", s, got, want)
		}
	}
}

func TestAppendMembers(t *testing.T) {
	t.Parallel()
	b := append([]byte{}, '{')
	b = AppendMember(b, "a", "x\"y")
	b = AppendInt(b, "n", -42)
	b = AppendJoined(b, "s", []string{"openid", `q"uote`})
	b = AppendJoined(b, "e", nil)
	b = append(b, '}')
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["a"] != `x"y` || m["n"] != float64(-42) || m["s"] != `openid q"uote` || m["e"] != "" {
		t.Fatalf("%s: %v %v", b, m, err)
	}
}

func marshalNoHTML(s string) (string, error) {
	var buf []byte
	w := &appender{&buf}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return string(buf[:len(buf)-1]), nil // Encode ends with a newline
}

type appender struct{ b *[]byte }

func (a *appender) Write(p []byte) (int, error) { *a.b = append(*a.b, p...); return len(p), nil }

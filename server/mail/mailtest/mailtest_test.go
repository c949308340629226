package mailtest

import "testing"

func TestCode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Your code is 12345678.":             "12345678",
		"ref 123456789 then 87654321":        "87654321",
		"1234567 and 12345678x":              "12345678",
		"87654321":                           "87654321",
		"no code here, only 1234 and 123456": "",
	} {
		if got := Code(in); got != want {
			t.Errorf("Code(%q) = %q, want %q", in, got, want)
		}
	}
}

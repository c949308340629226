package main

import (
	"strings"
	"testing"
)

func TestNewSecret(t *testing.T) {
	t.Parallel()
	s := newSecret()
	if len(s) != 48 || !strings.HasPrefix(s, "twid_") || strings.Trim(s[5:], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
		t.Errorf("bad secret %q", s)
	}
}

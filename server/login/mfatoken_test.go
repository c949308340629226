package login

import (
	"slices"
	"testing"
)

// TestWithMFA: the second step's methods join the first's once each, mfa last, and the
// caller's slice of added methods is left as it was.
func TestWithMFA(t *testing.T) {
	t.Parallel()
	if got := WithMFA([]string{AMRPassword, AMROTP}, AMROTP); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("WithMFA(pwd otp, otp) = %v", got)
	}
	added := make([]string, 2, 3)
	added[0], added[1] = "hwk", "hwk"
	if got := WithMFA([]string{AMRPassword}, added...); !slices.Equal(got, []string{"pwd", "hwk", "mfa"}) {
		t.Errorf("WithMFA(pwd, hwk hwk) = %v", got)
	}
	if spare := added[:3][2]; spare != "" {
		t.Errorf("WithMFA wrote %q into the spare room of its argument", spare)
	}
}

package login

import (
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/twinid/twinid/store"
)

// TestTOTPVectors checks HOTP against RFC 4226 Appendix D and TOTP against RFC 6238
// Appendix B (SHA-1, 8 digits there; the 6-digit code is its last 6 digits).
func TestTOTPVectors(t *testing.T) {
	t.Parallel()
	secret := []byte("12345678901234567890")
	hotp := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, want := range hotp {
		if got := HOTP(secret, int64(i), 6); got != want {
			t.Errorf("HOTP(%d) = %s, want %s", i, got, want)
		}
	}
	for _, v := range []struct {
		unix int64
		want string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"},
		{2000000000, "69279037"}, {20000000000, "65353130"}} {
		step := TOTPStep(time.Unix(v.unix, 0))
		if got := HOTP(secret, step, 8); got != v.want {
			t.Errorf("TOTP 8 digits at %d = %s, want %s", v.unix, got, v.want)
		}
		if got := TOTP(secret, step); got != v.want[2:] {
			t.Errorf("TOTP at %d = %s, want %s", v.unix, got, v.want[2:])
		}
	}
	// The step changes every 30 seconds, on the boundary.
	if TOTPStep(time.Unix(29, 999)) != 0 || TOTPStep(time.Unix(30, 0)) != 1 {
		t.Error("30-second steps from the epoch")
	}
}

func TestOTPAuthURI(t *testing.T) {
	t.Parallel()
	secret, _ := hex.DecodeString("3132333435363738393031323334353637383930")
	u, err := url.Parse(OTPAuthURI("twinid root", "ada@example.com", secret))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/twinid root:ada@example.com" ||
		q.Get("secret") != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" || q.Get("issuer") != "twinid root" ||
		q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Errorf("otpauth URI %s", u)
	}
}

// TestPolicyOnlyTightens: a client's override may raise the account's mfa setting, never
// lower it; an empty override keeps it, and the account's default is optional.
func TestPolicyOnlyTightens(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ acct, client, want string }{
		{"", "", MFAOptional}, {MFAOff, "", MFAOff}, {MFAOff, MFARequired, MFARequired},
		{MFARequired, MFAOff, MFARequired}, {MFAOptional, MFAOff, MFAOptional}, {"", MFARequired, MFARequired},
	} {
		if got := Policy(&store.Account{Settings: store.AccountSettings{MFA: c.acct}}, c.client); got != c.want {
			t.Errorf("Policy(account %q, client %q) = %q, want %q", c.acct, c.client, got, c.want)
		}
	}
}

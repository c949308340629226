package login

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"time"
)

// TOTP parameters (RFC 6238 §4): 30-second steps from the Unix epoch, 6 digits, HMAC-SHA-1,
// which every authenticator app supports.
const (
	TOTPPeriod = 30
	TOTPDigits = 6
	// totpSkew is how many steps before and after the current one are accepted, for a phone
	// whose clock is off by up to 30 seconds (RFC 6238 §5.2).
	totpSkew = 1
)

// totpSecretLen is the secret's length: 160 bits, the length of an HMAC-SHA-1 output (RFC
// 4226 §4 R6).
const totpSecretLen = 20

// TOTPStep is the time step of t (RFC 6238 §4.2: T = floor((t - T0) / X)).
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// HOTP is RFC 4226 §5.3's value of counter under secret, with digits digits.
func HOTP(secret []byte, counter int64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, code%mod)
}

// TOTP is the 6-digit code of secret at time step step.
func TOTP(secret []byte, step int64) string { return HOTP(secret, step, TOTPDigits) }

// b32 is the secret's text form in otpauth URIs and for typing in: base32 without padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// newTOTPSecret draws a secret from crypto/rand.
func newTOTPSecret() ([]byte, error) {
	s := make([]byte, totpSecretLen)
	_, err := rand.Read(s)
	return s, err
}

// OTPAuthURI is the key URI an authenticator app reads from the QR code (the otpauth:// form
// of Google Authenticator's key URI format): issuer and account label, the base32 secret
// and the parameters above.
func OTPAuthURI(issuer, label string, secret []byte) string {
	q := url.Values{}
	q.Set("secret", b32.EncodeToString(secret))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(TOTPDigits))
	q.Set("period", fmt.Sprint(TOTPPeriod))
	return (&url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + label, RawQuery: q.Encode()}).String()
}

package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Tokens the signer serializes itself verify with jwx and carry the headers jwx would set:
// alg, kid, and typ at+jwt for access tokens, JWT for ID tokens. ES256 runs many times, so
// R or S with leading zero bytes (1 in 128 signatures) is met.
func TestSignerTokensVerifyWithJWX(t *testing.T) {
	t.Parallel()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		alg  string
		key  crypto.Signer
		jwa  jwa.SignatureAlgorithm
		runs int
	}{{"ES256", ec, jwa.ES256(), 1000}, {"RS256", rs, jwa.RS256(), 5}} {
		sg, err := newSigner("kid-"+c.alg, c.alg, c.key)
		if err != nil {
			t.Fatal(err)
		}
		payload := []byte(`{"iss":"https://id.example.com/v1/accounts/acme","sub":"sa_1"}`)
		for i := range c.runs {
			sign, typ := sg.Sign, "at+jwt"
			if i%2 == 1 {
				sign, typ = sg.SignID, "JWT"
			}
			tok, err := sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			got, err := jws.Verify([]byte(tok), jws.WithKey(c.jwa, c.key.Public()))
			if err != nil || string(got) != string(payload) {
				t.Fatalf("%s token %s does not verify: %v", c.alg, tok, err)
			}
			msg, err := jws.Parse([]byte(tok))
			if err != nil {
				t.Fatal(err)
			}
			h := msg.Signatures()[0].ProtectedHeaders()
			alg, _ := h.Algorithm()
			kid, _ := h.KeyID()
			ty, _ := h.Type()
			if alg.String() != c.alg || kid != "kid-"+c.alg || ty != typ {
				t.Fatalf("headers alg %v kid %q typ %q", alg, kid, ty)
			}
		}
	}
	if _, err := newSigner("k", "RS256", ec); err == nil {
		t.Fatal("an EC key was accepted for RS256")
	}
	if _, err := newSigner("k", "ES256", rs); err == nil {
		t.Fatal("an RSA key was accepted for ES256")
	}
}

// fixedRS pads short integers, drops DER's sign byte and refuses what is not a signature.
func TestFixedRS(t *testing.T) {
	t.Parallel()
	// R = 0x01 (short), S = 0x00 0xff… (sign byte, then 32 bytes).
	s := append([]byte{0x00}, make([]byte, 32)...)
	s[1] = 0xff
	der := append([]byte{0x30, byte(3 + 2 + len(s)), 0x02, 0x01, 0x01, 0x02, byte(len(s))}, s...)
	out := make([]byte, 64)
	if err := fixedRS(der, out); err != nil {
		t.Fatal(err)
	}
	if out[31] != 0x01 || out[0] != 0 || out[32] != 0xff || out[63] != 0 {
		t.Fatalf("R|S = %x", out)
	}
	for _, bad := range [][]byte{nil, {0x30}, {0x31, 0x00}, append(der[:len(der)-1:len(der)-1], 0x00, 0x00),
		{0x30, 0x03, 0x02, 0x01, 0x01}, {0x30, 0x06, 0x02, 0x01, 0x01, 0x03, 0x01, 0x01}} {
		if err := fixedRS(bad, out); err == nil {
			t.Errorf("accepted %x", bad)
		}
	}
	long := append([]byte{0x30, 0x26, 0x02, 0x21}, make([]byte, 33)...)
	long[4] = 0x01 // 33 significant bytes
	long = append(long, 0x02, 0x01, 0x01)
	if err := fixedRS(long, out); err == nil {
		t.Error("accepted a 33-byte R")
	}
}

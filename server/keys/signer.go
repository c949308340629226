package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Signer is an account's active key, ready to sign. It serializes JWS compact tokens
// (RFC 7515 §7.1) itself: the protected headers of its two token types are encoded once,
// when the key is opened, and each token costs one hash, one signature and the base64 of
// payload and signature. jwx verifies them like any other JWS.
type Signer struct {
	kid string
	alg string
	key crypto.Signer
	// sigLen is the length of a signature: RFC 7518 §3.4 (ES256: R and S, 32 bytes each),
	// §3.3 (RS256: the modulus's).
	sigLen int
	// atHeader and idHeader are the base64url protected headers of access tokens (typ
	// at+jwt, RFC 9068 §2.1) and of ID tokens (typ JWT).
	atHeader, idHeader []byte
}

// es256Size is the byte length of each of R and S in an ES256 signature.
const es256Size = 32

// newSigner returns the signer of key, whose alg is RS256 or ES256.
func newSigner(kid, alg string, key crypto.Signer) (*Signer, error) {
	sg := &Signer{kid: kid, alg: alg, key: key}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if alg != "ES256" || k.Curve.Params().BitSize != 256 {
			return nil, fmt.Errorf("signing key %s: an EC key cannot sign %s", kid, alg)
		}
		sg.sigLen = 2 * es256Size
	case *rsa.PrivateKey:
		if alg != "RS256" {
			return nil, fmt.Errorf("signing key %s: an RSA key cannot sign %s", kid, alg)
		}
		sg.sigLen = k.Size()
	default:
		return nil, fmt.Errorf("signing key %s: unsupported key type %T", kid, key)
	}
	header := func(typ string) ([]byte, error) {
		h, err := json.Marshal(struct {
			Alg string `json:"alg"`
			Kid string `json:"kid"`
			Typ string `json:"typ"`
		}{alg, kid, typ})
		return base64.RawURLEncoding.AppendEncode(nil, h), err
	}
	var err error
	if sg.atHeader, err = header("at+jwt"); err != nil {
		return nil, err
	}
	if sg.idHeader, err = header("JWT"); err != nil {
		return nil, err
	}
	return sg, nil
}

// Sign signs an access token payload (typ at+jwt) and returns the compact JWS.
func (sg *Signer) Sign(payload []byte) (string, error) { return sg.sign(sg.atHeader, payload) }

// SignID signs an ID token payload (typ JWT) and returns the compact JWS.
func (sg *Signer) SignID(payload []byte) (string, error) { return sg.sign(sg.idHeader, payload) }

// Alg is the signer's algorithm name (RS256, ES256).
func (sg *Signer) Alg() string { return sg.alg }

// sign builds header.payload.signature in one buffer sized up front.
func (sg *Signer) sign(header, payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(header)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(sg.sigLen))
	buf = append(buf, header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	digest := sha256.Sum256(buf)
	buf = append(buf, '.')
	var err error
	switch k := sg.key.(type) {
	case *ecdsa.PrivateKey:
		var der []byte
		if der, err = ecdsa.SignASN1(rand.Reader, k, digest[:]); err == nil {
			var raw [2 * es256Size]byte
			if err = fixedRS(der, raw[:]); err == nil {
				buf = enc.AppendEncode(buf, raw[:])
			}
		}
	case *rsa.PrivateKey:
		var sig []byte
		if sig, err = rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest[:]); err == nil {
			buf = enc.AppendEncode(buf, sig)
		}
	}
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", sg.kid, err)
	}
	return string(buf), nil
}

// errMalformedSignature is made once: fixedRS runs for every ES256 token.
var errMalformedSignature = errors.New("malformed ECDSA signature")

// fixedRS turns an ECDSA signature in ASN.1 DER (SEQUENCE of the INTEGERs R and S, as
// crypto/ecdsa returns it) into R and S as fixed-size big-endian numbers, R then S, as JWS
// wants them (RFC 7518 §3.4). out is 2×es256Size bytes.
func fixedRS(der, out []byte) error {
	bad := errMalformedSignature
	if len(der) < 2 || der[0] != 0x30 || int(der[1]) != len(der)-2 || der[1] >= 0x80 {
		return bad
	}
	rest := der[2:]
	for i := range 2 {
		if len(rest) < 2 || rest[0] != 0x02 || int(rest[1]) > len(rest)-2 {
			return bad
		}
		n := rest[2 : 2+int(rest[1])]
		rest = rest[2+int(rest[1]):]
		for len(n) > 0 && n[0] == 0 {
			n = n[1:] // DER's sign byte
		}
		if len(n) > es256Size {
			return bad
		}
		copy(out[(i+1)*es256Size-len(n):(i+1)*es256Size], n)
	}
	if len(rest) != 0 {
		return bad
	}
	return nil
}

package server

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"

	"github.com/google/uuid"
)

// secretPrefix marks twinid secrets so that secret scanners can recognise leaked ones.
const secretPrefix = "twid_"

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newSecret returns "twid_" + 43 base62 characters from crypto/rand: 43·log2(62) ≈ 256 bits.
func newSecret() (string, error) {
	b := make([]byte, len(secretPrefix)+43)
	copy(b, secretPrefix)
	max := big.NewInt(int64(len(base62)))
	for i := len(secretPrefix); i < len(b); i++ {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = base62[n.Int64()]
	}
	return string(b), nil
}

// newID returns a time-ordered UUID (v7), so ids sort by creation for cursor pagination.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// newJTI returns 128 random bits, URL-safe.
func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// keyring holds the keys derived from the master key: one to hash client secrets and one to
// encrypt private signing keys at rest.
type keyring struct {
	secretMAC []byte
	// refreshKey derives a refresh token's successor from the token (see successorOf).
	refreshKey []byte
	aead       cipher.AEAD
}

func newKeyring(master []byte) (*keyring, error) {
	if len(master) != 32 {
		return nil, errors.New("master key must be 32 bytes")
	}
	mac, err := hkdf.Key(sha256.New, master, nil, "twinid client secret hash v1", 32)
	if err != nil {
		return nil, err
	}
	encKey, err := hkdf.Key(sha256.New, master, nil, "twinid signing key encryption v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	refresh, err := hkdf.Key(sha256.New, master, nil, "twinid refresh token successor v1", 32)
	if err != nil {
		return nil, err
	}
	return &keyring{secretMAC: mac, refreshKey: refresh, aead: aead}, nil
}

// hashSecret is a keyed hash (HMAC-SHA256). Secrets carry 256 random bits, so a slow
// password hash would add cost and no protection; the key keeps a stolen table useless.
func (k *keyring) hashSecret(secret string) []byte {
	m := hmac.New(sha256.New, k.secretMAC)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// matchSecret compares in constant time against every candidate, without stopping early.
func matchSecret(hash []byte, candidates [][]byte) int {
	found := -1
	for i, c := range candidates {
		if subtle.ConstantTimeCompare(hash, c) == 1 {
			found = i
		}
	}
	return found
}

// seal encrypts with AES-256-GCM; the additional data binds the ciphertext to its key id.
func (k *keyring) seal(plain []byte, ad string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, plain, []byte(ad)), nil
}

func (k *keyring) open(sealed []byte, ad string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed data too short")
	}
	return k.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
}

// sealJSON encrypts v's JSON for a browser to carry (a form field, a cookie): AES-GCM bound
// to ad, base64url.
func (k *keyring) sealJSON(v any, ad string) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sealed, err := k.seal(raw, ad)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openJSON reverses sealJSON; any tampering, or another ad, is an error.
func (k *keyring) openJSON(text, ad string, v any) error {
	sealed, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return err
	}
	raw, err := k.open(sealed, ad)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// newUUID4 returns a random UUID.
func newUUID4() string { return uuid.New().String() }

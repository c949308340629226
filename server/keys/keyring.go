package keys

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
	"hash"
	"io"
	"math/big"
	"sync"

	"github.com/google/uuid"
)

// SecretPrefix marks twinid secrets so that secret scanners can recognise leaked ones.
const SecretPrefix = "twid_"

// Base62 is the alphabet of secrets and refresh tokens.
const Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewSecret returns "twid_" + 43 base62 characters from crypto/rand: 43·log2(62) ≈ 256 bits.
func NewSecret() (string, error) {
	b := make([]byte, len(SecretPrefix)+43)
	copy(b, SecretPrefix)
	max := big.NewInt(int64(len(Base62)))
	for i := len(SecretPrefix); i < len(b); i++ {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = Base62[n.Int64()]
	}
	return string(b), nil
}

// NewID returns a time-ordered UUID (v7), so ids sort by creation for cursor pagination.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// NewJTI returns 128 random bits, URL-safe.
func NewJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Keyring holds the keys derived from the master key: one to hash client secrets and one to
// encrypt private signing keys at rest.
type Keyring struct {
	secretMAC []byte
	// refreshKey derives a refresh token's successor from the token (see RefreshMAC).
	refreshKey []byte
	// cursorKey authenticates the cursors of the management API's pages (see CursorMAC).
	cursorKey []byte
	aead      cipher.AEAD
	// macs are HMAC states keyed with secretMAC, reused: every client authentication hashes.
	macs sync.Pool
}

// NewKeyring derives the keys from the 32-byte master key.
func NewKeyring(master []byte) (*Keyring, error) {
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
	cursor, err := hkdf.Key(sha256.New, master, nil, "twinid page cursor v1", 32)
	if err != nil {
		return nil, err
	}
	k := &Keyring{secretMAC: mac, refreshKey: refresh, cursorKey: cursor, aead: aead}
	k.macs.New = func() any { return hmac.New(sha256.New, k.secretMAC) }
	return k, nil
}

// HashSecret is a keyed hash (HMAC-SHA256). Secrets carry 256 random bits, so a slow
// password hash would add cost and no protection; the key keeps a stolen table useless.
func (k *Keyring) HashSecret(secret string) []byte {
	m := k.macs.Get().(hash.Hash)
	defer k.macs.Put(m)
	m.Reset()
	_, _ = io.WriteString(m, secret)
	return m.Sum(make([]byte, 0, sha256.Size))
}

// MatchSecret compares in constant time against every candidate, without stopping early.
func MatchSecret(hash []byte, candidates [][]byte) int {
	found := -1
	for i, c := range candidates {
		if subtle.ConstantTimeCompare(hash, c) == 1 {
			found = i
		}
	}
	return found
}

// Seal encrypts with AES-256-GCM; the additional data binds the ciphertext to its key id.
func (k *Keyring) Seal(plain []byte, ad string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, plain, []byte(ad)), nil
}

// Open decrypts what Seal sealed with the same additional data.
func (k *Keyring) Open(sealed []byte, ad string) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed data too short")
	}
	return k.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
}

// SealJSON encrypts v's JSON for a browser to carry (a form field, a cookie): AES-GCM bound
// to ad, base64url.
func (k *Keyring) SealJSON(v any, ad string) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sealed, err := k.Seal(raw, ad)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// OpenJSON reverses SealJSON; any tampering, or another ad, is an error.
func (k *Keyring) OpenJSON(text, ad string, v any) error {
	sealed, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return err
	}
	raw, err := k.Open(sealed, ad)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// NewUUID4 returns a random UUID.
func NewUUID4() string { return uuid.New().String() }

// RefreshMAC is the keyed hash that derives a refresh token's successor from the token.
func (k *Keyring) RefreshMAC(value string) []byte { return hmacSHA256(k.refreshKey, value) }

// CursorMAC is the keyed hash that shows a page cursor was handed out by twinid.
func (k *Keyring) CursorMAC(value string) []byte { return hmacSHA256(k.cursorKey, value) }

// hmacSHA256 is HMAC-SHA256 of value under key.
func hmacSHA256(key []byte, value string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return m.Sum(nil)
}

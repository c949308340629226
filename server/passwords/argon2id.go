package passwords

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // memory in KiB
	Time    uint32 // number of passes
	Threads uint8  // degree of parallelism (lanes)
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// Default are the OWASP-recommended argon2id parameters: m=19 MiB, t=2, p=1,
// with a 16-byte salt and a 32-byte key.
var Default = Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters, both for Hash and for strings read back by Verify.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 100
	minSaltLen   = 8 // PHC string format minimum
	maxSaltLen   = 1024
	minKeyLen    = 4 // RFC 9106 minimum tag length
	maxKeyLen    = 1024
	maxPHCLen    = 4096 // far above what the bounds above allow
)

var (
	// ErrMalformedHash is returned (wrapped) by Verify when the stored string
	// is not a well-formed argon2id PHC string within the accepted bounds.
	ErrMalformedHash = errors.New("passwords: malformed argon2id hash")
	// ErrInvalidParams is returned (wrapped) by Hash for unusable parameters.
	ErrInvalidParams = errors.New("passwords: invalid argon2id parameters")
)

// limits bounds the parameters accepted from a stored PHC string.
type limits struct {
	maxMemory uint32 // KiB
	maxTime   uint32
}

var defaultLimits = limits{maxMemory: maxMemoryKiB, maxTime: maxTime}

// phc is a decoded argon2id PHC string.
type phc struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// b64 is unpadded standard base64, strict so that every hash has exactly one
// accepted encoding.
var b64 = base64.RawStdEncoding.Strict()

func (h phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.memory, h.time, h.threads,
		b64.EncodeToString(h.salt), b64.EncodeToString(h.key))
}

func (p Params) validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("%w: threads must be at least 1", ErrInvalidParams)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: time must be in [1, %d]", ErrInvalidParams, maxTime)
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("%w: memory must be in [8*threads, %d] KiB", ErrInvalidParams, maxMemoryKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("%w: salt length must be in [%d, %d]", ErrInvalidParams, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("%w: key length must be in [%d, %d]", ErrInvalidParams, minKeyLen, maxKeyLen)
	}
	return nil
}

// Hash derives an argon2id hash of password with a fresh random salt and
// returns it as a PHC string.
func Hash(password string, p Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("passwords: reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return phc{memory: p.Memory, time: p.Time, threads: p.Threads, salt: salt, key: key}.String(), nil
}

// Verify reports whether password matches the PHC string encoded, comparing
// in constant time. needsRehash is true when the password matched and the
// stored parameters are weaker than want (lower memory, time, threads, key
// length or salt length); the caller should then store a new Hash(password,
// want). A malformed or out-of-bounds string yields an error wrapping
// ErrMalformedHash; Verify never panics on bad input.
func Verify(password, encoded string, want Params) (ok bool, needsRehash bool, err error) {
	return verify(password, encoded, want, defaultLimits)
}

func verify(password, encoded string, want Params, lim limits) (ok bool, needsRehash bool, err error) {
	h, err := parsePHC(encoded, lim)
	if err != nil {
		return false, false, err
	}
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	if subtle.ConstantTimeCompare(key, h.key) != 1 {
		return false, false, nil
	}
	needsRehash = h.memory < want.Memory ||
		h.time < want.Time ||
		h.threads < want.Threads ||
		uint32(len(h.key)) < want.KeyLen ||
		uint32(len(h.salt)) < want.SaltLen
	return true, needsRehash, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformedHash}, args...)...)
}

// parsePHC decodes "$argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<key>". It is
// strict: parameters must appear in this order, numbers are canonical decimal
// and base64 is canonical, so a successfully parsed string re-encodes to
// itself.
func parsePHC(s string, lim limits) (phc, error) {
	var h phc
	if len(s) > maxPHCLen {
		return h, malformed("too long")
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return h, malformed("want 5 '$'-separated fields")
	}
	if parts[1] != "argon2id" {
		return h, malformed("unsupported algorithm %q", truncate(parts[1]))
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return h, malformed("missing version")
	}
	version, err := parseDecimal(v, 32)
	if err != nil || version != argon2.Version {
		return h, malformed("unsupported version")
	}

	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return h, malformed("want parameters m,t,p")
	}
	var vals [3]uint64
	for i, name := range [3]string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(fields[i], name)
		if !ok {
			return h, malformed("want parameters m,t,p in that order")
		}
		bits := 32
		if i == 2 {
			bits = 8
		}
		if vals[i], err = parseDecimal(num, bits); err != nil {
			return h, malformed("bad parameter %s", name[:1])
		}
	}
	h.memory, h.time, h.threads = uint32(vals[0]), uint32(vals[1]), uint8(vals[2])
	switch {
	case h.threads < 1:
		return h, malformed("p must be at least 1")
	case h.time < 1 || h.time > lim.maxTime:
		return h, malformed("t out of range [1, %d]", lim.maxTime)
	case h.memory < 8*uint32(h.threads) || h.memory > lim.maxMemory:
		return h, malformed("m out of range [8*p, %d]", lim.maxMemory)
	}

	if len(parts[4]) > b64.EncodedLen(maxSaltLen) || len(parts[5]) > b64.EncodedLen(maxKeyLen) {
		return h, malformed("salt or hash too long")
	}
	// encoding/base64 skips '\r' and '\n'; only accept the bare alphabet.
	if !isB64(parts[4]) || !isB64(parts[5]) {
		return h, malformed("bad base64 character")
	}
	if h.salt, err = b64.DecodeString(parts[4]); err != nil {
		return h, malformed("bad salt encoding")
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil {
		return h, malformed("bad hash encoding")
	}
	if len(h.salt) < minSaltLen {
		return h, malformed("salt shorter than %d bytes", minSaltLen)
	}
	if len(h.key) < minKeyLen {
		return h, malformed("hash shorter than %d bytes", minKeyLen)
	}
	return h, nil
}

// parseDecimal parses a canonical unsigned decimal: digits only, no sign, no
// leading zeros.
func parseDecimal(s string, bits int) (uint64, error) {
	if len(s) > 1 && s[0] == '0' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(s, 10, bits)
}

// isB64 reports whether s consists only of standard base64 alphabet characters.
func isB64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// truncate shortens untrusted input before it is put in an error message.
func truncate(s string) string {
	const max = 32
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

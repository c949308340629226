package passwords

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"
)

// fast are cheap parameters so that tests run quickly.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func mustHash(t testing.TB, password string, p Params) string {
	t.Helper()
	s, err := Hash(password, p)
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	return s
}

func TestHashVerifyRoundTrip(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "", "pässwörd ✓ 🔑", strings.Repeat("x", 1000)} {
		s := mustHash(t, pw, fast)
		ok, rehash, err := Verify(pw, s, fast)
		if err != nil || !ok || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want true, false, nil", pw, ok, rehash, err)
		}
	}
}

func TestHashVerifyDefault(t *testing.T) {
	s := mustHash(t, "correct horse battery staple", Default)
	if !strings.HasPrefix(s, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("Hash with Default = %q", s)
	}
	ok, rehash, err := Verify("correct horse battery staple", s, Default)
	if err != nil || !ok || rehash {
		t.Fatalf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, _, err = Verify("correct horse battery stapl", s, Default)
	if err != nil || ok {
		t.Fatalf("Verify(wrong) = %v, %v; want false, nil", ok, err)
	}
}

// Strings produced by the argon2 reference implementation's CLI, e.g.
// echo -n "password" | argon2 somesaltsomesalt -id -t 1 -k 19456 -p 2 -l 16 -e
var referenceVectors = []struct{ password, phc string }{
	{"correct horse battery staple", "$argon2id$v=19$m=64,t=2,p=1$dHdpbmlkLXNvbWVzYWx0$DjRtXPlFmTiTS7tYIDXTcRlv7W0xyp/HXLrnkCLd/+Q"},
	{"password", "$argon2id$v=19$m=19456,t=1,p=2$c29tZXNhbHRzb21lc2FsdA$MrkeQJnQV2AEAHxUebprYg"},
}

func TestVerifyReferenceVectors(t *testing.T) {
	for _, v := range referenceVectors {
		ok, _, err := Verify(v.password, v.phc, fast)
		if err != nil || !ok {
			t.Errorf("Verify(%q, %q) = %v, %v; want true, nil", v.password, v.phc, ok, err)
		}
		ok, _, err = Verify(v.password+"!", v.phc, fast)
		if err != nil || ok {
			t.Errorf("Verify(wrong, %q) = %v, %v; want false, nil", v.phc, ok, err)
		}
	}
}

func TestVerifyWrongPassword(t *testing.T) {
	s := mustHash(t, "hunter2hunter2", fast)
	for _, pw := range []string{"hunter2hunter3", "Hunter2hunter2", "hunter2hunter2 ", "", "hunter2"} {
		ok, rehash, err := Verify(pw, s, Default)
		if err != nil || ok || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want false, false, nil", pw, ok, rehash, err)
		}
	}
}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestHashFormat(t *testing.T) {
	p := Params{Memory: 128, Time: 3, Threads: 2, SaltLen: 24, KeyLen: 40}
	s := mustHash(t, "pw", p)
	m := phcRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("Hash = %q, not a PHC argon2id string", s)
	}
	if m[1] != "128" || m[2] != "3" || m[3] != "2" {
		t.Errorf("parameters = m=%s,t=%s,p=%s; want 128,3,2", m[1], m[2], m[3])
	}
	h, err := parsePHC(s, defaultLimits)
	if err != nil {
		t.Fatalf("parsePHC: %v", err)
	}
	if h.memory != 128 || h.time != 3 || h.threads != 2 || len(h.salt) != 24 || len(h.key) != 40 {
		t.Errorf("parsePHC = %+v", h)
	}
	if got := h.String(); got != s {
		t.Errorf("re-encoded = %q; want %q", got, s)
	}
	if s2 := mustHash(t, "pw", p); s2 == s {
		t.Errorf("two hashes of the same password are equal; salt not random")
	}
}

func TestHashInvalidParams(t *testing.T) {
	for _, p := range []Params{
		{},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 101, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		{Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 7, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 3},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 1025},
	} {
		if _, err := Hash("pw", p); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("Hash(%+v) error = %v; want ErrInvalidParams", p, err)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	stored := Params{Memory: 64, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}
	s := mustHash(t, "pw", stored)
	tests := []struct {
		name string
		want Params
		need bool
	}{
		{"same", stored, false},
		{"weaker wanted", Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, false},
		{"memory raised", Params{Memory: 128, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"time raised", Params{Memory: 64, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"threads raised", Params{Memory: 64, Time: 2, Threads: 4, SaltLen: 16, KeyLen: 32}, true},
		{"key length raised", Params{Memory: 64, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 64}, true},
		{"salt length raised", Params{Memory: 64, Time: 2, Threads: 2, SaltLen: 32, KeyLen: 32}, true},
		{"Default", Default, true},
	}
	for _, tt := range tests {
		ok, rehash, err := Verify("pw", s, tt.want)
		if err != nil || !ok || rehash != tt.need {
			t.Errorf("%s: Verify = %v, %v, %v; want true, %v, nil", tt.name, ok, rehash, err, tt.need)
		}
	}
	// A wrong password never asks for a rehash.
	if ok, rehash, err := Verify("wrong", s, Default); ok || rehash || err != nil {
		t.Errorf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
	}
}

const (
	goodSalt = "c29tZXNhbHRzb21lc2FsdA"                      // 16 bytes
	goodKey  = "MrkeQJnQV2AEAHxUebprYgMrkeQJnQV2AEAHxUebprY" // 32 bytes
)

var malformedHashes = []string{
	"",
	"$",
	"argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=64,t=1,p=1$" + goodSalt,
	"$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey + "$",
	"$argon2id$v=19$m=64,t=1,p=1$$" + goodKey,
	"$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$",
	"$argon2i$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2d$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", // bcrypt
	"$argon2id$v=16$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=019$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$m=64,t=1,p=1$" + goodSalt + "$" + goodKey, // no version
	"$argon2id$v=19$t=1,m=64,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=64,t=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=64,t=1,p=1,k=2$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=064,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=+64,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=-64,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=6_4,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=0x40,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=64,t=1,p=0$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=64,t=0,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=15,t=1,p=2$" + goodSalt + "$" + goodKey, // m < 8p
	"$argon2id$v=19$m=64,t=1,p=256$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=64,t=101,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=64,t=4294967295,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=1048577,t=1,p=1$" + goodSalt + "$" + goodKey, // > 1 GiB
	"$argon2id$v=19$m=4294967295,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=99999999999999999999,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "==$" + goodKey, // padded
	"$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey + "=",
	"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ*$" + goodKey,
	"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdB$" + goodKey, // non-canonical trailing bits
	"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbA$" + goodKey,             // 7-byte salt
	"$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$AAAA",             // 3-byte key
	"$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 2000) + "$" + goodKey,
	"$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + strings.Repeat("A", 5000),
	" $argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
	"$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey + "\n",
	"$ARGON2ID$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey,
}

func TestVerifyMalformed(t *testing.T) {
	// The well-formed base string must parse, or the cases below prove nothing.
	base := "$argon2id$v=19$m=64,t=1,p=1$" + goodSalt + "$" + goodKey
	if _, _, err := Verify("pw", base, fast); err != nil {
		t.Fatalf("Verify(base) error = %v", err)
	}
	for _, s := range malformedHashes {
		ok, rehash, err := Verify("pw", s, fast)
		if !errors.Is(err, ErrMalformedHash) || ok || rehash {
			t.Errorf("Verify(%.80q) = %v, %v, %v; want false, false, ErrMalformedHash", s, ok, rehash, err)
		}
	}
}

// fuzzLimits keep the fuzzer from spending seconds on each expensive but
// valid parameter set it discovers.
var fuzzLimits = limits{maxMemory: 256, maxTime: 3}

func FuzzVerify(f *testing.F) {
	f.Add("pw", mustHash(f, "pw", fast))
	f.Add("pw", mustHash(f, "other", Params{Memory: 32, Time: 2, Threads: 4, SaltLen: 8, KeyLen: 4}))
	f.Add("correct horse battery staple", referenceVectors[0].phc)
	for _, s := range malformedHashes {
		f.Add("pw", s)
	}
	f.Fuzz(func(t *testing.T, password, s string) {
		// Full bounds: parsing alone must be safe and self-consistent.
		h, err := parsePHC(s, defaultLimits)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parsePHC error %v does not wrap ErrMalformedHash", err)
			}
		} else if got := h.String(); got != s {
			t.Fatalf("parsePHC(%q) re-encodes to %q", s, got)
		}
		// Tight bounds: run the whole verification.
		ok, rehash, err := verify(password, s, fast, fuzzLimits)
		if err != nil && (ok || rehash) {
			t.Fatalf("verify returned ok=%v rehash=%v with error %v", ok, rehash, err)
		}
		if !ok && rehash {
			t.Fatalf("verify returned rehash without ok")
		}
	})
}

func TestCheck(t *testing.T) {
	tests := []struct {
		password string
		code     string // "" = accepted
	}{
		{"", CodeTooShort},
		{"abc", CodeTooShort},
		{"7chars!", CodeTooShort},
		{"ééééééé", CodeTooShort},                      // 7 runes, 14 bytes
		{"e\u0301e\u0301e\u0301e\u0301", CodeTooShort}, // 8 runes NFD, 4 after NFC
		{"correct horse battery staple", ""},
		{"Tr0ub4dor&3x", ""},
		{"ééééééééé", ""},
		{"密码安全性很重要的", ""},
		{"🔑🔑🔑🔑🔑🔑🔑🔑", ""},
		{strings.Repeat("a", 256), ""},
		{strings.Repeat("é", 256), ""},
		{strings.Repeat("e\u0301", 256), ""}, // 512 runes NFD, 256 after NFC
		{strings.Repeat("a", 257), CodeTooLong},
		{strings.Repeat("é", 257), CodeTooLong},
		{strings.Repeat("a", 1<<20), CodeTooLong},
		{"abcdefgh\x00", CodeInvalidCharacters},
		{"abc\x00defghij", CodeInvalidCharacters},
		{"abcdefgh\tij", CodeInvalidCharacters},
		{"abcdefgh\nij", CodeInvalidCharacters},
		{"abcdefgh\x7fij", CodeInvalidCharacters},
		{"abcdefgh\u0085ij", CodeInvalidCharacters}, // C1 control
		{"abcdefgh\xffij", CodeInvalidCharacters},   // invalid UTF-8
		{"\x00", CodeInvalidCharacters},
		{"password", CodeTooCommon},
		{"PASSWORD", CodeTooCommon},
		{"PassWord1", CodeTooCommon},
		{"password1", CodeTooCommon},
		{"12345678", CodeTooCommon},
		{"123456789", CodeTooCommon},
		{"qwertyuiop", CodeTooCommon},
		{"QwertyUIOP", CodeTooCommon},
		{"iloveyou", CodeTooCommon},
		{"ILoveYou", CodeTooCommon},
		{"trustno1", CodeTooCommon},
		{"1qaz2wsx", CodeTooCommon},
	}
	for _, tt := range tests {
		err := Check(tt.password)
		if tt.code == "" {
			if err != nil {
				t.Errorf("Check(%.40q) = %v; want nil", tt.password, err)
			}
			continue
		}
		var pe *PolicyError
		if !errors.As(err, &pe) {
			t.Errorf("Check(%.40q) = %v; want *PolicyError %s", tt.password, err, tt.code)
			continue
		}
		if pe.Code != tt.code || pe.Message == "" || pe.Error() != pe.Message {
			t.Errorf("Check(%.40q) = %+v; want code %s", tt.password, pe, tt.code)
		}
	}
}

func TestCommonPasswordList(t *testing.T) {
	first, _, _ := strings.Cut(commonPasswordsText, "\n")
	if !strings.HasPrefix(first, "# source: ") {
		t.Errorf("first line = %q; want a '# source: ' comment", first)
	}
	m := commonPasswords()
	if len(m) < 10000 {
		t.Errorf("list has %d entries; want at least 10000", len(m))
	}
	for pw := range m {
		if pw != strings.ToLower(pw) || utf8.RuneCountInString(pw) < MinLength || strings.HasPrefix(pw, "#") {
			t.Errorf("unexpected list entry %q", pw)
		}
	}
	for _, pw := range []string{"password", "password1", "12345678", "qwertyuiop", "iloveyou"} {
		if _, ok := m[pw]; !ok {
			t.Errorf("%q missing from the common password list", pw)
		}
	}
}

// blockingPool returns a pool whose workers block in onRun until release is
// closed, and a function reporting the peak number of concurrent runs.
func blockingPool(workers, queue int, maxWait time.Duration) (p *Pool, release chan struct{}, peak func() int64) {
	p = NewPool(workers, queue, maxWait, fast)
	release = make(chan struct{})
	var cur, hi atomic.Int64
	p.onRun = func() {
		n := cur.Add(1)
		for {
			old := hi.Load()
			if n <= old || hi.CompareAndSwap(old, n) {
				break
			}
		}
		<-release
		cur.Add(-1)
	}
	return p, release, hi.Load
}

func waitStats(t *testing.T, p *Pool, running, waiting int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, w := p.Stats()
		if r == running && w == waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Stats() = %d, %d; want %d, %d", r, w, running, waiting)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPoolBoundsConcurrency(t *testing.T) {
	const callers = 20
	p, release, peak := blockingPool(2, 2, 10*time.Second)
	phc := mustHash(t, "pw", fast)

	type result struct {
		err     error
		elapsed time.Duration
	}
	results := make(chan result, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			start := time.Now()
			var err error
			if i%2 == 0 {
				_, err = p.Hash(t.Context(), "pw")
			} else {
				var ok bool
				ok, _, err = p.Verify(t.Context(), "pw", phc)
				if err == nil && !ok {
					err = errors.New("Verify returned false")
				}
			}
			results <- result{err, time.Since(start)}
		})
	}

	// 2 run (blocked in onRun), 2 wait, the other 16 are refused at once.
	busy := 0
	for busy < callers-4 {
		r := <-results
		if !errors.Is(r.err, ErrBusy) {
			t.Fatalf("early result error = %v; want ErrBusy", r.err)
		}
		if r.elapsed > time.Second {
			t.Errorf("ErrBusy after %v; want immediate", r.elapsed)
		}
		busy++
	}
	waitStats(t, p, 2, 2)
	// Stats counts a caller as running once admitted, a moment before it reaches the hash:
	// let both running callers get there before releasing them.
	for deadline := time.Now().Add(5 * time.Second); peak() < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			t.Errorf("admitted caller error = %v", r.err)
		}
	}
	if got := peak(); got != 2 {
		t.Errorf("peak concurrency = %d; want 2", got)
	}
	if r, w := p.Stats(); r != 0 || w != 0 {
		t.Errorf("Stats() after completion = %d, %d; want 0, 0", r, w)
	}
}

func TestPoolMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, release, _ := blockingPool(1, 1, 50*time.Millisecond)
		done := make(chan error)
		go func() {
			_, err := p.Hash(context.Background(), "pw")
			done <- err
		}()
		synctest.Wait() // the first caller holds the only worker
		start := time.Now()
		_, err := p.Hash(context.Background(), "pw")
		if !errors.Is(err, ErrBusy) {
			t.Errorf("queued Hash error = %v; want ErrBusy", err)
		}
		if waited := time.Since(start); waited != 50*time.Millisecond {
			t.Errorf("queued caller waited %v; want 50ms", waited)
		}
		close(release)
		if err := <-done; err != nil {
			t.Errorf("first Hash error = %v", err)
		}
	})
}

func TestPoolNoQueue(t *testing.T) {
	p, release, _ := blockingPool(1, 0, time.Hour)
	done := make(chan error)
	go func() {
		_, err := p.Hash(t.Context(), "pw")
		done <- err
	}()
	waitStats(t, p, 1, 0)
	if _, err := p.Hash(t.Context(), "pw"); !errors.Is(err, ErrBusy) {
		t.Errorf("Hash with full pool and no queue = %v; want ErrBusy", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("first Hash error = %v", err)
	}
}

func TestPoolContextCancel(t *testing.T) {
	p, release, _ := blockingPool(1, 1, time.Hour)

	// Already-cancelled context: refused without touching the pool.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash(cancelled ctx) = %v; want context.Canceled", err)
	}

	done := make(chan error)
	go func() {
		_, err := p.Hash(t.Context(), "pw")
		done <- err
	}()
	waitStats(t, p, 1, 0)

	// A queued caller whose context ends gives up with ctx.Err().
	ctx, cancel = context.WithCancel(t.Context())
	stored := mustHash(t, "pw", fast)
	queued := make(chan error)
	go func() {
		_, _, err := p.Verify(ctx, "pw", stored)
		queued <- err
	}()
	waitStats(t, p, 1, 1)
	cancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Errorf("queued Verify after cancel = %v; want context.Canceled", err)
	}
	waitStats(t, p, 1, 0)

	tctx, tcancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer tcancel()
	if _, err := p.VerifyDummy(tctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued VerifyDummy past deadline = %v; want context.DeadlineExceeded", err)
	}

	close(release)
	if err := <-done; err != nil {
		t.Errorf("first Hash error = %v", err)
	}
}

func TestPoolVerifyDummy(t *testing.T) {
	p := NewPool(0, 4, time.Second, fast)
	for _, pw := range []string{"", "pw", "correct horse battery staple"} {
		ok, err := p.VerifyDummy(t.Context(), pw)
		if ok || err != nil {
			t.Errorf("VerifyDummy(%q) = %v, %v; want false, nil", pw, ok, err)
		}
	}
	// The dummy hash costs the same as a hash made with the pool's params.
	h, err := parsePHC(p.dummy, defaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if h.memory != fast.Memory || h.time != fast.Time || h.threads != fast.Threads ||
		len(h.salt) != int(fast.SaltLen) || len(h.key) != int(fast.KeyLen) {
		t.Errorf("dummy hash %q does not use the pool's parameters", p.dummy)
	}
}

func TestPoolHashVerify(t *testing.T) {
	p := NewPool(2, 2, time.Second, fast)
	s, err := p.Hash(t.Context(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := p.Verify(t.Context(), "correct horse battery staple", s)
	if !ok || rehash || err != nil {
		t.Errorf("Pool.Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	ok, _, err = p.Verify(t.Context(), "wrong", s)
	if ok || err != nil {
		t.Errorf("Pool.Verify(wrong) = %v, %v; want false, nil", ok, err)
	}
	if _, _, err := p.Verify(t.Context(), "pw", "garbage"); !errors.Is(err, ErrMalformedHash) {
		t.Errorf("Pool.Verify(garbage) error = %v; want ErrMalformedHash", err)
	}
	// Stored with weaker parameters than the pool's: rehash requested.
	weak := mustHash(t, "pw", Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if ok, rehash, err := p.Verify(t.Context(), "pw", weak); !ok || !rehash || err != nil {
		t.Errorf("Pool.Verify(weak) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestNewPoolInvalidParamsPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewPool with invalid Params did not panic")
		}
	}()
	NewPool(1, 1, time.Second, Params{})
}

func BenchmarkHashDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple", Default); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	s := mustHash(b, "correct horse battery staple", Default)
	for b.Loop() {
		if ok, _, err := Verify("correct horse battery staple", s, Default); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// A held slot counts against the pool's bound, and hashing on it does not wait again.
func TestPoolSlotHoldsAWorker(t *testing.T) {
	t.Parallel()
	p := NewPool(1, 0, 0, fast)
	phc := mustHash(t, "pw", fast)
	s, err := p.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Acquire(t.Context()); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Acquire with the only worker held: %v; want ErrBusy", err)
	}
	if ok, _, err := s.Verify("pw", phc); !ok || err != nil {
		t.Fatalf("Verify on the slot: %v %v", ok, err)
	}
	s.VerifyDummy("pw")
	s.Release()
	s.Release() // a second Release must not free a slot someone else holds
	s2, err := p.Acquire(t.Context())
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	if _, err := p.Acquire(t.Context()); !errors.Is(err, ErrBusy) {
		t.Fatalf("a double Release freed an extra slot: %v", err)
	}
	s2.Release()
}

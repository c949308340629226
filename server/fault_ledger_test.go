package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinid/twinid/server"
)

// faultPhase is where the fault suite is: which of its own servers is down.
type faultPhase int32

const (
	phaseNormal faultPhase = iota
	phasePostgresDown
	phasePostgresBack
	phaseRedisDown
	phaseRedisBack
)

func (p faultPhase) String() string {
	return [...]string{"normal", "postgres down", "postgres back", "redis down", "redis back"}[p]
}

// faultLedger is what a client under load saw: the writes acknowledged to it, the refresh
// families whose last answer it lost, and every answer the documented behaviour rules out.
type faultLedger struct {
	mu        sync.Mutex
	customers []string       // ids of acknowledged creates
	lost      []string       // refresh families whose rotation answer was lost
	current   map[int]string // the refresh token each worker holds
	bad       []string       // answers that break the rules
	failedAt  map[faultPhase][]time.Time
	served    map[faultPhase]int // 2xx answers per phase
	impatient int                // refreshes whose client gave up
}

func (l *faultLedger) note(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f()
}

// TestFaultLedger runs a bounded load (three clients creating customers, rotating refresh
// tokens and getting client_credentials tokens) against a twinid on a private Postgres and
// a private redis-server, and stops each of them in turn. While Postgres is down every
// failed answer is a prompt 503 with Retry-After that names nothing of the database; within
// 5 s of Postgres being back the service answers again; while Redis is down nothing fails.
// Afterwards every acknowledged create is stored, every acknowledged rotation's token
// works, and every refresh family whose answer was lost holds exactly one valid token: the
// old one (the rotation did not happen) or the new one (it did), never both or neither.
func TestFaultLedger(t *testing.T) {
	t.Parallel()
	pgp := startPrivatePostgres(t)
	rd := startPrivateRedis(t)
	e := startEnv(t, pgp.url(), rd.url(), server.BootstrapOptions{})
	// A rate limit the load stays under, so that every refusal is the outage's.
	sh := e.newShop(map[string]any{"tokenRateLimit": map[string]any{"perMinute": 1000000, "burst": 100000}})
	ct := sh.clientToken()
	client := checkedClient(t)
	client.Timeout = 15 * time.Second

	var phase atomic.Int32
	led := &faultLedger{current: map[int]string{}, failedAt: map[faultPhase][]time.Time{}, served: map[faultPhase]int{}}
	leaks := []string{strconv.Itoa(pgp.port), strconv.Itoa(rd.port), "127.0.0.1", "sqlstate", "dial", "redis:"}
	post := func(path, token, ctype, body string, basic ...string) (int, []byte, error) {
		req, _ := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if len(basic) == 2 {
			req.SetBasicAuth(basic[0], basic[1])
		} else {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		p := faultPhase(phase.Load())
		switch {
		case res.StatusCode < 300:
			led.note(func() { led.served[p]++ })
		case res.StatusCode == http.StatusServiceUnavailable && (p == phasePostgresDown || p == phasePostgresBack):
			led.note(func() { led.failedAt[p] = append(led.failedAt[p], time.Now()) })
			if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
				led.note(func() { led.bad = append(led.bad, fmt.Sprintf("%s: %s 503 without Retry-After", p, path)) })
			}
			if took := time.Since(start); took > 7*time.Second {
				led.note(func() { led.bad = append(led.bad, fmt.Sprintf("%s: %s 503 after %s", p, path, took)) })
			}
			for _, l := range leaks {
				if bytes.Contains(bytes.ToLower(b), []byte(l)) {
					led.note(func() { led.bad = append(led.bad, fmt.Sprintf("%s: %s 503 body carries %q: %s", p, path, l, b)) })
				}
			}
		default:
			led.note(func() {
				led.bad = append(led.bad, fmt.Sprintf("%s: %s answered %d: %s", p, path, res.StatusCode, b))
			})
		}
		return res.StatusCode, b, nil
	}
	lostAnswer := func(w int, what string, err error) {
		if err != nil {
			led.note(func() {
				led.bad = append(led.bad, fmt.Sprintf("%s: worker %d: %s got no answer: %v", faultPhase(phase.Load()), w, what, err))
			})
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rt, fid string
			for i := 0; ; i++ {
				select {
				case <-stop:
					led.note(func() { led.current[w] = rt })
					return
				case <-time.After(5 * time.Millisecond):
				}
				// A customer: acknowledged or not, nothing in between.
				email := fmt.Sprintf("w%d-%d-%s@example.com", w, i, randHex(3))
				status, b, err := post(sh.base+"/customers/users", sh.admin, "application/json", `{"email":"`+email+`"}`)
				lostAnswer(w, "a create", err)
				if status == http.StatusCreated {
					var c struct{ CustomerID string }
					if json.Unmarshal(b, &c) == nil && c.CustomerID != "" {
						led.note(func() { led.customers = append(led.customers, c.CustomerID) })
					}
				}
				// A refresh family: log in when none is held, else rotate.
				if rt == "" {
					body := `{"email":"ada@example.com","password":"correct horse battery","type":"customer","audience":"` + apiAud + `"}`
					status, b, err = post(sh.base+"/customers/login", ct, "application/json", body)
					lostAnswer(w, "a login", err)
					if status == http.StatusOK {
						rt, fid = refreshAndFamily(b)
					}
				} else if i%4 == 3 {
					// A client that gives up after a few milliseconds: its answer is lost before
					// or after the rotation was stored, whichever the moment decides.
					status = impatientRefresh(e.url+sh.base+"/auth/token", ct, rt, time.Duration(1+i%8)*time.Millisecond)
					if status != http.StatusOK {
						lostFID := fid
						led.note(func() { led.lost = append(led.lost, lostFID); led.impatient++ })
						rt, fid = "", ""
					} else {
						rt = "" // its answer was not read: log in anew
					}
				} else {
					body := `{"grant_type":"refresh_token","refresh_token":"` + rt + `"}`
					status, b, err = post(sh.base+"/auth/token", ct, "application/json", body)
					lostAnswer(w, "a refresh", err)
					if status == http.StatusOK {
						rt, fid = refreshAndFamily(b)
					} else {
						// The answer is lost: this family goes to the ledger, the client logs in anew.
						lostFID := fid
						led.note(func() { led.lost = append(led.lost, lostFID) })
						rt, fid = "", ""
					}
				}
				// The rate limit lives in Redis, and falls back to the node's buckets.
				status, _, err = post(sh.base+"/auth/token", "", "application/x-www-form-urlencoded",
					"grant_type=client_credentials", sh.clientID, sh.secret)
				lostAnswer(w, "a client_credentials token", err)
				_ = status
			}
		}()
	}
	// ready waits until creates are acknowledged again, at most limit after since.
	ready := func(since time.Time, limit time.Duration) {
		t.Helper()
		for {
			r := e.do("GET", sh.base+"/customers/users/"+sh.customerID, sh.admin, nil)
			if r.status == http.StatusOK {
				t.Logf("answering again %s after the server came back", time.Since(since).Round(time.Millisecond))
				return
			}
			if time.Since(since) > limit {
				t.Errorf("still %d %s after the server came back %s ago", r.status, r.body, limit)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	time.Sleep(1500 * time.Millisecond)
	phase.Store(int32(phasePostgresDown))
	pgp.kill()
	time.Sleep(3 * time.Second)
	phase.Store(int32(phasePostgresBack))
	pgp.start()
	back := time.Now()
	ready(back, 5*time.Second)
	time.Sleep(1500 * time.Millisecond)
	phase.Store(int32(phaseRedisDown))
	rd.stop()
	time.Sleep(2 * time.Second)
	phase.Store(int32(phaseRedisBack))
	rd.start()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	led.mu.Lock()
	defer led.mu.Unlock()
	for _, b := range led.bad {
		t.Error(b)
	}
	t.Logf("answered 2xx per phase: %v; 503s while Postgres was down: %d; refresh answers lost: %d (%d of them by clients that gave up); customers acknowledged: %d",
		led.served, len(led.failedAt[phasePostgresDown]), len(led.lost), led.impatient, len(led.customers))
	if len(led.failedAt[phasePostgresDown]) == 0 {
		t.Error("no request failed while Postgres was down: the load did not reach the database")
	}
	for _, p := range []faultPhase{phaseNormal, phasePostgresBack, phaseRedisDown, phaseRedisBack} {
		if led.served[p] == 0 {
			t.Errorf("nothing was served while %s", p)
		}
	}
	for _, at := range led.failedAt[phasePostgresBack] {
		if at.Sub(back) > 5*time.Second {
			t.Errorf("a 503 %s after Postgres came back", at.Sub(back).Round(time.Millisecond))
		}
	}
	if len(led.lost) == 0 {
		t.Error("no refresh answer was lost: the ledger of lost rotations checked nothing")
	}

	// Every acknowledged create is stored.
	for i := 0; i < len(led.customers); i += 100 {
		chunk := led.customers[i:min(i+100, len(led.customers))]
		var n int64
		if err := e.st.DB().Table("customers").Where("id IN ?", chunk).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != int64(len(chunk)) {
			t.Errorf("%d of %d acknowledged customers are stored", n, len(chunk))
		}
	}
	// Every family whose rotation answer was lost holds exactly one valid token.
	for _, fid := range led.lost {
		var n int64
		err := e.st.DB().Table("refresh_tokens").Where("family_id = ? AND rotated_ms = 0 AND revoked_ms = 0", fid).Count(&n).Error
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("family %s, whose rotation answer was lost, holds %d valid refresh tokens, want exactly 1", fid, n)
		}
	}
	// The token of every acknowledged rotation works.
	for w, rt := range led.current {
		if rt == "" {
			continue
		}
		r := e.do("POST", sh.base+"/auth/token", ct, map[string]any{"grant_type": "refresh_token", "refresh_token": rt})
		if r.status != http.StatusOK {
			t.Errorf("worker %d: the refresh token of its last acknowledged rotation: %d %s", w, r.status, r.body)
		}
	}
}

// impatientRefresh sends a refresh and gives up after wait; it returns the status, or 0
// when the answer was not read in time.
func impatientRefresh(url, clientToken, rt string, wait time.Duration) int {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"grant_type":"refresh_token","refresh_token":"`+rt+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+clientToken)
	res, err := (&http.Client{Timeout: wait}).Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	if _, err := io.ReadAll(res.Body); err != nil {
		return 0
	}
	return res.StatusCode
}

// refreshAndFamily reads the refresh token of a token answer and the family id (fid) of
// its access token.
func refreshAndFamily(body []byte) (rt, fid string) {
	var a struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if json.Unmarshal(body, &a) != nil {
		return "", ""
	}
	parts := strings.Split(a.AccessToken, ".")
	if len(parts) != 3 {
		return "", ""
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		FID string `json:"fid"`
	}
	_ = json.Unmarshal(raw, &c)
	return a.RefreshToken, c.FID
}

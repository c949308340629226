package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/server/mail"
	"github.com/twinid/twinid/server/mail/mailtest"
)

// TestPasswordResetRevealsNothingByTime: a reset request for a customer's email and one for
// an unknown email answer the same, in the same time, even on a database slow enough to
// make every statement of the request path show (each answer held 250 ms); the code is
// still mailed, by a worker that outlives the request and that shutdown waits for.
func TestPasswordResetRevealsNothingByTime(t *testing.T) {
	t.Parallel()
	pgp := startPrivatePostgres(t)
	link := startSlowLink(t, "127.0.0.1:"+strconv.Itoa(pgp.port))
	e := startEnv(t, fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", link.addr), "", server.BootstrapOptions{})
	sh := e.newShop(nil)
	must(t, e.do("POST", sh.base+"/customers/users", sh.admin, map[string]any{"email": "bob@example.com", "password": "another good passphrase"}), 201)
	ct := sh.clientToken()
	// A node whose caches hold the account, the client and its token for the whole test:
	// what remains of a reset request's database work is the reset's own.
	node := e.nodeWith(func(c *server.Config) {
		c.CacheTTL = time.Minute
		mailer, err := mail.New(mail.Config{URL: e.smtp.URL()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Mailer = mailer
	})
	ask := func(email string) (resp, time.Duration) {
		t.Helper()
		start := time.Now()
		r := node.do("POST", sh.base+"/customers/change_password", ct, map[string]any{"email": email})
		return r, time.Since(start)
	}
	known, unknown := "ada@example.com", "nobody@example.com"
	ask(unknown)
	if r, _ := ask(known); r.status != http.StatusAccepted {
		t.Fatalf("change_password: %d %s", r.status, r.body)
	}
	if code := mailtest.Code(e.smtp.Wait(t, known, 10*time.Second).Text); code == "" {
		t.Fatal("no code mailed to the customer")
	}

	link.setDelay(250 * time.Millisecond)
	const samples = 5
	var tk, tu []time.Duration
	for range samples {
		a, da := ask(known)
		b, db := ask(unknown)
		tk, tu = append(tk, da), append(tu, db)
		if a.status != http.StatusAccepted || a.status != b.status || string(a.body) != string(b.body) {
			t.Fatalf("answers differ: %d %q / %d %q", a.status, a.body, b.status, b.body)
		}
		if ha, hb := headerNames(a.header), headerNames(b.header); !slices.Equal(ha, hb) {
			t.Fatalf("headers differ: %v / %v", ha, hb)
		}
	}
	mk, mu := median(tk), median(tu)
	t.Logf("median answer: known email %s, unknown email %s (%d samples each, 250 ms per database answer)", mk, mu, samples)
	// One database answer more on either side would be 250 ms.
	if d := mk - mu; d > 125*time.Millisecond || d < -125*time.Millisecond {
		t.Errorf("a known email answers in %s, an unknown one in %s: the time tells them apart", mk, mu)
	}
	if err := node.srv.FlushMail(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := e.smtp.Count(); n != 1 {
		t.Fatalf("%d mails; want the one code (the unknown email gets none, the repeats wait a minute)", n)
	}

	// Shutdown waits for a reset asked for just before it: the code reaches the mail server
	// before Close returns, although the database takes seconds to issue it.
	if r, _ := ask("bob@example.com"); r.status != http.StatusAccepted {
		t.Fatalf("change_password: %d %s", r.status, r.body)
	}
	node.srv.Close()
	if n := e.smtp.Count(); n != 2 {
		t.Fatalf("after Close: %d mails, want the code for bob too", n)
	}
}

// headerNames are the names of an answer's headers, without those that differ per answer.
func headerNames(h http.Header) []string {
	var names []string
	for k := range h {
		if k != "Date" && k != "X-Request-Id" {
			names = append(names, strings.ToLower(k))
		}
	}
	sort.Strings(names)
	return names
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

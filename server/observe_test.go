package server_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A stranger's method tokens and paths never become metric labels: methods outside the
// standard ones count as "other", and routes are the document's templates.
func TestMetricLabelsAreBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	admin := e.adminToken()
	tn := e.newTenant(admin, "acme", nil)
	must(t, e.do("GET", "/v1/accounts/acme/service-accounts/"+tn.saID, admin, nil), 200)
	for _, r := range []struct{ method, path string }{
		{"FROBNICATE", "/v1/accounts/acme/scopes"},
		{"GET", "/nowhere-3f9a1c/deeper"},
		{"GET", "/v1/nowhere-77ab10"},
		{"BREW", "/swagger/unknown-5d1e"},
	} {
		req, _ := http.NewRequest(r.method, e.url+r.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
	}
	body := string(e.do("GET", "/metrics", "", nil).body)
	for _, leak := range []string{"FROBNICATE", "BREW", "3f9a1c", "77ab10", "5d1e", tn.saID} {
		if strings.Contains(body, leak) {
			t.Errorf("metrics carry %q", leak)
		}
	}
	for _, want := range []string{
		`method="GET",route="/v1/accounts/:aid/service-accounts/:serviceAccountId",status="200"`,
		`method="other"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !regexp.MustCompile(`(?m)^twinid_build_info\{goversion="go[^"]+",revision="[^"]+",version="[^"]+"\} 1$`).MatchString(body) {
		t.Errorf("no twinid_build_info series:\n%s", grepLines(body, "build_info"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Each request's JSON log line names its duration in milliseconds, its account, the client
// it acted as, and the peer address.
func TestRequestLogLineNamesAccountClientAndPeer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	admin := e.adminToken()
	tn := e.newTenant(admin, "acme", nil)
	must(t, e.form("/v1/accounts/acme/auth/token", tn.clientID, tn.secret,
		url.Values{"grant_type": {"client_credentials"}, "scope": {tn.scope}}), 200)
	// A login client calls /customers/login with a client token, not a secret.
	sh := e.newShop(nil)
	must(t, sh.login(sh.clientToken(), "ada@example.com", "correct horse battery"), 200)
	lines := requestLines(t, e.logs.String())
	// The last line of each: the first token requests are the admin's own and acme's.
	find := func(method, route string) map[string]any {
		for i := len(lines) - 1; i >= 0; i-- {
			if l := lines[i]; l["method"] == method && l["route"] == route {
				return l
			}
		}
		t.Fatalf("no log line of %s %s", method, route)
		return nil
	}
	for _, c := range []struct{ method, route, account, client string }{
		{"POST", "/v1/accounts/:aid/service-accounts", "acme", e.adminID},
		{"POST", "/v1/accounts/:aid/customers/login", "shop", sh.clientID},
		{"POST", "/v1/accounts/:aid/auth/token", "shop", sh.clientID},
	} {
		l := find(c.method, c.route)
		if l["account"] != c.account || l["client"] != c.client {
			t.Errorf("%s %s: account %v client %v, want %s %s", c.method, c.route, l["account"], l["client"], c.account, c.client)
		}
		if ms, ok := l["duration_ms"].(float64); !ok || ms <= 0 {
			t.Errorf("%s %s: duration_ms %v", c.method, c.route, l["duration_ms"])
		}
		if p, _ := l["peer"].(string); !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("%s %s: peer %v", c.method, c.route, l["peer"])
		}
	}
}

func requestLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twinid/twinid/server/passwords"
)

// BenchmarkCustomerLogin measures the in-process cost of one successful customer login
// (POST .../customers/login: client token check, throttle, argon2id with the default
// parameters, a refresh family and an access token), interleaved with the raw baseline:
// passwords.Verify of the same password against the same kind of hash. x-raw-cpu is the
// issue's figure (goal ≤ 1.15); see interleaved for the others.
func BenchmarkCustomerLogin(b *testing.B) {
	e := benchEnv(&passwords.Default)
	sh := e.newShop(nil)
	tok := sh.clientToken()
	body := `{"email":"ada@example.com","password":"correct horse battery","type":"customer","audience":"` + apiAud + `"}`
	h := e.srv.Handler()
	hash, err := passwords.Hash("correct horse battery", passwords.Default)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.st.Customers().Get(context.Background(), "shop", sh.customerID); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	interleaved(b, 4, func() {
		req := httptest.NewRequest(http.MethodPost, sh.base+"/customers/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}, func() {
		if ok, _, err := passwords.Verify("correct horse battery", hash, passwords.Default); !ok || err != nil {
			b.Fatalf("raw verify: %v %v", ok, err)
		}
	})
}

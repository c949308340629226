package protocol

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twinid/twinid/gen"
)

// The appended answer is what the generated response (encoding/json of gen.TokenResponse)
// would have written, for a client token and for a login with refresh and ID tokens, and
// the headers are the document's.
func TestTokenAnswerMatchesGeneratedEncoding(t *testing.T) {
	t.Parallel()
	for _, r := range []*tokenResult{
		{access: "a.b.c", lifetime: 3600, scopes: []string{"api://t/.default"}, limit: &rateHeaders{limit: 100, remaining: 29, reset: 1}},
		{access: "a.b.c", lifetime: 60, scopes: []string{"openid", `we"ird`}, refresh: "twrt_x", idToken: "i.d.t"},
		{access: "a.b.c", lifetime: 60},
	} {
		want := gen.TokenResponse{AccessToken: r.access, ExpiresIn: r.lifetime, ExtExpiresIn: &r.lifetime,
			Scope: strings.Join(r.scopes, " "), TokenType: gen.TokenResponseTokenTypeBearer}
		if r.refresh != "" {
			want.RefreshToken = &r.refresh
		}
		if r.idToken != "" {
			want.IDToken = &r.idToken
		}
		body, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if err := r.VisitCreateTokenResponse(rec); err != nil {
			t.Fatal(err)
		}
		if rec.Body.String() != string(body)+"\n" {
			t.Errorf("body\n got %s\nwant %s", rec.Body, body)
		}
		h := rec.Header()
		if rec.Code != 200 || h.Get("Content-Type") != "application/json" || h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" {
			t.Errorf("answer %d %v", rec.Code, h)
		}
		if (r.limit != nil) != (h.Get("RateLimit-Remaining") != "") || (r.limit != nil && h.Get("RateLimit-Remaining") != "29") {
			t.Errorf("RateLimit headers %v for %+v", h, r.limit)
		}
	}
}

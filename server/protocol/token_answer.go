package protocol

import (
	"net/http"
	"strconv"

	"github.com/twinid/twinid/server/oauth2"
)

// A tokenResult answers itself: the RFC 6749 §5.1 answer (the document's TokenResponse),
// never cached (§5.1: Cache-Control no-store), with the RateLimit-* headers of a
// rate-limited grant. It is the hottest answer twinid writes, so the JSON is appended to
// one buffer, members in the order encoding/json writes gen.TokenResponse, and the fixed
// header values are shared, keys already canonical.

var (
	jsonType = []string{"application/json"}
	noStore  = []string{"no-store"}
	noCache  = []string{"no-cache"}
)

// VisitCreateTokenResponse writes the token endpoint's 200.
func (r *tokenResult) VisitCreateTokenResponse(w http.ResponseWriter) error { return r.write(w) }

// VisitLoginCustomerResponse writes the customer login's 200, the same answer.
func (r *tokenResult) VisitLoginCustomerResponse(w http.ResponseWriter) error { return r.write(w) }

func (r *tokenResult) write(w http.ResponseWriter) error {
	h := w.Header()
	h["Content-Type"], h["Cache-Control"], h["Pragma"] = jsonType, noStore, noCache
	if l := r.limit; l != nil {
		v := []string{strconv.Itoa(l.limit), strconv.Itoa(l.remaining), strconv.Itoa(l.reset)}
		h["Ratelimit-Limit"], h["Ratelimit-Remaining"], h["Ratelimit-Reset"] = v[0:1:1], v[1:2:2], v[2:3:3]
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r.appendJSON(make([]byte, 0, 160+len(r.access)+len(r.refresh)+len(r.idToken))))
	return err
}

// appendJSON appends the TokenResponse, ending with a newline as encoding/json's Encoder.
func (r *tokenResult) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = oauth2.AppendMember(b, "access_token", r.access)
	b = oauth2.AppendInt(b, "expires_in", int64(r.lifetime))
	b = oauth2.AppendInt(b, "ext_expires_in", int64(r.lifetime))
	if r.idToken != "" {
		b = oauth2.AppendMember(b, "id_token", r.idToken)
	}
	if r.refresh != "" {
		b = oauth2.AppendMember(b, "refresh_token", r.refresh)
	}
	b = oauth2.AppendJoined(b, "scope", r.scopes)
	b = append(b, `,"token_type":"Bearer"}`...)
	return append(b, '\n')
}

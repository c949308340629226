package manage

import (
	"crypto/hmac"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/oapi-codegen/nullable"

	"github.com/twinid/twinid/server/keys"
	"github.com/twinid/twinid/server/problem"
	"github.com/twinid/twinid/store"
)

// A page cursor is opaque: the last row's key and a keyed hash of it and of the list it
// pages (base64url, "." between), so a cursor that twinid did not hand out for this list
// is a 400 naming startingAfter instead of a page that silently starts anywhere.
const cursorMACLen = 16

// nextCursor is the cursor of the page after the row with key next; null on the last page.
func nextCursor(kr *keys.Keyring, list, next string) nullable.Nullable[string] {
	if next == "" {
		return nullable.NewNullNullable[string]()
	}
	mac := kr.CursorMAC(list + "\x00" + next)[:cursorMACLen]
	return nullable.NewNullableWithValue(base64.RawURLEncoding.EncodeToString([]byte(next)) + "." +
		base64.RawURLEncoding.EncodeToString(mac))
}

// page turns the generated list parameters of list into a store page (20 items by
// default), refusing a cursor that nextCursor did not make for list.
func page(kr *keys.Keyring, list string, limit *int, after *string) (store.Page, error) {
	p := store.Page{Limit: 20}
	if limit != nil {
		p.Limit = *limit
	}
	if after == nil {
		return p, nil
	}
	key, mac, ok := strings.Cut(*after, ".")
	k, err1 := base64.RawURLEncoding.DecodeString(key)
	m, err2 := base64.RawURLEncoding.DecodeString(mac)
	if !ok || err1 != nil || err2 != nil || len(k) == 0 ||
		!hmac.Equal(m, kr.CursorMAC(list + "\x00" + string(k))[:cursorMACLen]) {
		pr := problem.New(http.StatusBadRequest, "validation_failed", "the request does not match the API")
		pr.Errors = []problem.FieldError{{Field: "startingAfter",
			Message: "not a cursor of this list: pass the nextCursor of the previous page"}}
		return p, pr
	}
	p.After = string(k)
	return p, nil
}

package oauth2

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBody is the largest protocol request body.
const MaxBody = 64 << 10

// ReadParams reads form, multipart and JSON bodies into one parameter set (RFC 6749 §3.2:
// the body only, never the query string) and puts the bytes back, so the validator and the
// generated binding can read them again. dup names a parameter sent more than once. limits
// are the parameters' maximum lengths in characters.
func ReadParams(r *http.Request, limits map[string]int) (v url.Values, dup string, err error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, "", InvalidRequest("the request body could not be read")
	}
	if len(body) > MaxBody {
		return nil, "", InvalidRequest("the request body is too large").WithStatus(http.StatusRequestEntityTooLarge)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	v = url.Values{}
	if r.URL.RawQuery != "" {
		return nil, "", InvalidRequest("parameters must be sent in the request body, not in the URL")
	}
	ct, ctParams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, "", InvalidRequest("Content-Type must be application/x-www-form-urlencoded, multipart/form-data or application/json")
	}
	switch ct {
	case "application/x-www-form-urlencoded":
		if v, err = url.ParseQuery(string(body)); err != nil {
			return nil, "", InvalidRequest("the form body is malformed")
		}
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), ctParams["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, "", InvalidRequest("the multipart body is malformed")
			}
			if part.FileName() != "" {
				return nil, "", InvalidRequest("file parts are not accepted")
			}
			val, err := io.ReadAll(part)
			if err != nil {
				return nil, "", InvalidRequest("the multipart body is malformed")
			}
			v.Add(part.FormName(), string(val))
		}
	case "application/json":
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&m); err != nil || dec.More() {
			return nil, "", InvalidRequest("the JSON body is malformed")
		}
		for k, val := range m {
			str, ok := val.(string)
			if !ok {
				return nil, "", InvalidRequest("parameter " + k + " must be a string")
			}
			v.Set(k, str)
		}
	default:
		return nil, "", InvalidRequest("Content-Type must be application/x-www-form-urlencoded, multipart/form-data or application/json")
	}
	for k, vals := range v {
		if len(vals) > 1 && dup == "" {
			dup = k
		}
		for _, val := range vals {
			if strings.IndexByte(val, 0) >= 0 || !utf8.ValidString(val) {
				return nil, "", InvalidRequest("parameter " + k + " contains a NUL character or invalid UTF-8")
			}
		}
		if max, ok := limits[k]; ok {
			for _, val := range vals {
				if utf8.RuneCountInString(val) > max {
					return nil, "", InvalidRequest("parameter " + k + " is longer than " + strconv.Itoa(max) + " characters")
				}
			}
		}
	}
	return v, dup, nil
}

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

// paramName words a parameter for an error description: by its name when the document
// defines it (limits holds every name the document gives), else generically, since
// error_description never echoes what the client sent (RFC 6749 §5.2 limits its characters,
// and a reflected name could carry anything).
func paramName(k string, limits map[string]int) string {
	if _, known := limits[k]; known {
		return "parameter " + k
	}
	return "a parameter the endpoint does not define"
}

// ReadParams reads form, multipart and JSON bodies into one parameter set (RFC 6749 §3.2:
// the body only, never the query string) and puts the bytes back, so the validator and the
// generated binding can read them again. dup names a parameter sent more than once
// (RepeatedUnknown when the document does not define it). limits are the parameters' maximum
// lengths in characters, keyed by every parameter the document defines.
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
		// One object, each name once, nothing after it (RFC 6749 §3.1: parameters are not
		// repeated); the map below would otherwise keep one of two values silently.
		if err := CheckJSON(body, false); err != nil {
			return nil, "", InvalidRequest(err.Error())
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, "", InvalidRequest("the JSON body must be an object")
		}
		for k, val := range m {
			str, ok := val.(string)
			if !ok {
				return nil, "", InvalidRequest(paramName(k, limits) + " must be a string")
			}
			v.Set(k, str)
		}
	default:
		return nil, "", InvalidRequest("Content-Type must be application/x-www-form-urlencoded, multipart/form-data or application/json")
	}
	for k, vals := range v {
		if len(vals) > 1 && dup == "" {
			dup = RepeatedUnknown
			if _, known := limits[k]; known {
				dup = k
			}
		}
		for _, val := range vals {
			if strings.IndexByte(val, 0) >= 0 || !utf8.ValidString(val) {
				return nil, "", InvalidRequest(paramName(k, limits) + " contains a NUL character or invalid UTF-8")
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

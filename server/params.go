package server

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

const maxOAuthBody = 64 << 10

// oauthParams are the parameters of a protocol request, read from the body only (RFC 6749
// §3.2: never from the query string). dup names a parameter sent more than once.
type oauthParams struct {
	v   url.Values
	dup string
}

func (p *oauthParams) get(name string) string { return p.v.Get(name) }

// readOAuthParams reads form, multipart and JSON bodies into one parameter set and puts the
// bytes back, so the validator and the generated binding can read them again.
func readOAuthParams(r *http.Request, limits map[string]int) (*oauthParams, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxOAuthBody+1))
	if err != nil {
		return nil, invalidRequest("the request body could not be read")
	}
	if len(body) > maxOAuthBody {
		e := invalidRequest("the request body is too large")
		e.Status = http.StatusRequestEntityTooLarge
		return nil, e
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p := &oauthParams{v: url.Values{}}
	if r.URL.RawQuery != "" {
		return nil, invalidRequest("parameters must be sent in the request body, not in the URL")
	}
	ct, ctParams, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, invalidRequest("Content-Type must be application/x-www-form-urlencoded, multipart/form-data or application/json")
	}
	switch ct {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, invalidRequest("the form body is malformed")
		}
		p.v = v
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), ctParams["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, invalidRequest("the multipart body is malformed")
			}
			if part.FileName() != "" {
				return nil, invalidRequest("file parts are not accepted")
			}
			val, err := io.ReadAll(part)
			if err != nil {
				return nil, invalidRequest("the multipart body is malformed")
			}
			p.v.Add(part.FormName(), string(val))
		}
	case "application/json":
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&m); err != nil || dec.More() {
			return nil, invalidRequest("the JSON body is malformed")
		}
		for k, val := range m {
			str, ok := val.(string)
			if !ok {
				return nil, invalidRequest("parameter " + k + " must be a string")
			}
			p.v.Set(k, str)
		}
	default:
		return nil, invalidRequest("Content-Type must be application/x-www-form-urlencoded, multipart/form-data or application/json")
	}
	for k, vals := range p.v {
		if len(vals) > 1 && p.dup == "" {
			p.dup = k
		}
		for _, v := range vals {
			if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
				return nil, invalidRequest("parameter " + k + " contains a NUL character or invalid UTF-8")
			}
		}
		if max, ok := limits[k]; ok {
			for _, v := range vals {
				if utf8.RuneCountInString(v) > max {
					return nil, invalidRequest("parameter " + k + " is longer than " + strconv.Itoa(max) + " characters")
				}
			}
		}
	}
	return p, nil
}

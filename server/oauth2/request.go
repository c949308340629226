package oauth2

import (
	"encoding/base64"
	"net/url"
	"strings"
)

// Request is a protocol request's client authentication and parameters, parsed once.
type Request struct {
	// ClientID and ClientSecret come from HTTP Basic or the body (client_secret_post).
	ClientID, ClientSecret string
	// Bearer is a client access token sent as Authorization: Bearer (Dintero style).
	Bearer string
	// Params are the body parameters.
	Params url.Values
}

// Get returns a body parameter, "" when absent.
func (r *Request) Get(name string) string { return r.Params.Get(name) }

// BearerOf returns the token of an "Authorization: Bearer" header.
func BearerOf(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(header, " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// ParseRequest reads the client authentication of a protocol request from its
// Authorization header and body parameters: one method only, Basic credentials
// form-urlencoded (RFC 6749 §2.3.1), no repeated parameter (RFC 6749 §3.1). dup names a
// repeated parameter (ReadParams gives RepeatedUnknown for one the document does not define,
// so that only the document's names reach a description), "" when none; params nil means the body was missing.
func ParseRequest(authorization string, params url.Values, dup string) (*Request, error) {
	if params == nil {
		return nil, InvalidRequest("the request body is missing")
	}
	if dup != "" {
		if dup == RepeatedUnknown {
			return nil, InvalidRequest("a parameter is repeated")
		}
		return nil, InvalidRequest("parameter " + dup + " is repeated")
	}
	r := &Request{Params: params}
	bodyID, bodySecret := params.Get("client_id"), params.Get("client_secret")
	if tok, ok := BearerOf(authorization); ok {
		if bodySecret != "" {
			return nil, InvalidRequest("use one client authentication method, not a client token and client_secret together")
		}
		r.Bearer, r.ClientID = tok, bodyID
		return r, nil
	}
	if authorization == "" {
		r.ClientID, r.ClientSecret = bodyID, bodySecret
		return r, nil
	}
	scheme, cred, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return nil, ErrInvalidClient
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return nil, ErrInvalidClient
	}
	id, secret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, ErrInvalidClient
	}
	if r.ClientID, err = url.QueryUnescape(id); err != nil {
		return nil, ErrInvalidClient
	}
	if r.ClientSecret, err = url.QueryUnescape(secret); err != nil {
		return nil, ErrInvalidClient
	}
	if bodySecret != "" {
		return nil, InvalidRequest("use one client authentication method, not HTTP Basic and client_secret together")
	}
	if bodyID != "" && bodyID != r.ClientID {
		return nil, InvalidRequest("client_id does not match the authenticated client")
	}
	return r, nil
}

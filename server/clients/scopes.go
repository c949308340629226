package clients

import (
	"slices"
	"strings"

	"github.com/twinid/twinid/store"
)

// ScopeError refuses a scope request (invalid_scope); its text says why, for the client. It
// becomes an error_description, so it never quotes the scope or audience the client sent.
type ScopeError struct{ Detail string }

func (e *ScopeError) Error() string { return e.Detail }

func scopeError(detail string) error { return &ScopeError{Detail: detail} }

// ResolveScopes picks the token's audience and scopes from what the client holds.
// scope: every requested scope must be held, all of one audience. audience alone: every
// held scope of it. Neither: the client must hold scopes of exactly one audience.
func ResolveScopes(held []store.Scope, scopeParam, audience string) (string, []string, error) {
	requested := strings.Fields(scopeParam)
	if len(requested) == 0 {
		if audience == "" {
			auds := map[string]bool{}
			for _, h := range held {
				auds[h.Audience] = true
			}
			if len(auds) != 1 {
				return "", nil, scopeError("scope or audience is required: the client holds scopes of several audiences")
			}
			audience = held[0].Audience
		}
		var out []string
		for _, h := range held {
			if h.Audience == audience {
				out = append(out, h.Scope)
			}
		}
		if len(out) == 0 {
			return "", nil, scopeError("the client holds no scope for the requested audience")
		}
		return audience, out, nil
	}
	var aud string
	out := make([]string, 0, len(requested))
	for _, want := range requested {
		if slices.Contains(out, want) {
			continue
		}
		i := slices.IndexFunc(held, func(h store.Scope) bool { return h.Scope == want })
		if i < 0 {
			return "", nil, scopeError("the client does not hold a requested scope")
		}
		if aud != "" && held[i].Audience != aud {
			return "", nil, scopeError("the requested scopes belong to different audiences; request one audience per token")
		}
		aud = held[i].Audience
		out = append(out, want)
	}
	if audience != "" && audience != aud {
		return "", nil, scopeError("the requested scopes do not belong to the requested audience")
	}
	return aud, out, nil
}

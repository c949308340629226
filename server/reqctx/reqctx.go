package reqctx

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// The management vocabulary a principal is checked against.
const (
	// RootAID is the account created on first start; its admins manage every account.
	RootAID = "root"
	// ManagementAudience is the audience of management tokens.
	ManagementAudience = "api://management"
	// ScopeManage is full management of an account.
	ScopeManage = "api://management/.default"
	// ScopeRead is read-only management of an account.
	ScopeRead = "api://management/read"
)

type key int

const (
	infoKey key = iota
	paramsKey
	authKey
)

// Info is what handlers need of the HTTP request beyond their typed input.
type Info struct {
	Authorization string
	// Remote is the client address (through trusted proxies only).
	Remote string
	// RequestID is the request's X-Request-Id, as the log lines name it.
	RequestID string
	// Header is the response's header: handlers add cookies to it before answering.
	Header  http.Header
	Cookies func() []*http.Cookie
}

// Cookie returns the request's cookie of that name, or "".
func (i Info) Cookie(name string) string {
	if i.Cookies == nil {
		return ""
	}
	for _, c := range i.Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// WithInfo returns ctx carrying the request info.
func WithInfo(ctx context.Context, i Info) context.Context { return context.WithValue(ctx, infoKey, i) }

// InfoFrom returns the request info, empty outside a request.
func InfoFrom(ctx context.Context) Info {
	i, _ := ctx.Value(infoKey).(Info)
	return i
}

// Params are the parameters of a protocol request, read from the body only (RFC 6749
// §3.2: never from the query string). Dup names a parameter sent more than once.
type Params struct {
	Values url.Values
	Dup    string
}

// Get returns the first value of the parameter, or "".
func (p *Params) Get(name string) string { return p.Values.Get(name) }

// Parts returns the values and the repeated parameter; nil values when p is nil (the
// request had no parameters).
func (p *Params) Parts() (url.Values, string) {
	if p == nil {
		return nil, ""
	}
	return p.Values, p.Dup
}

// WithParams returns ctx carrying the protocol parameters.
func WithParams(ctx context.Context, p *Params) context.Context {
	return context.WithValue(ctx, paramsKey, p)
}

// ParamsFrom returns the protocol parameters, nil when the request had none.
func ParamsFrom(ctx context.Context) *Params {
	p, _ := ctx.Value(paramsKey).(*Params)
	return p
}

// Claims are the verified claims of one of twinid's access tokens.
type Claims struct {
	AID, Sub, ClientID, JTI string
	// FamilyID is the refresh family the token was issued with ("" for none).
	FamilyID string
	// AMR are the authentication methods of a customer's sign-in (RFC 8176).
	AMR      []string
	Aud      []string
	Scopes   []string
	Exp, Iat time.Time
}

// IsClient reports a client token (client_credentials), not a customer's token.
func (c *Claims) IsClient() bool { return c.Sub == c.ClientID }

// Has reports whether the token carries scope.
func (c *Claims) Has(scope string) bool { return slices.Contains(c.Scopes, scope) }

// Principal is who called a management operation.
type Principal struct {
	AID      string
	ClientID string
	// Sub is the token's subject: the client id for an admin client, the customer id for
	// a person who signed in.
	Sub    string
	Scopes []string
}

// Root reports whether the principal may manage every account.
func (p *Principal) Root() bool { return p.AID == RootAID }

// Has reports whether the principal holds scope; full management includes reading.
func (p *Principal) Has(scope string) bool {
	if slices.Contains(p.Scopes, scope) {
		return true
	}
	return scope == ScopeRead && slices.Contains(p.Scopes, ScopeManage)
}

// Auth carries the caller from the validator's authentication to the strict handlers,
// which only see the request context. It is filled once per request.
type Auth struct {
	// Done is set once the management token was checked (Principal or Err is final).
	Done      bool
	Principal *Principal
	Err       error
	// User is set when a customer's token satisfied the userBearer scheme.
	User *Claims
	// Client is the client id a protocol endpoint authenticated (secret, client token or
	// public client id).
	Client string
}

// ClientOf names the client a request acted as, for its log line: the client a protocol
// endpoint authenticated, the management principal's client, or the client of the
// customer's token; "" when none did.
func ClientOf(ctx context.Context) string {
	a := AuthFrom(ctx)
	switch {
	case a == nil:
		return ""
	case a.Client != "":
		return a.Client
	case a.Principal != nil:
		return a.Principal.ClientID
	case a.User != nil:
		return a.User.ClientID
	}
	return ""
}

// WithAuth returns ctx carrying an empty holder for the caller.
func WithAuth(ctx context.Context) (context.Context, *Auth) {
	a := &Auth{}
	return context.WithValue(ctx, authKey, a), a
}

// AuthFrom returns the holder, nil outside the API.
func AuthFrom(ctx context.Context) *Auth {
	a, _ := ctx.Value(authKey).(*Auth)
	return a
}

// PrincipalFrom returns the management caller, nil when there is none.
func PrincipalFrom(ctx context.Context) *Principal {
	if a := AuthFrom(ctx); a != nil {
		return a.Principal
	}
	return nil
}

// UserFrom returns the customer token of a userBearer operation, nil when there is none.
func UserFrom(ctx context.Context) *Claims {
	if a := AuthFrom(ctx); a != nil {
		return a.User
	}
	return nil
}

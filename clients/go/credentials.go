package twinidclient

import (
	"context"
	"net/http"

	"github.com/ogen-go/ogen/ogenerrors"

	"github.com/twinid/twinid/clients/go/twinid"
)

// Credentials are what a caller presents: a client id and secret (HTTP Basic, for the
// token endpoint) or an access token (Bearer, for the Management API, UserInfo and the
// customer endpoints). It is the generated client's SecuritySource.
type Credentials struct {
	ClientID, ClientSecret string
	AccessToken            string
}

var _ twinid.SecuritySource = Credentials{}

// New is a client of the twinid at baseURL (e.g. http://localhost:8080) that presents c.
func New(baseURL string, c Credentials, opts ...twinid.ClientOption) (*twinid.Client, error) {
	return twinid.NewClient(baseURL, c, opts...)
}

// WithHTTPClient makes the client send its requests with hc.
func WithHTTPClient(hc *http.Client) twinid.ClientOption { return twinid.WithClient(hc) }

func (c Credentials) bearer() (string, error) {
	if c.AccessToken == "" {
		return "", ogenerrors.ErrSkipClientSecurity
	}
	return c.AccessToken, nil
}

// BearerAuth presents the access token to the Management API.
func (c Credentials) BearerAuth(context.Context, twinid.OperationName) (twinid.BearerAuth, error) {
	t, err := c.bearer()
	return twinid.BearerAuth{Token: t}, err
}

// ClientBasic presents the client id and secret (client_secret_basic).
func (c Credentials) ClientBasic(context.Context, twinid.OperationName) (twinid.ClientBasic, error) {
	if c.ClientID == "" {
		return twinid.ClientBasic{}, ogenerrors.ErrSkipClientSecurity
	}
	return twinid.ClientBasic{Username: c.ClientID, Password: c.ClientSecret}, nil
}

// ClientBearer presents the access token as a client token, unless a client id and secret
// are there to authenticate with (both would be an Authorization header).
func (c Credentials) ClientBearer(context.Context, twinid.OperationName) (twinid.ClientBearer, error) {
	if c.ClientID != "" {
		return twinid.ClientBearer{}, ogenerrors.ErrSkipClientSecurity
	}
	t, err := c.bearer()
	return twinid.ClientBearer{Token: t}, err
}

// OAuth2 is not used: every operation that takes it also takes bearerAuth, the same header.
func (c Credentials) OAuth2(context.Context, twinid.OperationName) (twinid.OAuth2, error) {
	return twinid.OAuth2{}, ogenerrors.ErrSkipClientSecurity
}

// UserBearer presents the access token as a customer's token.
func (c Credentials) UserBearer(context.Context, twinid.OperationName) (twinid.UserBearer, error) {
	t, err := c.bearer()
	return twinid.UserBearer{Token: t}, err
}

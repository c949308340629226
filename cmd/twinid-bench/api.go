package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// apiClient talks to the server's Management API and token endpoint.
type apiClient struct {
	base string
	http *http.Client
}

// do sends a request and decodes a 2xx JSON answer into out (when not nil).
func (c *apiClient) do(ctx context.Context, method, path, auth, ctype string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data[:min(len(data), 500)]))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// post sends v as JSON with the admin's Bearer token.
func (c *apiClient) post(ctx context.Context, admin, path string, v, out any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, "Bearer "+admin, "application/json", body, out)
}

// jsonDo sends v (nil: no body) as JSON and decodes a 2xx answer into out (when not nil).
func (c *apiClient) jsonDo(ctx context.Context, method, path, auth string, v, out any) error {
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return c.do(ctx, method, path, auth, "application/json", body, out)
}

// tokenBody is the form of a client_credentials request for scope.
func tokenBody(scope string) string {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode()
}

// token obtains an access token of account aid with the client_credentials grant.
func (c *apiClient) token(ctx context.Context, aid, auth, scope string) (string, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err := c.do(ctx, http.MethodPost, "/v1/accounts/"+aid+"/auth/token", auth,
		"application/x-www-form-urlencoded", []byte(tokenBody(scope)), &tok)
	if err == nil && tok.AccessToken == "" {
		err = errors.New("token response without access_token")
	}
	return tok.AccessToken, err
}

// setup creates account aid signing with alg, a scope, and n service accounts with a
// secret each, checks that one token can be had, and returns the load target, which
// rotates over the n clients.
func (c *apiClient) setup(ctx context.Context, admin, aid, alg string, n int) (target, error) {
	const scope = "api://bench/.default"
	acct := map[string]any{"aid": aid, "name": "Bench " + aid, "settings": map[string]any{"signingAlg": alg}}
	if err := c.post(ctx, admin, "/v1/accounts", acct, nil); err != nil {
		return target{}, err
	}
	sc := map[string]any{"serviceName": "Bench", "audience": "api://bench", "scope": scope}
	if err := c.post(ctx, admin, "/v1/accounts/"+aid+"/scopes", sc, nil); err != nil {
		return target{}, err
	}
	t := target{url: c.base + "/v1/accounts/" + aid + "/auth/token", aid: aid, scope: scope, auths: make([]string, n), body: tokenBody(scope)}
	err := parallel(ctx, n, 4, func(i int) error {
		var sa struct{ ID, ClientID string }
		saReq := map[string]any{"name": fmt.Sprintf("bench-%d", i), "scopes": []string{scope},
			"tokenRateLimit": map[string]int{"perMinute": 1000000, "burst": 1000000}}
		if err := c.post(ctx, admin, "/v1/accounts/"+aid+"/service-accounts", saReq, &sa); err != nil {
			return err
		}
		var sec struct{ Secret string }
		if err := c.post(ctx, admin, "/v1/accounts/"+aid+"/service-accounts/"+sa.ID+"/secrets", struct{}{}, &sec); err != nil {
			return err
		}
		if sa.ClientID == "" || sec.Secret == "" {
			return errors.New("service account or secret response without clientId/secret")
		}
		t.auths[i] = basicAuth(sa.ClientID, sec.Secret)
		return nil
	})
	if err != nil {
		return target{}, err
	}
	if _, err := c.token(ctx, aid, t.auths[0], scope); err != nil {
		return target{}, fmt.Errorf("first token: %w", err)
	}
	return t, nil
}

// basicAuth is the client_secret_basic Authorization header (RFC 6749 §2.3.1).
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// parallel runs f(0..n-1) on at most workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil || ctx.Err() != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// retryBusy retries f while the server answers 503 (password pool saturated), up to 20 times.
func retryBusy(ctx context.Context, f func() error) error {
	for try := 0; ; try++ {
		err := f()
		if err == nil || try == 20 || !strings.Contains(err.Error(), ": 503 ") {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// refreshRound is one round of refresh-token exchanges.
type refreshRound struct {
	run    scriptRun
	ok     int64
	cpuPer time.Duration
}

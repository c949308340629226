// Package mailtest runs an in-process SMTP server for tests.
//
//	srv := mailtest.Start(t)
//	sender, _ := mail.New(mail.Config{URL: srv.URL()}, nil)
//	... trigger an email to "alice@example.com" ...
//	got := srv.Wait(t, "alice@example.com", 5*time.Second)
//	code := mailtest.Code(got.Text)
//
// The Server listens on 127.0.0.1, accepts every message (with or without
// AUTH PLAIN, any credentials, no TLS) and decodes its headers and its
// text/plain and text/html parts into a Received. It is closed by the test's
// Cleanup. Code finds the eight-digit code in a body.
//
// It imports nothing of the project, only github.com/emersion/go-smtp and
// github.com/emersion/go-sasl. Everything is in mailtest.go; start at Start.
package mailtest

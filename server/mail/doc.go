// Package mail sends the transactional emails of the identity server
// (verification codes, invitations).
//
// New returns an SMTP sender when TWINID_SMTP_URL is configured and a
// development outbox sender (one .eml file per message) otherwise. Queue puts
// a bounded asynchronous queue in front of a Sender so that HTTP handlers
// never wait on SMTP. Render turns the embedded templates into subject, text
// and HTML bodies.
//
// Nothing in this package logs a message body, a code, a link or a password;
// at most the recipient's domain is logged.
//
// It imports nothing of the project; go-mail (github.com/wneessen/go-mail)
// builds the RFC 5322 messages and speaks SMTP. Its subpackage mailtest runs
// an in-process SMTP server for tests.
//
// Start reading at mail.go (Message, Sender, Config) and new.go (New). Then:
// smtpurl.go parses TWINID_SMTP_URL, message.go builds a message, smtp.go
// and outbox.go are the two Senders, queue.go is Queue, templates.go is
// Render (the templates are under templates/).
package mail

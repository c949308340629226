package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/twinid/twinid/server"
	"github.com/twinid/twinid/store"
)

// personFlags are the flags of twinid admin add-person.
type personFlags struct{ email, name string }

func addPersonFlags(fs *flag.FlagSet) *personFlags {
	p := &personFlags{}
	fs.StringVar(&p.email, "email", "", "the person's email address, their login (required)")
	fs.StringVar(&p.name, "name", "", "the person's display name (default Administrator)")
	return p
}

// validate reports missing flags; a nil receiver (another command) has none.
func (p *personFlags) validate() error {
	if p != nil && p.email == "" {
		return errors.New("--email: required")
	}
	return nil
}

// addPerson adds a person who administers every account, reading the password from the
// first line of stdin (never from a flag, which other users could read in the process
// list): printf '%s' "$PASSWORD" | twinid admin add-person --email ada@example.com
func addPerson(ctx context.Context, cfg *config, st *store.Store, log *slog.Logger, p *personFlags, stdin io.Reader, stdout io.Writer) error {
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return errors.New("no password on stdin: printf '%s' \"$PASSWORD\" | twinid admin add-person --email ...")
	}
	mk, err := cfg.masterKey(log)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{PublicURL: cfg.PublicURL, MasterKey: mk, Logger: log}, st)
	if err != nil {
		return err
	}
	defer srv.Close()
	id, err := srv.AddPerson(ctx, p.email, p.name, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s (customer %s of the root account): signs in to Swagger UI at %s/swagger/ with Authorize, authorization code\n",
		p.email, id, cfg.PublicURL)
	return nil
}

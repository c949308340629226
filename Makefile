# twinid: `make run` starts the server on embedded SQLite; `make test` runs the tests.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: run build test test-sqlite generate check-generate go-client lint bench clients test-clients vet console check-console test-console

run:
	$(GO) run ./cmd/twinid serve

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w -X github.com/twinid/twinid/server/metrics.Version=$(VERSION)" -o bin/twinid ./cmd/twinid

## test: every package; the store's conformance suite and the server tests run on SQLite and,
## when TWINID_TEST_POSTGRES_URL is set, on Postgres too.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -parallel 8 -timeout 20m ./...

generate:
	$(GO) generate ./gen

## check-generate: CI fails when the committed gen/ or Go client (clients/go, made by ogen, a
## second generator that must compile the document) differs from the OpenAPI document.
check-generate: generate go-client
	@git diff --exit-code -- gen clients/go || (echo "gen/ or clients/go is stale: run make generate go-client and commit" && exit 1)

## go-client: regenerate the Go client (clients/go/twinid) with ogen, pinned in clients/go/go.mod.
go-client:
	cd clients/go && $(GO) generate ./...

lint:
	npx --yes @redocly/cli@2.77.0 lint openapi/openapi.yaml

## bench: the figures of issue 10 with their spread, targets and verdicts (cmd/twinid-bench).
## wrk is installed with apt-get when missing (the login, flood, sso and refresh parts need
## it); without it the tokens part falls back to the built-in Go load generator.
BENCHFLAGS ?= -pin
bench:
	@command -v wrk >/dev/null || apt-get install -y wrk >/dev/null 2>&1 || \
		(apt-get update >/dev/null 2>&1 && apt-get install -y wrk >/dev/null 2>&1) || \
		echo "make bench: could not install wrk (apt-get install -y wrk); the built-in Go load generator runs the tokens part only"
	$(GO) run ./cmd/twinid-bench $(BENCHFLAGS)

## clients: regenerate and compile the TypeScript client (clients/typescript) and the Go client (clients/go).
clients: go-client
	cd clients/typescript && npm ci --no-audit --no-fund && npm run generate && npx tsc -p .
	cd clients/go && $(GO) vet ./...

## test-clients: the service-account flow through the TypeScript and the Go client, and Swagger UI in headless Chromium, each against a fresh twinid.
test-clients:
	$(MAKE) clients
	cd clients/go && $(GO) test -count=1 ./...
	cd clients/typescript && npm test

## console: rebuild the admin console into console/dist (committed; package console embeds it).
console:
	cd console && npm ci --no-audit --no-fund && npm run build

## check-console: CI fails when the committed console/dist differs from a fresh build.
check-console: console
	@git diff --exit-code -- console/dist && test -z "$$(git status --porcelain -- console/dist)" \
		|| (echo "console/dist is stale: run make console and commit" && exit 1)

## test-console: the console in headless Chromium, as a person uses it, against a fresh twinid.
test-console:
	cd console && npm ci --no-audit --no-fund && npm test

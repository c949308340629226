# twinid: `make run` starts the server on embedded SQLite; `make test` runs the tests.
GO ?= go
export GOFLAGS ?= -buildvcs=false

.PHONY: run build test test-sqlite generate check-generate lint bench clients test-clients vet

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

## check-generate: CI fails when the committed gen/ differs from the OpenAPI document.
check-generate: generate
	@git diff --exit-code -- gen || (echo "gen/ is stale: run make generate and commit" && exit 1)

lint:
	npx --yes @redocly/cli@2.77.0 lint openapi/openapi.yaml

BENCHFLAGS ?= -pin
bench:
	@command -v wrk >/dev/null || (apt-get install -y wrk >/dev/null 2>&1 || true)
	$(GO) run ./cmd/twinid-bench $(BENCHFLAGS)

## clients: regenerate and compile the TypeScript client (clients/typescript).
clients:
	cd clients/typescript && npm ci --no-audit --no-fund && npm run generate && npx tsc -p .

## test-clients: the service-account flow through the TypeScript client, and Swagger UI in headless Chromium, against a fresh twinid.
test-clients:
	$(MAKE) clients && cd clients/typescript && npm test

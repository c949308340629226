// Package twinidclient holds the Go client of twinid's API, generated from the OpenAPI
// document by ogen into the package twinid below (make clients regenerates it; CI fails
// when it is stale). The test drives the service-account flow through it against a
// freshly built twinid.
package twinidclient

//go:generate go tool ogen --loglevel error --config .ogen.yml --target twinid --package twinid --clean ../../openapi/openapi.yaml

// Package gen is generated from openapi/openapi.yaml by oapi-codegen; never edit it by hand.
// Run `make generate` (or `go generate ./gen`) after changing the document.
package gen

//go:generate go tool oapi-codegen -config config.yaml ../openapi/openapi.yaml

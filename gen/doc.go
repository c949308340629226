// Package gen is generated from openapi/openapi.yaml by oapi-codegen (config.yaml); never
// edit it by hand. It holds the API models, the strict Echo server interface that
// server.Server implements, and the embedded document (GetSpec, GetSpecJSON) that the
// request validator and the dialect table read.
//
// Run `make generate` (or `go generate ./gen`) after changing the document; CI fails when
// the committed code is stale. It imports echo, kin-openapi and the oapi-codegen runtime.
// Start with StrictServerInterface.
package gen

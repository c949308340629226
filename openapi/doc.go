// Package openapi holds twinid's OpenAPI document, the single source of every HTTP
// endpoint: gen/ is generated from it, the server derives each endpoint's error dialect
// from it, and it is served at /openapi.yaml for Swagger UI and client generators.
//
// It imports nothing. Start with openapi.yaml.
package openapi

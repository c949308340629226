// Package openapi holds twinid's OpenAPI document, the single source of every HTTP endpoint.
package openapi

import _ "embed"

// YAML is the OpenAPI document as written in openapi.yaml.
//
//go:embed openapi.yaml
var YAML []byte

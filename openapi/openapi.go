package openapi

import _ "embed"

// YAML is the OpenAPI document as written in openapi.yaml.
//
//go:embed openapi.yaml
var YAML []byte

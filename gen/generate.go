package gen

//go:generate go tool oapi-codegen -config config.yaml ../openapi/openapi.yaml

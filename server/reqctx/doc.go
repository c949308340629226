// Package reqctx holds the typed values a request carries in its context: the request info
// (Authorization header, client address, response header for cookies), the protocol
// parameters read from the body, and the caller (a management principal or a customer's
// token).
//
// Strict handlers only see a context.Context, so everything they need of the HTTP request
// travels here under private keys. The server package sets the values; every other package
// reads them. It imports nothing of the project (layer 1). Start with Info and Auth.
package reqctx

// Package problem holds RFC 9457 problem details: the error dialect of the Management API
// and of the other JSON operations that are not OAuth endpoints. A Problem is returned as an
// error; the server's error handler writes it with Write.
//
// Constructors name the common cases (NotFound, Conflict, BadField, ...); Password words a
// refused password hash. It imports only passwords of the project (layer 1). Start with New
// and Write.
package problem

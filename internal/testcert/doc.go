// Package testcert makes a self-signed TLS certificate for tests of swarmrun's TLS serving:
// one certificate that is its own CA, valid for 127.0.0.1, ::1 and localhost for an hour.
//
// It is for tests only; nothing else may import it.
package testcert

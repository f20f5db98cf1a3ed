package server

import (
	"crypto/tls"
	"fmt"
)

// LoadTLS returns the TLS configuration to serve with the certificate chain in certFile and
// its key in keyFile (PEM): TLS 1.2 and later, HTTP/1.1 only.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s with key %s: %w", certFile, keyFile, err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}, nil
}

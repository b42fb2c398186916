/**
 * The server TLS identity (/app/etc/server.key.pem, server.cert.pem): the env's PEM pair, or a
 * self-signed certificate for the domain (crypto.h: ECDSA P-256, SHA-256, SAN DNS:domain, 3650
 * days), kept across boots while it still matches the domain and the key.
 */
#pragma once

/* Checks that key_pem and cert_pem parse and belong together. Returns 0 or -EBADMSG with a
 * message naming the env key in *reterr. */
int tls_check_pair(const char *key_pem, const char *cert_pem, char **reterr);

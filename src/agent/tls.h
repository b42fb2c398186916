/**
 * The server TLS identity (/app/etc/server.key.pem, server.cert.pem): the env's PEM pair, or a
 * self-signed certificate for the domain (OpenSSL, RSA 2048, SHA-256, SAN DNS:domain, 3650 days),
 * kept across boots while it still matches the domain and the key.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Checks that key_pem and cert_pem parse and belong together. Returns 0 or -EBADMSG with a
 * message in *ret_error. */
int tls_check_pair(const char *key_pem, const char *cert_pem, char **ret_error);
/* True if cert_pem is valid for domain (CN or SAN) until at least now + min_seconds. */
bool tls_cert_usable(const char *cert_pem, const char *domain, time_t min_seconds);
/* Generates a self-signed pair for domain. */
int tls_make_self_signed(const char *domain, unsigned days, char **ret_key_pem, char **ret_cert_pem);

/**
 * The one wrapper of OpenSSL (libcrypto): SHA-256 of memory, streams, fds and files; PEM private
 * keys and key/certificate pairs; the keys and certificates the programs make (the agent's
 * self-signed ECDSA server certificate, env create's RSA DKIM key); base64. No other file
 * includes an OpenSSL header; nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cleanup.h"

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE (2 * SHA256_DIGEST_SIZE + 1)

/* A running SHA-256. sha256_final_hex() writes lower-case hex; the context is spent afterwards. */
typedef struct Sha256 Sha256;
int sha256_new(Sha256 **ret);
int sha256_update(Sha256 *s, const void *data, size_t len);
int sha256_final(Sha256 *s, uint8_t ret[static SHA256_DIGEST_SIZE]);
int sha256_final_hex(Sha256 *s, char ret[static SHA256_HEX_SIZE]);
Sha256 *sha256_free(Sha256 *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Sha256 *, sha256_free);

/* One call: of a buffer; of what fd holds (a regular file whole, by its data extents, its holes
 * hashed as zeros without being read; anything else read to its end), adding the bytes done to
 * *counter (atomically, may be NULL) as it goes; of a file. 0 or -errno. */
int sha256_hex(const void *data, size_t len, char ret[static SHA256_HEX_SIZE]);
int sha256_fd_hex(int fd, uint64_t *counter, char ret[static SHA256_HEX_SIZE]);
int sha256_file_hex(const char *path, char ret[static SHA256_HEX_SIZE]);

/* Standard base64 with padding of data. Newly allocated, NULL on OOM. */
char *base64_encode(const void *data, size_t len);

typedef enum PemKeyType {
        PEM_KEY_OTHER,
        PEM_KEY_RSA,
        PEM_KEY_EC,
} PemKeyType;

/* The type of an unencrypted PEM private key: 0, or -EBADMSG if it is unreadable or encrypted
 * (never asks for a passphrase). */
int pem_private_key_type(const char *key_pem, PemKeyType *ret);

typedef enum PemPairResult {
        PEM_PAIR_OK,
        PEM_PAIR_BAD_KEY,       /* not a readable, unencrypted PEM private key */
        PEM_PAIR_BAD_CERT,      /* not a readable PEM certificate */
        PEM_PAIR_MISMATCH,      /* the certificate's public key is not the key's */
} PemPairResult;

/* Whether key_pem and cert_pem parse and belong together. */
PemPairResult pem_pair_check(const char *key_pem, const char *cert_pem);

/* True if cert_pem is valid for domain (CN or SAN) until at least now + min_seconds. */
bool pem_cert_usable(const char *cert_pem, const char *domain, time_t min_seconds);

/* A self-signed server certificate for domain: ECDSA P-256 key, SHA-256, CN and SAN DNS:domain,
 * serverAuth, valid from 5 minutes ago for days. PEM key and certificate, newly allocated. */
int pem_make_self_signed(const char *domain, unsigned days, char **ret_key_pem, char **ret_cert_pem);

/* An RSA key of bits: the PEM private key ("traditional" PKCS#1 form) and the base64 of its DER
 * SubjectPublicKeyInfo (what "openssl rsa -pubout" prints without the armor). */
int pem_make_rsa(unsigned bits, char **ret_key_pem, char **ret_public_base64);

/* The client certificate authority (the original's parameters): a self-signed CA of key_pem, or
 * of a new RSA key of bits when key_pem is NULL, CN cn, CA:TRUE with keyCertSign and cRLSign,
 * SHA-256, valid from 5 minutes ago for days. PEM key (PKCS#8) and certificate, newly allocated. */
int pem_make_ca(const char *cn, const char *key_pem, unsigned bits, unsigned days, char **ret_key_pem,
                char **ret_cert_pem);

/* A client certificate issued by the CA: a new RSA key of bits, subject CN=name and
 * emailAddress=email, the serial, CA:FALSE, clientAuth, valid from 5 minutes ago for days.
 * -EBADMSG if the CA pair does not parse or belong together. */
int pem_issue_client_cert(const char *ca_key_pem, const char *ca_cert_pem, const char *email, const char *name,
                          uint64_t serial, unsigned bits, unsigned days, char **ret_key_pem, char **ret_cert_pem);

/* A PKCS#12 file of key, cert and the CA certificate, under password (OpenSSL's defaults:
 * AES-256-CBC with PBKDF2, SHA-256 MAC), friendly name name. Newly allocated DER bytes. */
int pkcs12_make(const char *key_pem, const char *cert_pem, const char *ca_cert_pem, const char *name,
                const char *password, void **ret, size_t *ret_len);

/* Checks that p12 opens with password and holds a certificate: 0, or -EBADMSG. */
int pkcs12_check(const void *p12, size_t len, const char *password);

typedef struct CrlEntry {
        uint64_t serial;
        time_t revoked;
} CrlEntry;

/* A CRL v2 signed by the CA listing the revoked serials, CRL number number, next update in days. */
int pem_make_crl(const char *ca_key_pem, const char *ca_cert_pem, const CrlEntry *revoked, size_t n_revoked,
                 uint64_t number, unsigned days, char **ret_crl_pem);

/* The serial of a certificate as nginx's $ssl_client_serial and "openssl x509 -serial" print it
 * (upper-case hex, whole bytes), or NULL. */
char *pem_cert_serial_hex(const char *cert_pem);

/* len characters of [a-z0-9] from the kernel's random generator (the original's transport and
 * user passwords), NUL-terminated in ret (len + 1 bytes). */
int random_password(size_t len, char *ret);

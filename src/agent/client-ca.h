/**
 * The client certificate authority of the appliance (manual: "create-client-cert.sh"), with the
 * original's parameters: an RSA 2048 CA valid 10 years, client certificates of RSA 2048 valid 7 days
 * by default, handed out as PKCS#12 under a 16-character [a-z0-9] transport password, and a CRL
 * valid 10 years that is made anew on every revocation.
 *
 * Files (CLIENT_CA_DIR, /data/ecs-ca, also reached as /app/ecs-ca; the directory 0700):
 *   ca.key.pem    the CA key (0600), made once, never overwritten
 *   ca.cert.pem   the CA certificate, nginx's ssl_client_certificate
 *   crl.pem       the CRL, nginx's ssl_crl
 *   index.txt     one line per issued certificate (0600):
 *                 "V|R <TAB> SERIAL <TAB> NOT_AFTER <TAB> REVOKED|- <TAB> EMAIL <TAB> NAME"
 *                 (serial in upper-case hex as nginx's $ssl_client_serial prints it, times in
 *                 seconds since the epoch)
 * The PKCS#12 of an issued certificate goes to CLIENT_CERT_OUT_DIR/NAME.p12 (0600; NAME with every
 * character outside [A-Za-z0-9._-] as '_').
 *
 * nginx: the agent writes CLIENT_CA_NGINX_SNIPPET (included by the profile's site) with the CA, the
 * CRL and "ssl_verify_client optional", or "on" when appliance:ssl:client_certs_mandatory is true.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent.h"

#define CLIENT_CA_DIR "/data/ecs-ca"
#define CLIENT_CERT_OUT_DIR "/root/client-certs"
#define CLIENT_CA_NGINX_SNIPPET "/etc/nginx/snippets/appliance-client-certs.conf"
#define CLIENT_CA_BITS 2048U
#define CLIENT_CA_DAYS 3650U
#define CLIENT_CERT_DAYS_DEFAULT 7U
#define CLIENT_CERT_DAYS_MAX 3650U
#define CLIENT_CRL_DAYS 3650U
#define CLIENT_CERT_PASSWORD_LEN 16U

typedef struct ClientCertEntry {
        bool revoked;
        uint64_t serial;
        time_t not_after;
        time_t revoked_at;
        char *email;
        char *name;
} ClientCertEntry;

typedef struct ClientCertIndex {
        ClientCertEntry *entries;
        size_t n;
} ClientCertIndex;

void client_cert_index_done(ClientCertIndex *idx);
/* Parses index.txt text; errors name "NAME:LINE: ..." in *reterr. */
int client_cert_index_parse(const char *name, const char *text, ClientCertIndex *ret, char **reterr);
/* The text of an index. NULL on OOM. */
char *client_cert_index_format(const ClientCertIndex *idx);

/* Argument checks of create-client-cert.sh (messages name the argument). */
int client_cert_check_email(const char *email, char **reterr);
int client_cert_check_name(const char *name, char **reterr);
int client_cert_parse_days(const char *s, unsigned *ret, char **reterr);

/* Makes the CA (key, certificate, empty CRL, index) unless it exists; a CA key without its
 * certificate or a pair that does not belong together is an error, never replaced. Makes the
 * CRL again when it is missing. Returns 1 if it made something, 0 if all was there. */
int client_ca_ensure(const Agent *a, const char *domain, char **reterr);

/* Starts making the CA's key on a thread when there is no CA yet (client_ca_ensure() takes it);
 * client_ca_key_done() waits for it and drops it when it was not taken. */
void client_ca_key_start(const Agent *a);
void client_ca_key_done(void);

/* Whether the CA certificate and the CRL exist. */
bool client_ca_exists(const Agent *a);

/* The nginx snippet for env (with verify false: no client verification, for the maintenance page
 * of an appliance that has no CA yet): returns 1 if written anew. */
int client_ca_write_nginx(const Agent *a, const Env *env, bool verify, char **reterr);

/* Issues a certificate for email/name valid days, writes its PKCS#12 (path in *ret_path) under a
 * new transport password (in password) and records it in the index. */
int client_cert_issue(const Agent *a, const char *email, const char *name, unsigned days,
                      char password[static CLIENT_CERT_PASSWORD_LEN + 1], char **ret_serial, char **ret_path,
                      char **reterr);

/* Revokes the certificates whose serial (hex, case-insensitive) or name is what, makes the CRL
 * anew and returns how many were revoked (-ENOENT if none matched, -EALREADY if all were). */
int client_cert_revoke(const Agent *a, const char *what, char **reterr);

/* The index as a table for the administrator. */
int client_cert_list(const Agent *a, char **ret);

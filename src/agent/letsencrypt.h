/**
 * Let's Encrypt with the original's rule: the env's appliance:ssl:key/cert when given; else, while
 * appliance:ssl:letsencrypt:enabled is not false and the image has dehydrated, a certificate for
 * appliance:domain from its ACME CA (http-01: nginx serves /.well-known/acme-challenge/ from
 * LETSENCRYPT_WELLKNOWN on port 80, also while the appliance is not ready); else the self-signed
 * one, which prepare-appliance makes when there is no certificate or the one there expires within
 * a day (tls.h). Run by appliance-update (daily, and once after the first READY of a boot); the
 * CA, its account and the certificates are dehydrated's (/etc/dehydrated, /var/lib/dehydrated).
 */
#pragma once

#include "agent.h"

#define LETSENCRYPT_BASEDIR "/var/lib/dehydrated"
#define LETSENCRYPT_WELLKNOWN LETSENCRYPT_BASEDIR "/acme-challenges"

/* Whether the env asks for Let's Encrypt (no own certificate, not disabled). */
bool letsencrypt_wanted(const Env *env);

/* Registers (once), asks for or renews the certificate and installs it as the server's TLS
 * identity when it differs. Returns 1 if installed, 0 if nothing to do or unchanged, <0 with the
 * reason (the current identity is kept). */
int letsencrypt_renew(const Agent *a, const Env *env, char **reterr);

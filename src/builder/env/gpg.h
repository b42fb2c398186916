/**
 * OpenPGP keys for the env (GPGME), always in a throw-away GnuPG home so that the user's keyring
 * is never touched:
 *
 *   _cleanup_(env_gpg_home_freep) EnvGpgHome *h = NULL;
 *   r = env_gpg_home_new(&h);                                 mkdtemp'd GNUPGHOME
 *   r = env_gpg_create_key(h, "ecs_backup", &armored);        unprotected RSA 2048, sign+encrypt
 *   r = env_gpg_import(h, armored, &info);                    what an armored block contains
 *   env_gpg_home_free(h);                                     stops its gpg-agent, removes it
 *
 * All functions return 0 or -errno; error details go into *ret_error where offered.
 */
#pragma once

#include <stdbool.h>

#include "cleanup.h"

typedef struct EnvGpgHome EnvGpgHome;

typedef struct EnvGpgKeyInfo {
        unsigned n_secret;      /* secret keys imported */
        unsigned n_public;      /* keys (public part) considered */
        char *uid;              /* first user id of the first key, or NULL */
        bool protected_key;     /* NEEDSWORK: not detectable through GPGME; always false */
} EnvGpgKeyInfo;

int env_gpg_home_new(EnvGpgHome **ret);
EnvGpgHome *env_gpg_home_free(EnvGpgHome *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(EnvGpgHome *, env_gpg_home_free);

/* Creates an unprotected, non-expiring RSA 2048 key (sign and encrypt) with the given user id and
 * returns the armored secret key block (which contains the public key). */
int env_gpg_create_key(EnvGpgHome *h, const char *uid, char **ret_armored, char **ret_error);

/* Imports an armored key block into h and reports what it held. */
int env_gpg_import(EnvGpgHome *h, const char *armored, EnvGpgKeyInfo *ret, char **ret_error);
void env_gpg_key_info_done(EnvGpgKeyInfo *i);

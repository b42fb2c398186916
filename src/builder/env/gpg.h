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
 * All functions return 0 or -errno; error details go into *reterr where offered.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cleanup.h"

typedef struct EnvGpgHome EnvGpgHome;

typedef struct EnvGpgKeyInfo {
        unsigned n_secret;      /* secret keys imported */
        unsigned n_public;      /* keys (public part) considered */
        char *uid;              /* first user id of the first key, or NULL */
        bool protected_key;     /* NEEDSWORK: not detectable through GPGME; always false */
} EnvGpgKeyInfo;

/* Loads GPGME (dlopen; appliance-env links it statically); -ENOPKG with a message naming the
 * package. Every function below calls it; a caller that wants the message calls it first. */
int env_gpg_dlopen(char **reterr);
int env_gpg_home_new(EnvGpgHome **ret);
EnvGpgHome *env_gpg_home_free(EnvGpgHome *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(EnvGpgHome *, env_gpg_home_free);

/* Creates an unprotected, non-expiring RSA 2048 key (sign and encrypt) with the given user id and
 * returns the armored secret key block (which contains the public key). */
int env_gpg_create_key(EnvGpgHome *h, const char *uid, char **ret_armored, char **reterr);

/* Imports an armored key block into h and reports what it held. */
int env_gpg_import(EnvGpgHome *h, const char *armored, EnvGpgKeyInfo *ret, char **reterr);
void env_gpg_key_info_done(EnvGpgKeyInfo *i);

/* The encrypted env archive: data encrypted to every usable key in keys_path (armoured or binary
 * OpenPGP public keys), imported into a throw-away home, never into the user's keyring; trust is
 * not checked ("always"), as the operator chose the keys by listing them. Output is binary
 * OpenPGP, for `gpg --decrypt`. -ENOKEY if the file holds no key, -EKEYREJECTED if a key cannot
 * encrypt; *reterr says which. The result is malloc()ed. */
int gpg_encrypt_to_keyfile(const char *keys_path, const void *data, size_t len, void **ret, size_t *ret_size,
                           char **reterr);

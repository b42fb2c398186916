/**
 * The encrypted env archive: a tar.gz of in-memory files (libarchive), encrypted with GPGME to
 * every public key in a key file. The keys are imported into a throw-away GnuPG home directory
 * (mode 0700, removed afterwards), never into the user's keyring; trust is not checked ("always"),
 * as the operator chose the keys by listing them. Output is binary OpenPGP, for `gpg --decrypt`.
 */
#pragma once

#include <stddef.h>
#include <time.h>

typedef struct BundleFile {
        const char *name;
        const void *data;
        size_t size;
} BundleFile;

/* Writes the files as a gzip-compressed POSIX tar (mode 0600, owner 0:0, the given mtime). */
int bundle_tar_gz(const BundleFile *files, size_t n_files, time_t mtime, void **ret, size_t *ret_size,
                  char **ret_error);

/* Encrypts data to all usable keys in keys_path (armoured or binary OpenPGP public keys).
 * -ENOKEY if the file holds no key, -EKEYREJECTED if a key cannot encrypt; *ret_error says which.
 * The result is malloc()ed. */
int gpg_encrypt_to_keyfile(const char *keys_path, const void *data, size_t len, void **ret, size_t *ret_size,
                           char **ret_error);

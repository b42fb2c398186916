/**
 * tar.gz and OpenPGP encryption of the env package (see env-bundle.h).
 */
#define _GNU_SOURCE 1
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gpgme.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chase.h"
#include "cleanup.h"
#include "env/bundle.h"
#include "fileio.h"
#include "macro.h"
#include "spawn.h"

#define KEYFILE_MAX (16U * 1024U * 1024U)

typedef struct Growbuf {
        uint8_t *data;
        size_t size, cap;
} Growbuf;

static la_ssize_t growbuf_write(struct archive *a, void *userdata, const void *buf, size_t len) {
        Growbuf *g = userdata;

        if (g->size + len > g->cap) {
                size_t cap = MAX(g->cap * 2, g->size + len + 65536);
                uint8_t *p = realloc(g->data, cap);
                if (!p) {
                        archive_set_error(a, ENOMEM, "out of memory");
                        return -1;
                }
                g->data = p;
                g->cap = cap;
        }
        memcpy(g->data + g->size, buf, len);
        g->size += len;
        return (la_ssize_t) len;
}

static int archive_fail(struct archive *a, char **ret_error) {
        int e = archive_errno(a);

        (void) asprintf(ret_error, "libarchive: %s", strna(archive_error_string(a)));
        archive_write_free(a);
        return e > 0 ? -e : -EIO;
}

int bundle_tar_gz(const BundleFile *files, size_t n_files, time_t mtime, void **ret, size_t *ret_size,
                  char **ret_error) {
        struct archive *a = archive_write_new();
        Growbuf g = {};
        int r;

        if (!a)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open2(a, &g, NULL, growbuf_write, NULL, NULL) != ARCHIVE_OK) {
                r = archive_fail(a, ret_error); /* may still write through the callback */
                free(g.data);
                return r;
        }

        for (size_t i = 0; i < n_files; i++) {
                struct archive_entry *e = archive_entry_new();

                if (!e) {
                        archive_write_free(a);
                        free(g.data);
                        return -ENOMEM;
                }
                archive_entry_set_pathname(e, files[i].name);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0600);
                archive_entry_set_size(e, (la_int64_t) files[i].size);
                archive_entry_set_mtime(e, mtime, 0);
                archive_entry_set_uid(e, 0);
                archive_entry_set_gid(e, 0);
                r = archive_write_header(a, e);
                archive_entry_free(e);
                if (r != ARCHIVE_OK ||
                    archive_write_data(a, files[i].data, files[i].size) != (la_ssize_t) files[i].size) {
                        r = archive_fail(a, ret_error);
                        free(g.data);
                        return r;
                }
        }

        if (archive_write_close(a) != ARCHIVE_OK) {
                r = archive_fail(a, ret_error); /* may still write through the callback */
                free(g.data);
                return r;
        }
        archive_write_free(a);

        *ret = g.data;
        *ret_size = g.size;
        return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        (void) (flag == FTW_DP ? rmdir(path) : unlink(path));
        return 0;
}

/* Stops any gpg-agent that gpg may have started for the home directory, then removes it. */
static void gnupg_home_remove(char *home) {
        if (!home)
                return;
        _cleanup_free_ char *sock = NULL;
        if (asprintf(&sock, "%s/S.gpg-agent", home) >= 0 && path_exists(sock)) {
                char *argv[] = { (char *) "gpgconf", (char *) "--homedir", home, (char *) "--kill", (char *) "all",
                                 NULL };
                (void) spawn_capture(argv, NULL, 0, SPAWN_NULL_STDOUT | SPAWN_NULL_STDERR, NULL, NULL);
        }
        (void) nftw(home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(home);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(gpgme_ctx_t, gpgme_release);
DEFINE_TRIVIAL_CLEANUP_FUNC(gpgme_data_t, gpgme_data_release);
DEFINE_TRIVIAL_CLEANUP_FUNC(gpgme_key_t, gpgme_key_unref);

static void gnupg_home_removep(char **home) {
        gnupg_home_remove(*home);
}

static void key_array_free(gpgme_key_t *keys) {
        if (!keys)
                return;
        for (gpgme_key_t *k = keys; *k; k++)
                gpgme_key_unref(*k);
        free(keys);
}

static void key_array_freep(gpgme_key_t **keys) {
        key_array_free(*keys);
}

static int gpg_error_to_errno(gpgme_error_t e) {
        int r = gpgme_err_code_to_errno(gpgme_err_code(e));
        return r > 0 ? -r : -EIO;
}

int gpg_encrypt_to_keyfile(const char *keys_path, const void *data, size_t len, void **ret, size_t *ret_size,
                           char **ret_error) {
        _cleanup_(gnupg_home_removep) char *home = NULL;
        _cleanup_(gpgme_releasep) gpgme_ctx_t ctx = NULL;
        _cleanup_(gpgme_data_releasep) gpgme_data_t keydata = NULL, plain = NULL, cipher = NULL;
        _cleanup_(key_array_freep) gpgme_key_t *keys = NULL;
        _cleanup_free_ char *keytext = NULL;
        gpgme_import_result_t ir;
        gpgme_encrypt_result_t er;
        gpgme_error_t e;
        size_t keylen, n_keys = 0, n_imports = 0;
        const char *tmp = getenv("TMPDIR");
        int r;

        r = read_input(AT_FDCWD, keys_path, INPUT_FOLLOW, KEYFILE_MAX, &keytext, &keylen);
        if (r < 0) {
                (void) asprintf(ret_error, "cannot read key file: %s", input_strerror(r));
                return r;
        }

        if (!gpgme_check_version(NULL)) {
                *ret_error = strdup("GPGME initialisation failed");
                return -EIO;
        }

        if (asprintf(&home, "%s/appliance-gnupg.XXXXXX", isempty(tmp) ? "/tmp" : tmp) < 0)
                return -ENOMEM;
        if (!mkdtemp(home)) {
                r = -errno;
                (void) asprintf(ret_error, "cannot create a temporary GnuPG home '%s': %s", home, strerror(errno));
                free(TAKE_PTR(home));
                return r;
        }

        e = gpgme_new(&ctx);
        if (!e)
                e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
        if (!e)
                e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home);
        if (!e)
                e = gpgme_data_new_from_mem(&keydata, keytext, keylen, 0);
        if (e) {
                (void) asprintf(ret_error, "GPGME: %s", gpgme_strerror(e));
                return gpg_error_to_errno(e);
        }
        gpgme_set_armor(ctx, 0);
        gpgme_set_offline(ctx, 1);

        e = gpgme_op_import(ctx, keydata);
        if (e) {
                (void) asprintf(ret_error, "cannot import the keys: %s", gpgme_strerror(e));
                return gpg_error_to_errno(e);
        }
        ir = gpgme_op_import_result(ctx);
        for (gpgme_import_status_t s = ir ? ir->imports : NULL; s; s = s->next)
                n_imports++;
        if (!ir || ir->considered == 0 || n_imports == 0) {
                *ret_error = strdup("no OpenPGP public key found in the key file");
                return -ENOKEY;
        }

        keys = calloc(n_imports + 1, sizeof(gpgme_key_t));
        if (!keys)
                return -ENOMEM;
        for (gpgme_import_status_t s = ir->imports; s; s = s->next) {
                _cleanup_(gpgme_key_unrefp) gpgme_key_t key = NULL;
                bool dup = false;

                if (s->result || !s->fpr) {
                        (void) asprintf(ret_error, "cannot import key %s: %s", strna(s->fpr),
                                        gpgme_strerror(s->result));
                        return -EKEYREJECTED;
                }
                for (size_t i = 0; i < n_keys; i++)
                        if (streq(keys[i]->fpr, s->fpr))
                                dup = true; /* a secret key block lists its key twice */
                if (dup)
                        continue;

                e = gpgme_get_key(ctx, s->fpr, &key, 0);
                if (e) {
                        (void) asprintf(ret_error, "cannot look up imported key %s: %s", s->fpr, gpgme_strerror(e));
                        return gpg_error_to_errno(e);
                }
                if (!key->can_encrypt || key->revoked || key->expired || key->disabled || key->invalid) {
                        (void) asprintf(ret_error, "key %s (%s) cannot encrypt: %s", s->fpr,
                                        key->uids && key->uids->uid ? key->uids->uid : "no user id",
                                        key->revoked   ? "revoked"
                                        : key->expired ? "expired"
                                                       : "no usable encryption subkey");
                        return -EKEYREJECTED;
                }
                keys[n_keys++] = TAKE_PTR(key);
        }

        e = gpgme_data_new_from_mem(&plain, data, len, 0);
        if (!e)
                e = gpgme_data_new(&cipher);
        if (e) {
                (void) asprintf(ret_error, "GPGME: %s", gpgme_strerror(e));
                return gpg_error_to_errno(e);
        }

        e = gpgme_op_encrypt(ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST, plain, cipher);
        er = gpgme_op_encrypt_result(ctx);
        if (er && er->invalid_recipients) {
                (void) asprintf(ret_error, "key %s cannot be used: %s", strna(er->invalid_recipients->fpr),
                                gpgme_strerror(er->invalid_recipients->reason));
                return -EKEYREJECTED;
        }
        if (e) {
                (void) asprintf(ret_error, "encryption failed: %s", gpgme_strerror(e));
                return gpg_error_to_errno(e);
        }

        size_t outlen;
        char *out = gpgme_data_release_and_get_mem(TAKE_PTR(cipher), &outlen);
        if (!out)
                return -ENOMEM;
        void *copy = malloc(MAX(outlen, (size_t) 1));
        if (!copy) {
                gpgme_free(out);
                return -ENOMEM;
        }
        memcpy(copy, out, outlen);
        gpgme_free(out);

        *ret = copy;
        *ret_size = outlen;
        return 0;
}

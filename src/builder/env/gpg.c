/**
 * GPGME wrapper for the env's OpenPGP keys: creation of unprotected keys and import checks, each
 * in a temporary GnuPG home that is removed afterwards (see env-gpg.h).
 */
#include <ftw.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpgme.h>

#include "env/gpg.h"
#include "macro.h"
#include "spawn.h"

struct EnvGpgHome {
        char *path;
        gpgme_ctx_t ctx;
};

static char *gpg_error_text(const char *what, gpgme_error_t err) {
        char *s = NULL;
        if (asprintf(&s, "%s: %s", what, gpgme_strerror(err)) < 0)
                return NULL;
        return s;
}

static int gpg_errno(gpgme_error_t err) {
        int e = gpgme_err_code_to_errno(gpgme_err_code(err));
        return e > 0 ? -e : -EIO;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st, (void) flag, (void) ftw;
        (void) remove(path);
        return 0;
}

EnvGpgHome *env_gpg_home_free(EnvGpgHome *h) {
        if (!h)
                return NULL;
        if (h->ctx)
                gpgme_release(h->ctx);
        if (h->path) {
                /* the agent started for the home keeps sockets there; stop it first */
                char *argv[] = { (char *) "gpgconf", (char *) "--homedir", h->path, (char *) "--kill", (char *) "all", NULL };
                (void) spawn_capture(argv, NULL, 0, SPAWN_NULL_STDOUT | SPAWN_NULL_STDERR, NULL, NULL);
                (void) nftw(h->path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
                free(h->path);
        }
        free(h);
        return NULL;
}

int env_gpg_home_new(EnvGpgHome **ret) {
        _cleanup_(env_gpg_home_freep) EnvGpgHome *h = NULL;
        gpgme_error_t err;

        if (!gpgme_check_version(NULL))
                return -EIO;
        (void) gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));

        h = calloc(1, sizeof(EnvGpgHome));
        if (!h)
                return -ENOMEM;
        /* gpg-agent may put its sockets into the home: keep the path well within sun_path */
        const char *tmp = getenv("TMPDIR");
        if (isempty(tmp) || tmp[0] != '/' || strlen(tmp) > 64)
                tmp = "/tmp";
        if (asprintf(&h->path, "%s/envgpg.XXXXXX", tmp) < 0) {
                h->path = NULL;
                return -ENOMEM;
        }
        if (!mkdtemp(h->path)) {
                free(h->path);
                h->path = NULL;
                return -errno;
        }
        err = gpgme_new(&h->ctx);
        if (err)
                return gpg_errno(err);
        err = gpgme_ctx_set_engine_info(h->ctx, GPGME_PROTOCOL_OpenPGP, NULL, h->path);
        if (err)
                return gpg_errno(err);
        gpgme_set_armor(h->ctx, 1);
        gpgme_set_pinentry_mode(h->ctx, GPGME_PINENTRY_MODE_LOOPBACK);
        *ret = TAKE_PTR(h);
        return 0;
}

static int data_to_string(gpgme_data_t d, char **ret) {
        size_t len = 0;
        char *buf = gpgme_data_release_and_get_mem(d, &len);
        if (!buf)
                return -ENOMEM;
        /* not NUL-terminated: copy exactly len bytes */
        char *s = malloc(len + 1);
        if (s) {
                memcpy(s, buf, len);
                s[len] = 0;
        }
        gpgme_free(buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int env_gpg_create_key(EnvGpgHome *h, const char *uid, char **ret_armored, char **ret_error) {
        gpgme_error_t err;
        gpgme_genkey_result_t res;
        gpgme_data_t out = NULL;
        int r;

        err = gpgme_op_createkey(h->ctx, uid, "rsa2048", 0, 0, NULL,
                                 GPGME_CREATE_SIGN | GPGME_CREATE_ENCR | GPGME_CREATE_CERT |
                                 GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE | GPGME_CREATE_FORCE);
        if (err) {
                if (ret_error)
                        *ret_error = gpg_error_text("creating the OpenPGP key", err);
                return gpg_errno(err);
        }
        res = gpgme_op_genkey_result(h->ctx);
        if (!res || !res->fpr) {
                if (ret_error)
                        *ret_error = strdup("creating the OpenPGP key: no fingerprint returned");
                return -EIO;
        }
        /* the result belongs to the context and is gone with the next operation */
        _cleanup_free_ char *fpr = strdup(res->fpr);
        if (!fpr)
                return -ENOMEM;
        err = gpgme_data_new(&out);
        if (err)
                return gpg_errno(err);
        err = gpgme_op_export(h->ctx, fpr, GPGME_EXPORT_MODE_SECRET, out);
        if (err) {
                gpgme_data_release(out);
                if (ret_error)
                        *ret_error = gpg_error_text("exporting the OpenPGP key", err);
                return gpg_errno(err);
        }
        r = data_to_string(out, ret_armored);
        if (r < 0)
                return r;
        if (!startswith(*ret_armored, "-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
                free(*ret_armored);
                *ret_armored = NULL;
                if (ret_error)
                        *ret_error = strdup("exporting the OpenPGP key: no secret key block");
                return -EIO;
        }
        return 0;
}

void env_gpg_key_info_done(EnvGpgKeyInfo *i) {
        free(i->uid);
        *i = (EnvGpgKeyInfo) {};
}

int env_gpg_import(EnvGpgHome *h, const char *armored, EnvGpgKeyInfo *ret, char **ret_error) {
        gpgme_data_t in = NULL;
        gpgme_error_t err;
        gpgme_import_result_t res;
        EnvGpgKeyInfo info = {};

        err = gpgme_data_new_from_mem(&in, armored, strlen(armored), 1);
        if (err)
                return gpg_errno(err);
        err = gpgme_op_import(h->ctx, in);
        gpgme_data_release(in);
        if (err) {
                if (ret_error)
                        *ret_error = gpg_error_text("importing", err);
                return gpg_errno(err);
        }
        res = gpgme_op_import_result(h->ctx);
        if (!res || res->considered == 0) {
                if (ret_error)
                        *ret_error = strdup("no OpenPGP key found");
                return -EBADMSG;
        }
        info.n_secret = (unsigned) MAX(res->secret_imported + res->secret_unchanged, 0);
        info.n_public = (unsigned) MAX(res->considered, 0);

        if (res->imports && res->imports->fpr) {
                gpgme_key_t key = NULL;
                _cleanup_free_ char *fpr = strdup(res->imports->fpr);
                if (!fpr)
                        return -ENOMEM;
                err = gpgme_get_key(h->ctx, fpr, &key, 0);
                if (!err && key) {
                        if (key->uids && key->uids->uid) {
                                info.uid = strdup(key->uids->uid);
                                if (!info.uid) {
                                        gpgme_key_unref(key);
                                        return -ENOMEM;
                                }
                        }
                        gpgme_key_unref(key);
                }
        }
        *ret = info;
        return 0;
}

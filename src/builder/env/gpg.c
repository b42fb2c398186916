/**
 * The GPGME wrapper (the only file that includes it): the env's OpenPGP keys (creation of
 * unprotected keys, import checks) and the env package's encryption, each in a throw-away GnuPG
 * home that is removed afterwards (see gpg.h).
 */
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpgme.h>

#include "chase.h"
#include "dlopen-util.h"
#include "env/gpg.h"
#include "fileio.h"
#include "macro.h"
#include "reterr.h"
#include "rm-rf.h"
#include "spawn.h"

#define GPGME_SYMBOLS(X) \
        X(gpgme_check_version_internal) X(gpgme_ctx_set_engine_info) X(gpgme_data_new) \
        X(gpgme_data_new_from_mem) X(gpgme_data_release) X(gpgme_data_release_and_get_mem) \
        X(gpgme_err_code_to_errno) X(gpgme_free) X(gpgme_get_key) X(gpgme_key_unref) X(gpgme_new) \
        X(gpgme_op_createkey) X(gpgme_op_encrypt) X(gpgme_op_encrypt_result) X(gpgme_op_export) \
        X(gpgme_op_genkey_result) X(gpgme_op_import) X(gpgme_op_import_result) X(gpgme_release) \
        X(gpgme_set_armor) X(gpgme_set_locale) X(gpgme_set_offline) X(gpgme_set_pinentry_mode) \
        X(gpgme_strerror)
GPGME_SYMBOLS(DLSYM_DECLARE)
static void *gpgme_dl = NULL;

int env_gpg_dlopen(char **reterr) {
#ifdef GPGME_LINKED
        /* appliance-env is linked statically against GPGME */
        if (!gpgme_dl) {
                GPGME_SYMBOLS(DLSYM_ASSIGN)
                gpgme_dl = &gpgme_dl;
        }
        (void) reterr;
        return 0;
#else
        return dlopen_symbols(&gpgme_dl, "libgpgme.so.11", "libgpgme11", reterr, GPGME_SYMBOLS(DLSYM_ARG) NULL);
#endif
}

/* "$TMPDIR/envgpg.XXXXXX" at most this long, else under /tmp: gpg-agent's socket paths in the home
 * (S.gpg-agent.browser) must fit sun_path's 108 bytes. */
#define GPG_HOME_MAX 80
#define KEYFILE_MAX (16U * 1024U * 1024U)

struct EnvGpgHome {
        char *path;
        gpgme_ctx_t ctx;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(gpgme_data_t, sym_gpgme_data_release);
DEFINE_TRIVIAL_CLEANUP_FUNC(gpgme_key_t, sym_gpgme_key_unref);

static char *gpg_error_text(const char *what, gpgme_error_t err) {
        char *s = NULL;
        if (asprintf(&s, "%s: %s", what, sym_gpgme_strerror(err)) < 0)
                return NULL;
        return s;
}

static int gpg_errno(gpgme_error_t err) {
        int e = sym_gpgme_err_code_to_errno(gpgme_err_code(err));
        return e > 0 ? -e : -EIO;
}

EnvGpgHome *env_gpg_home_free(EnvGpgHome *h) {
        if (!h)
                return NULL;
        if (h->ctx)
                sym_gpgme_release(h->ctx);
        if (h->path) {
                /* the agent started for the home keeps sockets there; stop it first */
                char *argv[] = { (char *) "gpgconf", (char *) "--homedir", h->path, (char *) "--kill", (char *) "all", NULL };
                (void) spawn_capture(argv, NULL, 0, SPAWN_NULL_STDOUT | SPAWN_NULL_STDERR, NULL, NULL);
                (void) rm_rf_and_free(h->path);
        }
        free(h);
        return NULL;
}

int env_gpg_home_new(EnvGpgHome **ret) {
        _cleanup_(env_gpg_home_freep) EnvGpgHome *h = NULL;
        gpgme_error_t err;
        int r;

        r = env_gpg_dlopen(NULL);
        if (r < 0)
                return r;
        if (!sym_gpgme_check_version_internal(NULL, offsetof(struct _gpgme_signature, validity)))
                return -EIO;
        (void) sym_gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));

        h = calloc(1, sizeof(EnvGpgHome));
        if (!h)
                return -ENOMEM;
        /* gpg-agent may put its sockets into the home: keep the path well within sun_path */
        r = mkdtemp_tmpdir("envgpg", GPG_HOME_MAX, &h->path);
        if (r < 0)
                return r;
        err = sym_gpgme_new(&h->ctx);
        if (err)
                return gpg_errno(err);
        err = sym_gpgme_ctx_set_engine_info(h->ctx, GPGME_PROTOCOL_OpenPGP, NULL, h->path);
        if (err)
                return gpg_errno(err);
        sym_gpgme_set_armor(h->ctx, 1);
        sym_gpgme_set_pinentry_mode(h->ctx, GPGME_PINENTRY_MODE_LOOPBACK);
        *ret = TAKE_PTR(h);
        return 0;
}

static int data_to_string(gpgme_data_t d, char **ret) {
        size_t len = 0;
        char *buf = sym_gpgme_data_release_and_get_mem(d, &len);
        if (!buf)
                return -ENOMEM;
        /* not NUL-terminated: copy exactly len bytes */
        char *s = memdup_nul(buf, len);
        sym_gpgme_free(buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int env_gpg_create_key(EnvGpgHome *h, const char *uid, char **ret_armored, char **reterr) {
        gpgme_error_t err;
        gpgme_genkey_result_t res;
        gpgme_data_t out = NULL;
        int r;

        err = sym_gpgme_op_createkey(h->ctx, uid, "rsa2048", 0, 0, NULL,
                                 GPGME_CREATE_SIGN | GPGME_CREATE_ENCR | GPGME_CREATE_CERT |
                                 GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE | GPGME_CREATE_FORCE);
        if (err) {
                if (reterr)
                        *reterr = gpg_error_text("creating the OpenPGP key", err);
                return gpg_errno(err);
        }
        res = sym_gpgme_op_genkey_result(h->ctx);
        if (!res || !res->fpr) {
                if (reterr)
                        *reterr = strdup("creating the OpenPGP key: no fingerprint returned");
                return -EIO;
        }
        /* the result belongs to the context and is gone with the next operation */
        _cleanup_free_ char *fpr = strdup(res->fpr);
        if (!fpr)
                return -ENOMEM;
        err = sym_gpgme_data_new(&out);
        if (err)
                return gpg_errno(err);
        err = sym_gpgme_op_export(h->ctx, fpr, GPGME_EXPORT_MODE_SECRET, out);
        if (err) {
                sym_gpgme_data_release(out);
                if (reterr)
                        *reterr = gpg_error_text("exporting the OpenPGP key", err);
                return gpg_errno(err);
        }
        r = data_to_string(out, ret_armored);
        if (r < 0)
                return r;
        if (!startswith(*ret_armored, "-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
                free(*ret_armored);
                *ret_armored = NULL;
                if (reterr)
                        *reterr = strdup("exporting the OpenPGP key: no secret key block");
                return -EIO;
        }
        return 0;
}

void env_gpg_key_info_done(EnvGpgKeyInfo *i) {
        free(i->uid);
        *i = (EnvGpgKeyInfo) {};
}

int env_gpg_import(EnvGpgHome *h, const char *armored, EnvGpgKeyInfo *ret, char **reterr) {
        gpgme_data_t in = NULL;
        gpgme_error_t err;
        gpgme_import_result_t res;
        EnvGpgKeyInfo info = {};

        err = sym_gpgme_data_new_from_mem(&in, armored, strlen(armored), 1);
        if (err)
                return gpg_errno(err);
        err = sym_gpgme_op_import(h->ctx, in);
        sym_gpgme_data_release(in);
        if (err) {
                if (reterr)
                        *reterr = gpg_error_text("importing", err);
                return gpg_errno(err);
        }
        res = sym_gpgme_op_import_result(h->ctx);
        if (!res || res->considered == 0) {
                if (reterr)
                        *reterr = strdup("no OpenPGP key found");
                return -EBADMSG;
        }
        info.n_secret = (unsigned) MAX(res->secret_imported + res->secret_unchanged, 0);
        info.n_public = (unsigned) MAX(res->considered, 0);

        if (res->imports && res->imports->fpr) {
                gpgme_key_t key = NULL;
                _cleanup_free_ char *fpr = strdup(res->imports->fpr);
                if (!fpr)
                        return -ENOMEM;
                err = sym_gpgme_get_key(h->ctx, fpr, &key, 0);
                if (!err && key) {
                        if (key->uids && key->uids->uid) {
                                info.uid = strdup(key->uids->uid);
                                if (!info.uid) {
                                        sym_gpgme_key_unref(key);
                                        return -ENOMEM;
                                }
                        }
                        sym_gpgme_key_unref(key);
                }
        }
        *ret = info;
        return 0;
}

static void key_array_free(gpgme_key_t *keys) {
        if (!keys)
                return;
        for (gpgme_key_t *k = keys; *k; k++)
                sym_gpgme_key_unref(*k);
        free(keys);
}

static void key_array_freep(gpgme_key_t **keys) {
        key_array_free(*keys);
}

int gpg_encrypt_to_keyfile(const char *keys_path, const void *data, size_t len, void **ret, size_t *ret_size,
                           char **reterr) {
        _cleanup_(env_gpg_home_freep) EnvGpgHome *h = NULL;
        gpgme_ctx_t ctx;
        _cleanup_(sym_gpgme_data_releasep) gpgme_data_t keydata = NULL, plain = NULL, cipher = NULL;
        _cleanup_(key_array_freep) gpgme_key_t *keys = NULL;
        _cleanup_free_ char *keytext = NULL;
        gpgme_import_result_t ir;
        gpgme_encrypt_result_t er;
        gpgme_error_t e;
        size_t keylen, n_keys = 0, n_imports = 0;
        int r;

        r = env_gpg_dlopen(reterr);
        if (r < 0)
                return r;
        r = read_input(AT_FDCWD, keys_path, INPUT_FOLLOW, KEYFILE_MAX, &keytext, &keylen);
        if (r < 0) {
                return reterr_printf(reterr, r, "cannot read key file: %s", input_strerror(r));
        }

        r = env_gpg_home_new(&h);
        if (r < 0) {
                return reterr_printf(reterr, r, "cannot set up a temporary GnuPG home: %s", strerror(-r));
        }
        ctx = h->ctx;

        e = sym_gpgme_data_new_from_mem(&keydata, keytext, keylen, 0);
        if (e) {
                return reterr_printf(reterr, gpg_errno(e), "GPGME: %s", sym_gpgme_strerror(e));
        }
        sym_gpgme_set_armor(ctx, 0);
        sym_gpgme_set_offline(ctx, 1);

        e = sym_gpgme_op_import(ctx, keydata);
        if (e) {
                return reterr_printf(reterr, gpg_errno(e), "cannot import the keys: %s", sym_gpgme_strerror(e));
        }
        ir = sym_gpgme_op_import_result(ctx);
        for (gpgme_import_status_t s = ir ? ir->imports : NULL; s; s = s->next)
                n_imports++;
        if (!ir || ir->considered == 0 || n_imports == 0) {
                *reterr = strdup("no OpenPGP public key found in the key file");
                return -ENOKEY;
        }

        keys = calloc(n_imports + 1, sizeof(gpgme_key_t));
        if (!keys)
                return -ENOMEM;
        for (gpgme_import_status_t s = ir->imports; s; s = s->next) {
                _cleanup_(sym_gpgme_key_unrefp) gpgme_key_t key = NULL;
                bool dup = false;

                if (s->result || !s->fpr) {
                        return reterr_printf(reterr, -EKEYREJECTED, "cannot import key %s: %s",
                                             strna(s->fpr),
                                             sym_gpgme_strerror(s->result));
                }
                for (size_t i = 0; i < n_keys; i++)
                        if (streq(keys[i]->fpr, s->fpr))
                                dup = true; /* a secret key block lists its key twice */
                if (dup)
                        continue;

                e = sym_gpgme_get_key(ctx, s->fpr, &key, 0);
                if (e) {
                        return reterr_printf(reterr, gpg_errno(e), "cannot look up imported key %s: %s",
                                             s->fpr, sym_gpgme_strerror(e));
                }
                if (!key->can_encrypt || key->revoked || key->expired || key->disabled || key->invalid) {
                        return reterr_printf(reterr, -EKEYREJECTED, "key %s (%s) cannot encrypt: %s", s->fpr,
                                             key->uids && key->uids->uid ? key->uids->uid : "no user id",
                                             key->revoked   ? "revoked"
                                             : key->expired ? "expired"
                                                            : "no usable encryption subkey");
                }
                keys[n_keys++] = TAKE_PTR(key);
        }

        e = sym_gpgme_data_new_from_mem(&plain, data, len, 0);
        if (!e)
                e = sym_gpgme_data_new(&cipher);
        if (e) {
                return reterr_printf(reterr, gpg_errno(e), "GPGME: %s", sym_gpgme_strerror(e));
        }

        e = sym_gpgme_op_encrypt(ctx, keys, GPGME_ENCRYPT_ALWAYS_TRUST, plain, cipher);
        er = sym_gpgme_op_encrypt_result(ctx);
        if (er && er->invalid_recipients) {
                return reterr_printf(reterr, -EKEYREJECTED, "key %s cannot be used: %s",
                                     strna(er->invalid_recipients->fpr),
                                     sym_gpgme_strerror(er->invalid_recipients->reason));
        }
        if (e) {
                return reterr_printf(reterr, gpg_errno(e), "encryption failed: %s", sym_gpgme_strerror(e));
        }

        size_t outlen;
        char *out = sym_gpgme_data_release_and_get_mem(TAKE_PTR(cipher), &outlen);
        if (!out)
                return -ENOMEM;
        void *copy = malloc(MAX(outlen, (size_t) 1));
        if (!copy) {
                sym_gpgme_free(out);
                return -ENOMEM;
        }
        memcpy(copy, out, outlen);
        sym_gpgme_free(out);

        *ret = copy;
        *ret_size = outlen;
        return 0;
}

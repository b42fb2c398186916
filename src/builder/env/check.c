/**
 * The check of env/check.h that needs GPGME, run after the common schema: each OpenPGP key imports
 * with a secret key. A value the schema refused (wrong type, not armour-shaped) is not looked at
 * again here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "env/check.h"
#include "env/gpg.h"
#include "log.h"
#include "macro.h"
#include "reterr.h"
#include "strv.h"

typedef struct Checker {
        const Env *env;
        EnvFindings *out;
        int error;      /* -ENOMEM once adding a finding failed */
} Checker;

_printf_(5, 6) static void finding(Checker *c, bool error, const EnvNode *n, const char *path, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg || env_findings_add(c->out, c->env, error, n, path, "%s", msg) < 0)
                c->error = -ENOMEM;
}

/* The string at path if the schema let it through: a string scalar, shaped as begin says. */
static const char *string_at(const Env *e, const char *path, const char *begin) {
        const EnvNode *n = env_lookup(e, path);
        if (env_node_type(n) != ENV_NODE_SCALAR || env_node_kind(n) != ENV_SCALAR_STRING)
                return NULL;
        if (isempty(env_node_string(n)) || !strstr(env_node_string(n), begin))
                return NULL;
        return env_node_string(n);
}

static int check_pgp(Checker *c) {
        static const struct {
                const char *path;
                const char *uid;
        } keys[] = {
                { "appliance:backup:encrypt", "ecs_backup" },
                { "ecs:vault_encrypt", "ecs_mediaserver" },
                { "ecs:vault_sign", "ecs_authority" },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const char *armored = string_at(c->env, keys[i].path, "-----BEGIN PGP PRIVATE KEY BLOCK-----");
                const EnvNode *n = env_lookup(c->env, keys[i].path);
                if (!armored)
                        continue;
                /* one home per key: each block must be importable on its own */
                _cleanup_(env_gpg_home_freep) EnvGpgHome *h = NULL;
                _cleanup_free_ char *error = NULL;
                EnvGpgKeyInfo info = {};
                r = env_gpg_dlopen(&error);
                if (r < 0)
                        return log_error_errno(r, "%s holds an OpenPGP key: %s", keys[i].path, error);
                r = env_gpg_home_new(&h);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up a temporary GnuPG home: %m");
                r = env_gpg_import(h, armored, &info, &error);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        finding(c, true, n, keys[i].path,
                                "not an importable OpenPGP key: %s", strna(error));
                        continue;
                }
                if (info.n_secret == 0)
                        finding(c, true, n, keys[i].path,
                                "holds no OpenPGP secret key");
                else if (!info.uid || !strstr(info.uid, keys[i].uid))
                        finding(c, false, n, keys[i].path,
                                "OpenPGP user id is '%s', the appliance's own keys use '%s'", strna(info.uid),
                                keys[i].uid);
                env_gpg_key_info_done(&info);
        }
        return 0;
}

int env_check(const Env *e, EnvFindings *ret) {
        Checker c = { .env = e, .out = ret };
        int r;

        r = env_schema_check(e, ret);
        if (r < 0)
                return log_oom();
        r = check_pgp(&c);
        if (r < 0)
                return r;
        if (c.error < 0)
                return log_oom();
        return 0;
}

void env_findings_log(const EnvFindings *f) {
        for (size_t i = 0; i < f->n; i++)
                log_full(f->items[i].error ? LOG_ERR : LOG_WARNING, "%s", f->items[i].text);
}

int env_check_file(const char *path, bool log_findings, char **reterr) {
        _cleanup_(env_findings_done) EnvFindings f = {};
        _cleanup_(env_freep) Env *e = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = env_load_file(path, &e, &error);
        if (r < 0)
                return reterr_printf(reterr, r, "%s", error ?: strerror(-r));
        r = env_check(e, &f);
        if (r < 0)
                return reterr_printf(reterr, r, "%s: the checks could not run: %s", path, strerror(-r));
        if (log_findings)
                env_findings_log(&f);
        if (f.errors > 0 && log_findings)
                return reterr_printf(reterr, -EINVAL, "%s: invalid env: %u error(s), %u warning(s)", path, f.errors,
                                     f.warnings);
        if (f.errors > 0)
                return reterr_printf(reterr, -EINVAL, "%s%s", env_findings_first_error(&f),
                                     f.errors > 1 ? " (and more: run 'env check')" : "");
        return 0;
}

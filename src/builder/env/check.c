/**
 * 'appliance-builder env check' and the checks behind it (env-check.h): a schema of the keys the
 * appliance reads (original-appliance.md section 2), then the cryptographic material: the ssl
 * key/cert pair and the DKIM key with OpenSSL, the OpenPGP keys with GPGME.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


#include "cleanup.h"
#include "crypto.h"
#include "env/check.h"
#include "env/gpg.h"
#include "cli/env-verbs.h"
#include "env.h"
#include "log.h"
#include "macro.h"
#include "strv.h"

typedef enum FieldType {
        F_ANY,
        F_STRING,       /* a scalar that resolves to a string */
        F_TEXT,         /* any scalar (numbers allowed) */
        F_BOOL,
        F_MAP,
        F_STRING_LIST,
        F_MAP_LIST,     /* a list of mappings, each checked against children */
} FieldType;

typedef struct Field {
        const char *name;
        FieldType type;
        bool required;
        const struct Field *children;
} Field;

#define END { NULL, F_ANY, false, NULL }

static const Field git_fields[] = {
        { "branch", F_TEXT, false, NULL },
        { "source", F_STRING, false, NULL },
        { "commitid", F_TEXT, false, NULL },
        END
};

static const Field file_fields[] = {
        { "path", F_STRING, true, NULL },
        { "contents", F_TEXT, false, NULL },
        { "content", F_TEXT, false, NULL },
        { "owner", F_STRING, false, NULL },
        { "permissions", F_STRING, false, NULL },
        END
};

static const Field appliance_fields[] = {
        { "standby", F_BOOL, false, NULL },
        { "domain", F_STRING, true, NULL },
        { "allowed_hosts", F_ANY, false, NULL },
        { "ssl", F_MAP, false, (const Field[]) {
                { "letsencrypt", F_MAP, false, (const Field[]) { { "enabled", F_BOOL, false, NULL }, END } },
                { "client_certs_mandatory", F_BOOL, false, NULL },
                { "key", F_STRING, false, NULL },
                { "cert", F_STRING, false, NULL },
                END } },
        { "sentry", F_MAP, false, (const Field[]) {
                { "dsn", F_STRING, false, NULL },
                { "hide_pillar", F_BOOL, false, NULL },
                { "hide_grains", F_BOOL, false, NULL },
                { "report_errors_only", F_BOOL, false, NULL },
                { "change_level", F_TEXT, false, NULL },
                { "error_level", F_TEXT, false, NULL },
                { "tags", F_ANY, false, NULL },
                END } },
        { "metric", F_MAP, false, (const Field[]) {
                { "exporter", F_BOOL, false, NULL },
                { "server", F_BOOL, false, NULL },
                { "gui", F_BOOL, false, NULL },
                { "pghero", F_BOOL, false, NULL },
                END } },
        { "git", F_MAP, false, git_fields },
        { "extra", F_MAP, false, (const Field[]) {
                { "files", F_MAP_LIST, false, file_fields },
                { "packages", F_STRING_LIST, false, NULL },
                { "states", F_STRING, false, NULL },
                END } },
        { "update", F_MAP, false, (const Field[]) {
                { "automatic", F_BOOL, false, NULL },
                { "oncalendar", F_STRING, false, NULL },
                END } },
        { "storage", F_MAP, false, (const Field[]) {
                { "setup", F_MAP, false, NULL },
                { "ignore", F_MAP, false, (const Field[]) {
                        { "volatile", F_BOOL, false, NULL },
                        { "data", F_BOOL, false, NULL },
                        END } },
                { "proxy_cache", F_ANY, false, NULL },
                { "grow_root", F_ANY, false, NULL },
                END } },
        { "dkim", F_MAP, false, (const Field[]) { { "key", F_STRING, false, NULL }, END } },
        { "backup", F_MAP, true, (const Field[]) {
                { "url", F_STRING, false, NULL },
                { "options", F_STRING, false, NULL },
                { "mount", F_MAP, false, (const Field[]) {
                        { "type", F_STRING, false, NULL },
                        { "source", F_STRING, false, NULL },
                        { "target", F_STRING, false, NULL },
                        { "options", F_STRING, false, NULL },
                        END } },
                { "encrypt", F_STRING, true, NULL },
                END } },
        END
};

static const Field ecs_fields[] = {
        { "git", F_MAP, false, git_fields },
        { "database", F_STRING, false, NULL },
        { "docs", F_MAP, false, (const Field[]) { { "git", F_MAP, false, git_fields }, END } },
        { "userswitcher", F_MAP, false, (const Field[]) {
                { "enabled", F_BOOL, false, NULL },
                { "parameter", F_ANY, false, NULL },
                END } },
        { "migrate", F_MAP, false, (const Field[]) { { "auto", F_ANY, false, NULL }, END } },
        { "settings", F_STRING, true, NULL },
        { "vault_encrypt", F_STRING, true, NULL },
        { "vault_sign", F_STRING, true, NULL },
        END
};

static const Field root_fields[] = {
        { "ssh_authorized_keys", F_STRING_LIST, false, NULL },
        { "ssh_deprecated_keys", F_STRING_LIST, false, NULL },
        { "disable_root", F_BOOL, false, NULL },
        { "appliance", F_MAP, true, appliance_fields },
        { "ecs", F_MAP, true, ecs_fields },
        { "USERDATA_TYPE", F_STRING, false, NULL },
        { "http_proxy", F_STRING, false, NULL },
        { "no_proxy", F_STRING, false, NULL },
        { "timezone", F_STRING, false, NULL },
        { "kernel", F_ANY, false, NULL },
        END
};

typedef struct Checker {
        const Env *env;
        EnvCheckResult result;
} Checker;

static void finding(Checker *c, bool error, unsigned line, unsigned column, const char *path, const char *fmt, ...)
        _printf_(6, 7);
static void finding(Checker *c, bool error, unsigned line, unsigned column, const char *path, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (error)
                c->result.errors++;
        else
                c->result.warnings++;
        log_full(error ? LOG_ERR : LOG_WARNING, "%s:%u:%u: %s: %s", env_name(c->env), line, column,
                 isempty(path) ? "(top level)" : path, strna(msg));
}

static const char *kind_name(const EnvNode *n) {
        switch (env_node_type(n)) {
        case ENV_NODE_NULL:
                return "nothing";
        case ENV_NODE_SEQUENCE:
                return "a list";
        case ENV_NODE_MAPPING:
                return "a mapping";
        default:
                break;
        }
        switch (env_node_kind(n)) {
        case ENV_SCALAR_BOOL:
                return "a boolean";
        case ENV_SCALAR_INT:
                return "an integer";
        case ENV_SCALAR_FLOAT:
                return "a number";
        default:
                return "a string";
        }
}

static char *path_join(const char *a, const char *b) {
        char *s = NULL;
        if (asprintf(&s, "%s%s%s", a, isempty(a) ? "" : ":", b) < 0)
                return NULL;
        return s;
}

static int check_mapping(Checker *c, const EnvNode *m, const Field *fields, const char *path, unsigned kline,
                         unsigned kcol);

static int check_value(Checker *c, const EnvNode *n, const Field *f, const char *path, unsigned kline, unsigned kcol) {
        unsigned line = env_node_line(n), col = env_node_column(n);

        switch (f->type) {
        case F_ANY:
                return 0;
        case F_STRING:
        case F_TEXT:
                if (env_node_type(n) != ENV_NODE_SCALAR)
                        finding(c, true, line, col, path, "expected a string, found %s", kind_name(n));
                else if (f->type == F_STRING && env_node_kind(n) != ENV_SCALAR_STRING)
                        finding(c, true, line, col, path, "expected a string, found %s (quote the value)",
                                kind_name(n));
                return 0;
        case F_BOOL:
                if (env_node_bool(n) < 0)
                        finding(c, true, line, col, path, "expected true or false, found %s", kind_name(n));
                else if (env_node_kind(n) == ENV_SCALAR_STRING)
                        finding(c, false, line, col, path, "a quoted boolean; write it without quotes");
                return 0;
        case F_MAP:
                if (env_node_type(n) != ENV_NODE_MAPPING) {
                        finding(c, true, line, col, path, "expected a mapping, found %s", kind_name(n));
                        return 0;
                }
                return f->children ? check_mapping(c, n, f->children, path, kline, kcol) : 0;
        case F_STRING_LIST:
        case F_MAP_LIST:
                if (env_node_type(n) != ENV_NODE_SEQUENCE) {
                        finding(c, true, line, col, path, "expected a list, found %s", kind_name(n));
                        return 0;
                }
                for (size_t i = 0; i < env_node_size(n); i++) {
                        const EnvNode *item = env_node_item(n, i);
                        char idx[32];
                        snprintf(idx, sizeof(idx), "%zu", i);
                        _cleanup_free_ char *p = path_join(path, idx);
                        if (!p)
                                return -ENOMEM;
                        if (f->type == F_STRING_LIST) {
                                if (env_node_type(item) != ENV_NODE_SCALAR)
                                        finding(c, true, env_node_line(item), env_node_column(item), p,
                                                "expected a string, found %s", kind_name(item));
                                continue;
                        }
                        if (env_node_type(item) != ENV_NODE_MAPPING) {
                                finding(c, true, env_node_line(item), env_node_column(item), p,
                                        "expected a mapping, found %s", kind_name(item));
                                continue;
                        }
                        int r = check_mapping(c, item, f->children, p, env_node_line(item), env_node_column(item));
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        return 0;
}

/* kline/kcol: where the mapping's own key is (reported for missing required keys) */
static int check_mapping(Checker *c, const EnvNode *m, const Field *fields, const char *path, unsigned kline,
                         unsigned kcol) {
        int r;

        for (size_t i = 0; i < env_node_size(m); i++) {
                const char *key = env_node_key(m, i);
                const Field *f = NULL;
                _cleanup_free_ char *p = path_join(path, key);
                if (!p)
                        return -ENOMEM;
                for (const Field *x = fields; x->name; x++)
                        if (streq(x->name, key))
                                f = x;
                if (!f) {
                        finding(c, false, env_node_key_line(m, i), env_node_key_column(m, i), p,
                                "unknown key, ignored by the appliance");
                        continue;
                }
                const EnvNode *v = env_node_item(m, i);
                if (env_node_type(v) == ENV_NODE_NULL)
                        continue;   /* unset; required ones are reported below */
                r = check_value(c, v, f, p, env_node_key_line(m, i), env_node_key_column(m, i));
                if (r < 0)
                        return r;
        }
        for (const Field *x = fields; x->name; x++) {
                if (!x->required)
                        continue;
                const EnvNode *v = env_node_child(m, x->name);
                if (env_node_type(v) != ENV_NODE_NULL)
                        continue;
                _cleanup_free_ char *p = path_join(path, x->name);
                if (!p)
                        return -ENOMEM;
                finding(c, true, v ? env_node_line(v) : kline, v ? env_node_column(v) : kcol,
                        p, "required key %s", v ? "has no value" : "is missing");
        }
        return 0;
}

/* Returns the string at path if it is a non-empty string scalar, else NULL. */
static const char *string_at(const Env *e, const char *path) {
        const EnvNode *n = env_lookup(e, path);
        if (env_node_type(n) != ENV_NODE_SCALAR || env_node_kind(n) != ENV_SCALAR_STRING)
                return NULL;
        return isempty(env_node_string(n)) ? NULL : env_node_string(n);
}

static void check_hostname(Checker *c, const char *path) {
        const EnvNode *n = env_lookup(c->env, path);
        const char *d = string_at(c->env, path);
        if (!d)
                return;
        bool ok = strlen(d) <= 253 && d[0] != '.' && d[0] != '-' && !endswith(d, ".") && !strstr(d, "..");
        for (const char *p = d; ok && *p; p++)
                ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                        *p == '-' || *p == '.';
        if (!ok)
                finding(c, true, env_node_line(n), env_node_column(n), path, "'%s' is not a valid host name", d);
}

static void check_ssl(Checker *c) {
        const Env *e = c->env;
        const char *key = string_at(e, "appliance:ssl:key"), *cert = string_at(e, "appliance:ssl:cert");
        const EnvNode *kn = env_lookup(e, "appliance:ssl:key"), *cn = env_lookup(e, "appliance:ssl:cert");

        if (!key && !cert)
                return;
        if (!key || !cert) {
                const EnvNode *n = key ? kn : cn;
                finding(c, true, env_node_line(n), env_node_column(n), key ? "appliance:ssl:key" : "appliance:ssl:cert",
                        "ssl:key and ssl:cert must be set together");
                return;
        }
        switch (pem_pair_check(key, cert)) {
        case PEM_PAIR_OK:
                break;
        case PEM_PAIR_BAD_KEY:
                finding(c, true, env_node_line(kn), env_node_column(kn), "appliance:ssl:key",
                        "not a PEM private key (or it is encrypted)");
                break;
        case PEM_PAIR_BAD_CERT:
                finding(c, true, env_node_line(cn), env_node_column(cn), "appliance:ssl:cert", "not a PEM certificate");
                break;
        case PEM_PAIR_MISMATCH:
                finding(c, true, env_node_line(cn), env_node_column(cn), "appliance:ssl:cert",
                        "the certificate does not belong to appliance:ssl:key");
                break;
        }
}

static void check_dkim(Checker *c) {
        const char *key = string_at(c->env, "appliance:dkim:key");
        const EnvNode *n = env_lookup(c->env, "appliance:dkim:key");
        if (!key)
                return;
        PemKeyType type;
        if (pem_private_key_type(key, &type) < 0)
                finding(c, true, env_node_line(n), env_node_column(n), "appliance:dkim:key",
                        "not a PEM private key (or it is encrypted)");
        else if (type != PEM_KEY_RSA)
                finding(c, true, env_node_line(n), env_node_column(n), "appliance:dkim:key", "not an RSA key");
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
                const char *armored = string_at(c->env, keys[i].path);
                const EnvNode *n = env_lookup(c->env, keys[i].path);
                if (!armored)
                        continue;
                /* one home per key: each block must be importable on its own */
                _cleanup_(env_gpg_home_freep) EnvGpgHome *h = NULL;
                _cleanup_free_ char *error = NULL;
                EnvGpgKeyInfo info = {};
                r = env_gpg_home_new(&h);
                if (r < 0)
                        return log_error_errno(r, "Failed to set up a temporary GnuPG home: %m");
                r = env_gpg_import(h, armored, &info, &error);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        finding(c, true, env_node_line(n), env_node_column(n), keys[i].path,
                                "not an importable OpenPGP key: %s", strna(error));
                        continue;
                }
                if (info.n_secret == 0)
                        finding(c, true, env_node_line(n), env_node_column(n), keys[i].path,
                                "holds no OpenPGP secret key");
                else if (!info.uid || !strstr(info.uid, keys[i].uid))
                        finding(c, false, env_node_line(n), env_node_column(n), keys[i].path,
                                "OpenPGP user id is '%s', the appliance's own keys use '%s'", strna(info.uid),
                                keys[i].uid);
                env_gpg_key_info_done(&info);
        }
        return 0;
}

static void check_files(Checker *c) {
        const EnvNode *files = env_lookup(c->env, "appliance:extra:files");
        for (size_t i = 0; i < env_node_size(files) && env_node_type(files) == ENV_NODE_SEQUENCE; i++) {
                const EnvNode *f = env_node_item(files, i);
                const EnvNode *p = env_node_child(f, "path"), *old = env_node_child(f, "content");
                char path[64];
                if (env_node_type(f) != ENV_NODE_MAPPING)
                        continue;
                if (env_node_string(p) && env_node_string(p)[0] != '/') {
                        snprintf(path, sizeof(path), "appliance:extra:files:%zu:path", i);
                        finding(c, true, env_node_line(p), env_node_column(p), path, "must be an absolute path");
                }
                if (old) {
                        snprintf(path, sizeof(path), "appliance:extra:files:%zu:content", i);
                        finding(c, false, env_node_line(old), env_node_column(old), path,
                                "deprecated spelling, use 'contents'");
                }
        }
}

int env_check(const Env *e, EnvCheckResult *ret) {
        Checker c = { .env = e };
        int r;

        STRV_FOREACH(w, env_warnings(e)) {
                log_warning("%s", *w);
                c.result.warnings++;
        }
        r = check_mapping(&c, env_root(e), root_fields, "", 1, 1);
        if (r < 0)
                return r;
        check_hostname(&c, "appliance:domain");
        check_files(&c);
        check_ssl(&c);
        check_dkim(&c);
        r = check_pgp(&c);
        if (r < 0)
                return r;
        *ret = c.result;
        return 0;
}

static void check_help(void) {
        printf("Usage: %s env check ENV.YML\n\n"
               "Validates an env.yml: the '#cloud-config' header and YAML syntax, required keys and\n"
               "their types, appliance:ssl:key/cert as a matching PEM pair, the DKIM key, and that the\n"
               "OpenPGP keys (appliance:backup:encrypt, ecs:vault_encrypt, ecs:vault_sign) import.\n"
               "Unknown keys and non-ASCII text are warnings. Each finding names the file, line,\n"
               "column and key path.\n\n"
               "Options:\n"
               "  -h, --help    show this help\n\n"
               "Exit status:\n"
               "  0  valid (warnings may have been printed)\n"
               "  1  invalid, unreadable or not an env.yml\n"
               "  2  usage error\n",
               log_program());
}

int verb_env_check(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        check_help();
                        return 0;
                default:
                        fprintf(stderr, "Try '%s env check --help' for more information.\n", log_program());
                        return 2;
                }
        if (argc - optind != 1) {
                log_error("Expected exactly one argument: the env.yml file.");
                fprintf(stderr, "Try '%s env check --help' for more information.\n", log_program());
                return 2;
        }

        _cleanup_(env_freep) Env *e = NULL;
        _cleanup_free_ char *error = NULL;
        r = env_load_file(argv[optind], &e, &error);
        if (r < 0) {
                if (r == -ENOMEM)
                        return log_oom(), 1;
                log_error("%s", error ?: strerror(-r));
                return 1;
        }

        EnvCheckResult res = {};
        r = env_check(e, &res);
        if (r < 0)
                return 1;
        if (res.errors > 0) {
                log_error("%s: %u error(s), %u warning(s).", argv[optind], res.errors, res.warnings);
                return 1;
        }
        log_info("%s: valid (%u warning(s)).", argv[optind], res.warnings);
        return 0;
}

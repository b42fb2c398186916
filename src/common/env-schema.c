/**
 * The env schema (env-schema.h): a table of the keys the appliance reads, their types, whether a
 * section needs them, and the rule each value must follow, walked over the loaded tree.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "crypto.h"
#include "env-schema.h"
#include "macro.h"
#include "strv.h"

typedef enum FieldType {
        F_ANY,
        F_STRING,       /* a scalar that resolves to a string */
        F_TEXT,         /* any scalar (numbers allowed) */
        F_BOOL,
        F_MAP,
        F_STRING_LIST,  /* a list of strings, each checked with rule */
        F_MAP_LIST,     /* a list of mappings, each checked against children */
} FieldType;

/* A rule returns NULL if the string is fine, else what is wrong (static text). */
typedef const char *(*Rule)(const char *s);

typedef struct Field {
        const char *name;
        FieldType type;
        bool required;  /* when the mapping holding it is present */
        const struct Field *children;
        Rule rule;
} Field;

#define END { NULL, F_ANY, false, NULL, NULL }

static const char *rule_hostname(const char *s) {
        return env_hostname_is_valid(s) ? NULL
                                        : "is not a valid host name (RFC 1123: labels of 1 to 63 letters, digits "
                                          "and '-', no '-' at either end of a label, 253 characters in all)";
}

static const char *rule_file_path(const char *s) {
        return env_path_is_valid(s) && !endswith(s, "/") ? NULL
                                                         : "must be an absolute path (no '..', not a directory)";
}

static const char *rule_path(const char *s) {
        return env_path_is_valid(s) ? NULL : "must be an absolute path (no '..')";
}

static const char *rule_owner(const char *s) {
        return env_owner_is_valid(s) ? NULL
                                     : "must be \"user\" or \"user:group\" (names, or numeric ids other than -1)";
}

static const char *rule_mode(const char *s) {
        return env_file_mode_is_valid(s) ? NULL : "must be an octal mode such as \"0600\"";
}

static const char *rule_ssh_key(const char *s) {
        return env_ssh_key_line_is_valid(s) ? NULL : "not an ssh public key (\"ssh-ed25519 AAAA... comment\")";
}

static const char *rule_one_line(const char *s) {
        return !isempty(s) && !strpbrk(s, "\r\n") ? NULL : "must be one non-empty line";
}

static const char *rule_private_key(const char *s) {
        return strstr(s, "-----BEGIN ") && strstr(s, "PRIVATE KEY-----") ? NULL : "must be a PEM private key";
}

static const char *rule_certificate(const char *s) {
        return strstr(s, "-----BEGIN CERTIFICATE-----") ? NULL : "must be a PEM certificate";
}

static const char *rule_pgp_secret(const char *s) {
        return strstr(s, "-----BEGIN PGP PRIVATE KEY BLOCK-----")
                       ? NULL
                       : "must be an ASCII-armored OpenPGP secret key (-----BEGIN PGP PRIVATE KEY BLOCK-----)";
}

static const Field git_fields[] = {
        { "branch", F_TEXT, false, NULL, NULL },
        { "source", F_STRING, false, NULL, NULL },
        { "commitid", F_TEXT, false, NULL, NULL },
        END
};

static const Field file_fields[] = {
        { "path", F_STRING, true, NULL, rule_file_path },
        { "contents", F_STRING, false, NULL, NULL },
        { "content", F_STRING, false, NULL, NULL },
        { "owner", F_STRING, false, NULL, rule_owner },
        { "permissions", F_STRING, false, NULL, rule_mode },
        END
};

static const Field appliance_fields[] = {
        { "standby", F_BOOL, false, NULL, NULL },
        { "domain", F_STRING, true, NULL, rule_hostname },
        { "allowed_hosts", F_ANY, false, NULL, NULL },
        { "ssl", F_MAP, false, (const Field[]) {
                { "letsencrypt", F_MAP, false, (const Field[]) { { "enabled", F_BOOL, false, NULL, NULL }, END }, NULL },
                { "client_certs_mandatory", F_BOOL, false, NULL, NULL },
                { "key", F_STRING, false, NULL, rule_private_key },
                { "cert", F_STRING, false, NULL, rule_certificate },
                END }, NULL },
        { "sentry", F_MAP, false, (const Field[]) {
                { "dsn", F_STRING, false, NULL, NULL },
                { "hide_pillar", F_BOOL, false, NULL, NULL },
                { "hide_grains", F_BOOL, false, NULL, NULL },
                { "report_errors_only", F_BOOL, false, NULL, NULL },
                { "change_level", F_TEXT, false, NULL, NULL },
                { "error_level", F_TEXT, false, NULL, NULL },
                { "tags", F_ANY, false, NULL, NULL },
                END }, NULL },
        { "metric", F_MAP, false, (const Field[]) {
                { "exporter", F_BOOL, false, NULL, NULL },
                { "server", F_BOOL, false, NULL, NULL },
                { "gui", F_BOOL, false, NULL, NULL },
                { "pghero", F_BOOL, false, NULL, NULL },
                END }, NULL },
        { "git", F_MAP, false, git_fields, NULL },
        { "extra", F_MAP, false, (const Field[]) {
                { "files", F_MAP_LIST, false, file_fields, NULL },
                { "packages", F_STRING_LIST, false, NULL, NULL },
                { "states", F_STRING, false, NULL, NULL },
                END }, NULL },
        { "update", F_MAP, false, (const Field[]) {
                { "automatic", F_BOOL, false, NULL, NULL },
                { "oncalendar", F_STRING, false, NULL, rule_one_line },
                END }, NULL },
        { "storage", F_MAP, false, (const Field[]) {
                { "setup", F_MAP, false, NULL, NULL },
                { "ignore", F_MAP, false, (const Field[]) {
                        { "volatile", F_BOOL, false, NULL, NULL },
                        { "data", F_BOOL, false, NULL, NULL },
                        END }, NULL },
                { "proxy_cache", F_ANY, false, NULL, NULL },
                { "grow_root", F_BOOL, false, NULL, NULL },
                END }, NULL },
        { "dkim", F_MAP, false, (const Field[]) { { "key", F_STRING, false, NULL, rule_private_key }, END }, NULL },
        { "backup", F_MAP, false, (const Field[]) {
                { "url", F_STRING, false, NULL, NULL },
                { "options", F_STRING, false, NULL, NULL },
                { "mount", F_MAP, false, (const Field[]) {
                        { "type", F_STRING, false, NULL, NULL },
                        { "source", F_STRING, false, NULL, NULL },
                        { "target", F_STRING, false, NULL, rule_path },
                        { "options", F_STRING, false, NULL, NULL },
                        END }, NULL },
                { "encrypt", F_STRING, true, NULL, rule_pgp_secret },
                { "oncalendar", F_STRING, false, NULL, rule_one_line },
                END }, NULL },
        END
};

static const Field ecs_fields[] = {
        { "git", F_MAP, false, git_fields, NULL },
        { "database", F_STRING, false, NULL, NULL },
        { "docs", F_MAP, false, (const Field[]) { { "git", F_MAP, false, git_fields, NULL }, END }, NULL },
        { "userswitcher", F_MAP, false, (const Field[]) {
                { "enabled", F_BOOL, false, NULL, NULL },
                { "parameter", F_ANY, false, NULL, NULL },
                END }, NULL },
        { "migrate", F_MAP, false, (const Field[]) { { "auto", F_ANY, false, NULL, NULL }, END }, NULL },
        { "settings", F_STRING, true, NULL, NULL },
        { "vault_encrypt", F_STRING, true, NULL, rule_pgp_secret },
        { "vault_sign", F_STRING, true, NULL, rule_pgp_secret },
        END
};

static const Field root_fields[] = {
        { "ssh_authorized_keys", F_STRING_LIST, false, NULL, rule_ssh_key },
        { "ssh_deprecated_keys", F_STRING_LIST, false, NULL, rule_ssh_key },
        { "disable_root", F_BOOL, false, NULL, NULL },
        { "appliance", F_MAP, true, appliance_fields, NULL },
        { "ecs", F_MAP, false, ecs_fields, NULL },
        { "USERDATA_TYPE", F_STRING, false, NULL, NULL },
        { "http_proxy", F_STRING, false, NULL, NULL },
        { "no_proxy", F_STRING, false, NULL, NULL },
        { "timezone", F_STRING, false, NULL, NULL },
        { "kernel", F_ANY, false, NULL, NULL },
        END
};

/* ---- value rules ---- */

bool env_hostname_is_valid(const char *s) {
        size_t label = 0, total = 0;

        if (isempty(s))
                return false;
        for (const char *c = s; *c; c++, total++) {
                if (*c == '.') {
                        if (label == 0 || c[-1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-'))
                        return false;
                if (*c == '-' && label == 0)
                        return false;
                if (++label > 63)
                        return false;
        }
        return total <= 253 && label > 0 && s[total - 1] != '-';
}

bool env_ssh_key_line_is_valid(const char *s) {
        static const char *const prefixes[] = { "ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-" };
        const char *blob;

        if (isempty(s) || strpbrk(s, "\r\n"))
                return false;
        /* Options before the key type are allowed in authorized_keys; find the type. */
        for (const char *p = s; p && *p; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL)
                for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                        if (startswith(p, prefixes[i])) {
                                blob = strchr(p, ' ');
                                if (!blob)
                                        return false;
                                blob += strspn(blob, " ");
                                return strspn(blob, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") >=
                                       16;
                        }
        return false;
}

/* A user or group: a numeric id below 4294967295 ((uid_t) -1 means "no change" to chown()), or a
 * name as useradd accepts it: [A-Za-z_][A-Za-z0-9_.-]*, optionally ending in '$', 1..32. */
static bool owner_part_is_valid(const char *s, size_t n) {
        if (n == 0 || n > 32)
                return false;
        if (strspn(s, "0123456789") >= n) {
                unsigned long long v = 0;
                for (size_t i = 0; i < n; i++) {
                        v = v * 10 + (unsigned long long) (s[i] - '0');
                        if (v >= 4294967295ULL)
                                return false;
                }
                return true;
        }
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++) {
                char c = s[i];
                if (c == '$' && i == n - 1)
                        break;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '.' || c == '-'))
                        return false;
        }
        return true;
}

bool env_owner_is_valid(const char *s) {
        const char *colon;

        if (isempty(s))
                return false;
        colon = strchr(s, ':');
        if (!colon)
                return owner_part_is_valid(s, strlen(s));
        return owner_part_is_valid(s, (size_t) (colon - s)) && owner_part_is_valid(colon + 1, strlen(colon + 1));
}

bool env_file_mode_is_valid(const char *s) {
        size_t n;

        if (isempty(s))
                return false;
        n = strspn(s, "01234567");
        if (n != strlen(s) || n > 5)
                return false;
        return strtoul(s, NULL, 8) <= 07777;
}

bool env_path_is_valid(const char *s) {
        if (isempty(s) || s[0] != '/' || strpbrk(s, "\r\n"))
                return false;
        for (const char *c = s; c; c = strchr(c + 1, '/'))
                if (startswith(c, "/..") && (c[3] == '/' || c[3] == 0))
                        return false;
        return true;
}

/* ---- findings ---- */

static int add_at(EnvFindings *f, const Env *e, bool error, unsigned line, unsigned column, const char *path,
                  const char *msg) {
        EnvFinding *n;
        char *text = NULL;

        if (asprintf(&text, "%s:%u:%u: %s: %s", env_name(e), line, column, isempty(path) ? "(top level)" : path,
                     msg) < 0)
                return -ENOMEM;
        n = reallocarray(f->items, f->n + 1, sizeof(EnvFinding));
        if (!n) {
                free(text);
                return -ENOMEM;
        }
        f->items = n;
        f->items[f->n++] = (EnvFinding) { .error = error, .text = text };
        if (error)
                f->errors++;
        else
                f->warnings++;
        return 0;
}

_printf_(7, 0) static int add_atv(EnvFindings *f, const Env *e, bool error, unsigned line, unsigned column,
                                  const char *path, const char *fmt, va_list ap) {
        _cleanup_free_ char *msg = NULL;

        if (vasprintf(&msg, fmt, ap) < 0)
                return -ENOMEM;
        return add_at(f, e, error, line, column, path, msg);
}

_printf_(7, 8) static int add_atf(EnvFindings *f, const Env *e, bool error, unsigned line, unsigned column,
                                  const char *path, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = add_atv(f, e, error, line, column, path, fmt, ap);
        va_end(ap);
        return r;
}

int env_findings_add(EnvFindings *f, const Env *e, bool error, const EnvNode *n, const char *path, const char *fmt,
                     ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = add_atv(f, e, error, n ? env_node_line(n) : 1, n ? env_node_column(n) : 1, path, fmt, ap);
        va_end(ap);
        return r;
}

const char *env_findings_first_error(const EnvFindings *f) {
        for (size_t i = 0; i < f->n; i++)
                if (f->items[i].error)
                        return f->items[i].text;
        return NULL;
}

void env_findings_done(EnvFindings *f) {
        for (size_t i = 0; i < f->n; i++)
                free(f->items[i].text);
        free(f->items);
        *f = (EnvFindings) {};
}

/* ---- the walk ---- */

typedef struct Checker {
        const Env *env;
        EnvFindings *out;
} Checker;

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

/* A value quoted into a message: at most 64 bytes of it, control characters shown as '?'. */
static void shown(const char *s, char buf[static 72]) {
        size_t n = 0;

        for (; s[n] && n < 64; n++)
                buf[n] = (unsigned char) s[n] < ' ' || s[n] == 0x7f ? '?' : s[n];
        strcpy(buf + n, s[n] ? "..." : "");
}

static int check_string(Checker *c, const EnvNode *n, const Field *f, const char *path) {
        unsigned line = env_node_line(n), col = env_node_column(n);
        const char *why;
        char buf[72];

        if (env_node_type(n) != ENV_NODE_SCALAR)
                return add_atf(c->out, c->env, true, line, col, path, "expected a string, found %s", kind_name(n));
        if (f->type != F_TEXT && env_node_kind(n) != ENV_SCALAR_STRING)
                return add_atf(c->out, c->env, true, line, col, path, "expected a string, found %s (quote the value)",
                               kind_name(n));
        if (!f->rule)
                return 0;
        why = f->rule(env_node_string(n));
        if (!why)
                return 0;
        /* A key's value is never quoted into a finding, a finding may end up on a page. */
        if (f->rule == rule_private_key || f->rule == rule_pgp_secret)
                return add_at(c->out, c->env, true, line, col, path, why);
        shown(env_node_string(n), buf);
        /* "'VALUE' is not ..." reads best where the value is the subject, "must be ...: 'VALUE'" else */
        if (startswith(why, "is "))
                return add_atf(c->out, c->env, true, line, col, path, "'%s' %s", buf, why);
        return add_atf(c->out, c->env, true, line, col, path, "%s: '%s'", why, buf);
}

static int check_mapping(Checker *c, const EnvNode *m, const Field *fields, const char *path, unsigned kline,
                         unsigned kcol);

static int check_value(Checker *c, const EnvNode *n, const Field *f, const char *path, unsigned kline, unsigned kcol) {
        unsigned line = env_node_line(n), col = env_node_column(n);
        int r;

        switch (f->type) {
        case F_ANY:
                return 0;
        case F_STRING:
        case F_TEXT:
                return check_string(c, n, f, path);
        case F_BOOL:
                if (env_node_bool(n) < 0)
                        return add_atf(c->out, c->env, true, line, col, path, "expected true or false, found %s",
                                       kind_name(n));
                if (env_node_kind(n) == ENV_SCALAR_STRING)
                        return add_at(c->out, c->env, false, line, col, path,
                                      "a quoted boolean; write it without quotes");
                return 0;
        case F_MAP:
                if (env_node_type(n) != ENV_NODE_MAPPING)
                        return add_atf(c->out, c->env, true, line, col, path, "expected a mapping, found %s",
                                       kind_name(n));
                return f->children ? check_mapping(c, n, f->children, path, kline, kcol) : 0;
        case F_STRING_LIST:
        case F_MAP_LIST:
                if (env_node_type(n) != ENV_NODE_SEQUENCE)
                        return add_atf(c->out, c->env, true, line, col, path, "expected a list, found %s",
                                       kind_name(n));
                for (size_t i = 0; i < env_node_size(n); i++) {
                        const EnvNode *item = env_node_item(n, i);
                        const Field itemf = { .name = f->name, .type = F_STRING, .rule = f->rule };
                        char idx[32];

                        snprintf(idx, sizeof(idx), "%zu", i);
                        _cleanup_free_ char *p = path_join(path, idx);
                        if (!p)
                                return -ENOMEM;
                        if (f->type == F_STRING_LIST)
                                r = check_string(c, item, &itemf, p);
                        else if (env_node_type(item) != ENV_NODE_MAPPING)
                                r = add_atf(c->out, c->env, true, env_node_line(item), env_node_column(item), p,
                                            "expected a mapping, found %s", kind_name(item));
                        else
                                r = check_mapping(c, item, f->children, p, env_node_line(item), env_node_column(item));
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
                        r = add_at(c->out, c->env, false, env_node_key_line(m, i), env_node_key_column(m, i), p,
                                   "unknown key, ignored by the appliance");
                        if (r < 0)
                                return r;
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
                r = add_atf(c->out, c->env, true, v ? env_node_line(v) : kline, v ? env_node_column(v) : kcol, p,
                            "required key %s", v ? "has no value" : "is missing");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Rules across keys. */
static int check_ssl_pair(Checker *c) {
        const EnvNode *key = env_lookup(c->env, "appliance:ssl:key"), *cert = env_lookup(c->env, "appliance:ssl:cert");
        bool k = env_node_type(key) != ENV_NODE_NULL, x = env_node_type(cert) != ENV_NODE_NULL;

        if (k == x)
                return 0;
        return env_findings_add(c->out, c->env, true, k ? key : cert, k ? "appliance:ssl:key" : "appliance:ssl:cert",
                                "ssl:key and ssl:cert must be set together");
}

/* The ssl pair and the DKIM key as OpenSSL reads them, where the schema let them through. */
static const char *shaped_string(const Env *e, const char *path, Rule rule) {
        const EnvNode *n = env_lookup(e, path);
        if (env_node_type(n) != ENV_NODE_SCALAR || env_node_kind(n) != ENV_SCALAR_STRING)
                return NULL;
        return rule(env_node_string(n)) ? NULL : env_node_string(n);
}

static int check_keys(Checker *c) {
        const char *key = shaped_string(c->env, "appliance:ssl:key", rule_private_key),
                   *cert = shaped_string(c->env, "appliance:ssl:cert", rule_certificate),
                   *dkim = shaped_string(c->env, "appliance:dkim:key", rule_private_key);
        const EnvNode *kn = env_lookup(c->env, "appliance:ssl:key"), *cn = env_lookup(c->env, "appliance:ssl:cert");
        PemKeyType type;
        int r = 0;

        if (key && cert)
                switch (pem_pair_check(key, cert)) {
                case PEM_PAIR_OK:
                        break;
                case PEM_PAIR_BAD_KEY:
                        r = env_findings_add(c->out, c->env, true, kn, "appliance:ssl:key",
                                             "not a PEM private key (or it is encrypted)");
                        break;
                case PEM_PAIR_BAD_CERT:
                        r = env_findings_add(c->out, c->env, true, cn, "appliance:ssl:cert", "not a PEM certificate");
                        break;
                case PEM_PAIR_MISMATCH:
                        r = env_findings_add(c->out, c->env, true, cn, "appliance:ssl:cert",
                                             "the certificate does not belong to appliance:ssl:key");
                        break;
                }
        if (r < 0 || !dkim)
                return r;
        kn = env_lookup(c->env, "appliance:dkim:key");
        if (pem_private_key_type(dkim, &type) < 0)
                return env_findings_add(c->out, c->env, true, kn, "appliance:dkim:key",
                                        "not a PEM private key (or it is encrypted)");
        if (type != PEM_KEY_RSA)
                return env_findings_add(c->out, c->env, true, kn, "appliance:dkim:key", "not an RSA key");
        return 0;
}

static int check_deprecated(Checker *c) {
        const EnvNode *files = env_lookup(c->env, "appliance:extra:files");

        for (size_t i = 0; env_node_type(files) == ENV_NODE_SEQUENCE && i < env_node_size(files); i++) {
                const EnvNode *old = env_node_child(env_node_item(files, i), "content");
                char path[64];
                int r;

                if (!old)
                        continue;
                snprintf(path, sizeof(path), "appliance:extra:files:%zu:content", i);
                r = env_findings_add(c->out, c->env, false, old, path, "deprecated spelling, use 'contents'");
                if (r < 0)
                        return r;
        }
        return 0;
}

int env_schema_check(const Env *e, EnvFindings *f) {
        Checker c = { .env = e, .out = f };
        int r;

        STRV_FOREACH(w, env_warnings(e)) {
                EnvFinding *n = reallocarray(f->items, f->n + 1, sizeof(EnvFinding));
                if (!n)
                        return -ENOMEM;
                f->items = n;
                f->items[f->n] = (EnvFinding) { .error = false, .text = strdup(*w) };
                if (!f->items[f->n].text)
                        return -ENOMEM;
                f->n++;
                f->warnings++;
        }
        r = check_mapping(&c, env_root(e), root_fields, "", 1, 1);
        if (r < 0)
                return r;
        r = check_ssl_pair(&c);
        if (r < 0)
                return r;
        r = check_keys(&c);
        if (r < 0)
                return r;
        return check_deprecated(&c);
}

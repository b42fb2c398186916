/**
 * Profile loader: reads a profile YAML file with the document API of yaml-util and checks it against
 * the schema documented at the top of profiles/minimal.yml. Every error names file:line:column
 * of the offending node; unknown and duplicate keys are errors. The raw text is kept so that it
 * can be baked into the image, where the agent reads services:, features: and templates:.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


#include "chase.h"
#include "cleanup.h"
#include "escape.h"
#include "fileio.h"
#include "macro.h"
#include "parse-util.h"
#include "profile.h"
#include "random-util.h"
#include "strv.h"
#include "yaml-util.h"

#define PROFILE_SIZE_MAX (1024 * 1024)

typedef struct Parser {
        const YamlDoc *doc;
        const char *path;
        char *error; /* first error, "path:line:col: message" */
} Parser;

_printf_(3, 4) static int fail(Parser *ps, const YamlNode *n, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        if (ps->error)
                return -EINVAL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return -ENOMEM;

        if (n) {
                if (asprintf(&ps->error, "%s:%zu:%zu: %s", ps->path, yaml_node_line(n), yaml_node_column(n),
                             msg) < 0)
                        ps->error = NULL;
        } else if (asprintf(&ps->error, "%s: %s", ps->path, msg) < 0)
                ps->error = NULL;

        return ps->error ? -EINVAL : -ENOMEM;
}

static const char *node_type_name(const YamlNode *n) {
        switch (yaml_node_kind(n)) {
        case YAML_KIND_SCALAR:
                return "a scalar";
        case YAML_KIND_SEQUENCE:
                return "a list";
        case YAML_KIND_MAPPING:
                return "a mapping";
        default:
                return "nothing";
        }
}

/* A scalar as a C string. Plain "~"/"null"/"" count as null and are rejected. */
static int get_string(Parser *ps, const char *key, const YamlNode *n, char **ret) {
        const char *v;
        size_t l;

        v = yaml_node_scalar(n, &l);
        if (!v)
                return fail(ps, n, "'%s' must be a scalar, not %s", key, node_type_name(n));
        if (memchr(v, 0, l))
                return fail(ps, n, "'%s' contains a NUL byte", key);
        if (yaml_node_scalar_plain(n) &&
            (l == 0 || streq(v, "~") || streq(v, "null") || streq(v, "Null") || streq(v, "NULL")))
                return fail(ps, n, "'%s' must not be empty", key);

        char *s = strndup(v, l);
        if (!s)
                return -ENOMEM;
        free(*ret);
        *ret = s;
        return 0;
}

static int get_bool(Parser *ps, const char *key, const YamlNode *n, bool *ret) {
        int r;

        if (!yaml_node_scalar_plain(n))
                return fail(ps, n, "'%s' must be true or false", key);
        r = parse_boolean(yaml_node_scalar(n, NULL));
        if (r < 0)
                return fail(ps, n, "'%s' must be true or false, not '%s'", key, yaml_node_scalar(n, NULL));
        *ret = r;
        return 0;
}

static int get_size(Parser *ps, const char *key, const YamlNode *n, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = get_string(ps, key, n, &s);
        if (r < 0)
                return r;
        if (streq(s, "auto")) {
                *ret = 0;
                return 0;
        }
        r = parse_size(s, ret);
        if (r < 0)
                return fail(ps, n, "'%s' is not a size: '%s' (use e.g. 512M, 4G or auto)", key, s);
        return 0;
}

static int get_mode(Parser *ps, const char *key, const YamlNode *n, mode_t *ret) {
        _cleanup_free_ char *s = NULL;
        char *end;
        unsigned long m;
        int r;

        r = get_string(ps, key, n, &s);
        if (r < 0)
                return r;
        errno = 0;
        m = strtoul(s, &end, 8);
        if (errno != 0 || *end || end == s || s[0] == '-' || m > 07777)
                return fail(ps, n, "'%s' must be an octal mode such as \"0644\", not '%s'", key, s);
        *ret = (mode_t) m;
        return 0;
}

static int get_uint(Parser *ps, const char *key, const YamlNode *n, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = get_string(ps, key, n, &s);
        if (r < 0)
                return r;
        if (safe_atou64(s, ret) < 0)
                return fail(ps, n, "'%s' must be a non-negative integer, not '%s'", key, s);
        return 0;
}

static bool absolute_path_ok(const char *p) {
        return p[0] == '/' && !strstr(p, "/../") && !endswith(p, "/..") && !strchr(p, '\n');
}

static bool package_name_ok(const char *s) {
        /* Debian policy 5.6.1, plus an optional ":arch" and "=version" are not allowed here. */
        if (strlen(s) < 2 || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", s[0]))
                return false;
        for (const char *c = s; *c; c++)
                if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789+-.", *c))
                        return false;
        return true;
}

/* Walks the pairs of a mapping: calls handler for every key, rejecting duplicates and keys that
 * the handler does not know (handler returns 0 if handled, 1 if unknown). */
typedef int (*KeyHandler)(Parser *ps, const char *key, const YamlNode *k, const YamlNode *v, void *userdata);

static int walk_mapping(Parser *ps, const char *what, const YamlNode *m, const char *const *known,
                        KeyHandler handler, void *userdata) {
        _cleanup_strv_free_ char **seen = NULL;
        int r;

        if (yaml_node_kind(m) != YAML_KIND_MAPPING)
                return fail(ps, m, "%s must be a mapping, not %s", what, node_type_name(m));

        for (size_t i = 0, n = yaml_node_n_pairs(m); i < n; i++) {
                const YamlNode *k, *v;
                const char *key;
                bool ok = false;

                yaml_node_pair(ps->doc, m, i, &k, &v);
                if (!k || !v)
                        return fail(ps, m, "broken document");
                key = yaml_node_scalar(k, NULL);
                if (!key)
                        return fail(ps, k, "keys of %s must be scalars", what);

                for (const char *const *kn = known; *kn; kn++)
                        if (streq(*kn, key))
                                ok = true;
                if (!ok) {
                        _cleanup_free_ char *list = strv_join((char **) known, ", ");
                        return fail(ps, k, "unknown key '%s' in %s (known: %s)", key, what, strna(list));
                }
                if (strv_contains(seen, key))
                        return fail(ps, k, "duplicate key '%s' in %s", key, what);
                r = strv_extend(&seen, key);
                if (r < 0)
                        return r;

                r = handler(ps, key, k, v, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int require_keys(Parser *ps, const char *what, const YamlNode *m, const char *const *required) {
        for (const char *const *rk = required; *rk; rk++) {
                bool found = false;
                for (size_t i = 0, n = yaml_node_n_pairs(m); i < n; i++) {
                        const YamlNode *k;
                        const char *key;

                        yaml_node_pair(ps->doc, m, i, &k, NULL);
                        key = k ? yaml_node_scalar(k, NULL) : NULL;
                        if (key && streq(key, *rk))
                                found = true;
                }
                if (!found)
                        return fail(ps, m, "%s lacks the required key '%s'", what, *rk);
        }
        return 0;
}

static int expect_list(Parser *ps, const char *key, const YamlNode *v) {
        if (yaml_node_kind(v) != YAML_KIND_SEQUENCE)
                return fail(ps, v, "'%s' must be a list, not %s", key, node_type_name(v));
        return 0;
}

#define FOREACH_ITEM(item, ps, seq)                                                                     \
        for (size_t _i = 0, _n = yaml_node_n_items(seq);                                               \
             _i < _n && ((item) = yaml_node_item((ps)->doc, (seq), _i), true); _i++)

/* ---- volumes ---- */

static int volume_key(Parser *ps, const char *key, const YamlNode *k _unused_, const YamlNode *v, void *userdata) {
        ProfileVolume *vol = userdata;
        _cleanup_free_ char *s = NULL;
        int r;

        if (streq(key, "label")) {
                r = get_string(ps, key, v, &vol->label);
                if (r < 0)
                        return r;
                if (!streq(vol->label, "ecs-data") && !streq(vol->label, "ecs-volatile"))
                        return fail(ps, v, "volume label must be ecs-data or ecs-volatile, not '%s'", vol->label);
        } else if (streq(key, "mountpoint")) {
                r = get_string(ps, key, v, &vol->mountpoint);
                if (r < 0)
                        return r;
                if (!absolute_path_ok(vol->mountpoint) || streq(vol->mountpoint, "/"))
                        return fail(ps, v, "'mountpoint' must be an absolute path other than /");
        } else if (streq(key, "place")) {
                r = get_string(ps, key, v, &s);
                if (r < 0)
                        return r;
                if (streq(s, "partition"))
                        vol->place = PART_PLACE_PARTITION;
                else if (streq(s, "disk"))
                        vol->place = PART_PLACE_DISK;
                else if (streq(s, "none"))
                        vol->place = PART_PLACE_NONE;
                else
                        return fail(ps, v, "'place' must be partition, disk or none, not '%s'", s);
        } else if (streq(key, "size"))
                return get_size(ps, key, v, &vol->size);
        return 0;
}

static int parse_volumes(Parser *ps, const YamlNode *v, Profile *p) {
        static const char *const known[] = { "label", "mountpoint", "place", "size", NULL };
        static const char *const required[] = { "label", "place", NULL };
        const YamlNode *item;
        int r;

        r = expect_list(ps, "volumes", v);
        if (r < 0)
                return r;
        FOREACH_ITEM(item, ps, v) {
                ProfileVolume *n = reallocarray(p->volumes, p->n_volumes + 1, sizeof(ProfileVolume));
                if (!n)
                        return -ENOMEM;
                p->volumes = n;
                ProfileVolume *vol = &p->volumes[p->n_volumes++];
                *vol = (ProfileVolume) { .place = PART_PLACE_PARTITION };

                r = walk_mapping(ps, "a volume", item, known, volume_key, vol);
                if (r < 0)
                        return r;
                r = require_keys(ps, "a volume", item, required);
                if (r < 0)
                        return r;
                for (size_t i = 0; i + 1 < p->n_volumes; i++)
                        if (streq(p->volumes[i].label, vol->label))
                                return fail(ps, item, "volume '%s' is listed twice", vol->label);
                if (!vol->mountpoint) {
                        vol->mountpoint = strdup(streq(vol->label, "ecs-data") ? "/data" : "/volatile");
                        if (!vol->mountpoint)
                                return -ENOMEM;
                }
        }
        return 0;
}

/* ---- files ---- */

static int file_key(Parser *ps, const char *key, const YamlNode *k _unused_, const YamlNode *v, void *userdata) {
        ProfileFile *f = userdata;
        int r;

        if (streq(key, "path")) {
                r = get_string(ps, key, v, &f->path);
                if (r < 0)
                        return r;
                if (!absolute_path_ok(f->path) || endswith(f->path, "/"))
                        return fail(ps, v, "'path' must be an absolute file path, not '%s'", f->path);
        } else if (streq(key, "mode"))
                return get_mode(ps, key, v, &f->mode);
        else if (streq(key, "content")) {
                size_t l;
                const char *c = yaml_node_scalar(v, &l);
                if (!c)
                        return fail(ps, v, "'content' must be a scalar (use a | block), not %s", node_type_name(v));
                if (memchr(c, 0, l))
                        return fail(ps, v, "'content' contains a NUL byte");
                free(f->content);
                f->content = strndup(c, l);
                if (!f->content)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_files(Parser *ps, const YamlNode *v, Profile *p) {
        static const char *const known[] = { "path", "mode", "content", NULL };
        static const char *const required[] = { "path", "content", NULL };
        const YamlNode *item;
        int r;

        r = expect_list(ps, "files", v);
        if (r < 0)
                return r;
        FOREACH_ITEM(item, ps, v) {
                ProfileFile *n = reallocarray(p->files, p->n_files + 1, sizeof(ProfileFile));
                if (!n)
                        return -ENOMEM;
                p->files = n;
                ProfileFile *f = &p->files[p->n_files++];
                *f = (ProfileFile) { .mode = 0644 };

                r = walk_mapping(ps, "a file", item, known, file_key, f);
                if (r < 0)
                        return r;
                r = require_keys(ps, "a file", item, required);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- services, features, templates (interpreted by the agent) ---- */

bool profile_unit_name_is_valid(const char *s) {
        /* systemd's unit name rules (escape.h), for a service */
        return endswith(s, ".service") && unit_name_is_valid(s);
}

static bool port_ok(const char *s, size_t n) {
        unsigned v = 0;

        if (n == 0 || n > 5)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        return v >= 1 && v <= 65535;
}

const char *profile_health_check_error(const char *s) {
        for (const char *c = s; *c; c++)
                if ((unsigned char) *c < ' ' || *c == 0x7f)
                        return "contains a control character";
        if (startswith(s, "tcp:")) {
                const char *host = s + 4, *port = strrchr(host, ':');
                if (!port || port == host || strchr(host, ' ') || !port_ok(port + 1, strlen(port + 1)))
                        return "a tcp check must be tcp:HOST:PORT with a port 1..65535";
                return NULL;
        }
        if (startswith(s, "http://")) {
                const char *host = s + 7;
                size_t hl = strcspn(host, "/"), colon;

                if (strchr(s, ' '))
                        return "an http check must not contain spaces";
                if (host[0] == '[') {
                        const char *close = memchr(host, ']', hl);
                        if (!close || close == host + 1)
                                return "an http check must name a host: http://HOST[:PORT]/PATH";
                        colon = (size_t) (close - host) + 1;
                        if (colon != hl && host[colon] != ':')
                                return "an http check must name a host: http://HOST[:PORT]/PATH";
                } else
                        colon = strcspn(host, ":/");
                if (colon == 0)
                        return "an http check must name a host: http://HOST[:PORT]/PATH";
                if (colon < hl && !port_ok(host + colon + 1, hl - colon - 1))
                        return "an http check's port must be 1..65535";
                return NULL;
        }
        if (startswith(s, "exec:")) {
                if (s[5] != '/')
                        return "an exec check must name an absolute program: exec:/PATH ARGS";
                return NULL;
        }
        return "must be tcp:HOST:PORT, http://HOST[:PORT]/PATH or exec:/PATH ARGS";
}

static int service_key(Parser *ps, const char *key, const YamlNode *k _unused_, const YamlNode *v, void *userdata) {
        ProfileService *svc = userdata;
        const char *why;
        uint64_t u;
        int r;

        if (streq(key, "unit")) {
                r = get_string(ps, key, v, &svc->unit);
                if (r < 0)
                        return r;
                if (!profile_unit_name_is_valid(svc->unit))
                        return fail(ps, v, "'unit' must name a unit such as postgresql.service, not '%s'", svc->unit);
        } else if (streq(key, "health")) {
                r = get_string(ps, key, v, &svc->health);
                if (r < 0)
                        return r;
                why = profile_health_check_error(svc->health);
                if (why)
                        return fail(ps, v, "'health' %s, not '%s'", why, svc->health);
        } else if (streq(key, "timeout")) {
                r = get_uint(ps, key, v, &u);
                if (r < 0)
                        return r;
                if (u == 0 || u > PROFILE_SERVICE_TIMEOUT_MAX)
                        return fail(ps, v, "'timeout' must be between 1 and %u seconds", PROFILE_SERVICE_TIMEOUT_MAX);
                svc->timeout = (unsigned) u;
        }
        return 0;
}

static int parse_services(Parser *ps, const YamlNode *v, Profile *p) {
        static const char *const known[] = { "unit", "health", "timeout", NULL };
        static const char *const required[] = { "unit", NULL };
        const YamlNode *item;
        int r;

        r = expect_list(ps, "services", v);
        if (r < 0)
                return r;
        FOREACH_ITEM(item, ps, v) {
                ProfileService *n = reallocarray(p->services, p->n_services + 1, sizeof(ProfileService));
                if (!n)
                        return -ENOMEM;
                p->services = n;
                ProfileService *svc = &p->services[p->n_services++];
                *svc = (ProfileService) { .timeout = PROFILE_SERVICE_TIMEOUT_DEFAULT };

                r = walk_mapping(ps, "a service", item, known, service_key, svc);
                if (r < 0)
                        return r;
                r = require_keys(ps, "a service", item, required);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int feature_key(Parser *ps, const char *key, const YamlNode *k _unused_, const YamlNode *v, void *userdata) {
        Profile *p = userdata;

        if (streq(key, "ec2_metadata"))
                return get_bool(ps, key, v, &p->ec2_metadata);
        return 0;
}

static int hook_key(Parser *ps, const char *key, const YamlNode *k _unused_, const YamlNode *v, void *userdata) {
        Profile *p = userdata;
        char **dst = NULL;
        int r;

        if (streq(key, "create-internal-user"))
                dst = &p->hook_create_internal_user;
        if (!dst)
                return 0;
        r = get_string(ps, key, v, dst);
        if (r < 0)
                return r;
        if (!absolute_path_ok(*dst) || endswith(*dst, "/"))
                return fail(ps, v, "hook '%s' must be the absolute path of a program, not '%s'", key, *dst);
        return 0;
}

static int template_key(Parser *ps, const char *key, const YamlNode *k _unused_, const YamlNode *v, void *userdata) {
        ProfileTemplate *t = userdata;
        char **dst;
        int r;

        if (streq(key, "mode"))
                return get_mode(ps, key, v, &t->mode);
        dst = streq(key, "src") ? &t->src : &t->dest;
        r = get_string(ps, key, v, dst);
        if (r < 0)
                return r;
        if (!absolute_path_ok(*dst) || endswith(*dst, "/"))
                return fail(ps, v, "'%s' must be an absolute file path without '..', not '%s'", key, *dst);
        return 0;
}

static int parse_templates(Parser *ps, const YamlNode *v, Profile *p) {
        static const char *const known[] = { "src", "dest", "mode", NULL };
        static const char *const required[] = { "src", "dest", NULL };
        const YamlNode *item;
        int r;

        r = expect_list(ps, "templates", v);
        if (r < 0)
                return r;
        FOREACH_ITEM(item, ps, v) {
                ProfileTemplate *n = reallocarray(p->templates, p->n_templates + 1, sizeof(ProfileTemplate));
                if (!n)
                        return -ENOMEM;
                p->templates = n;
                ProfileTemplate *t = &p->templates[p->n_templates++];
                *t = (ProfileTemplate) { .mode = 0644 };

                r = walk_mapping(ps, "a template", item, known, template_key, t);
                if (r < 0)
                        return r;
                r = require_keys(ps, "a template", item, required);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int user_key(Parser *ps, const char *key, const YamlNode *k _unused_, const YamlNode *v, void *userdata) {
        ProfileUser *u = userdata;
        _cleanup_free_ char *s = NULL;
        int r;

        r = get_string(ps, key, v, &s);
        if (r < 0)
                return r;
        if (streq(key, "uid") || streq(key, "gid")) {
                unsigned *id = streq(key, "uid") ? &u->uid : &u->gid;
                if (safe_atou(s, id) < 0 || *id > 65533)
                        return fail(ps, v, "'%s' must be a number from 0 to 65533, not '%s'", key, s);
                return 0;
        }
        if (streq(key, "name")) {
                if (strlen(s) > 32 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z')) ||
                    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(s))
                        return fail(ps, v, "'%s' is not a valid user name", s);
                u->name = TAKE_PTR(s);
                return 0;
        }
        if (!absolute_path_ok(s) || strchr(s, ':'))
                return fail(ps, v, "'%s' must be an absolute path without '..' or ':', not '%s'", key, s);
        if (streq(key, "home"))
                u->home = TAKE_PTR(s);
        else
                u->shell = TAKE_PTR(s);
        return 0;
}

/* users: created by the agent at boot (its users.c checks them again, the same way). */
static int parse_users(Parser *ps, const YamlNode *v, Profile *p) {
        static const char *const known[] = { "name", "uid", "gid", "home", "shell", NULL };
        static const char *const required[] = { "name", NULL };
        const YamlNode *item;
        int r;

        r = expect_list(ps, "users", v);
        if (r < 0)
                return r;
        FOREACH_ITEM(item, ps, v) {
                ProfileUser *n = reallocarray(p->users, p->n_users + 1, sizeof(ProfileUser));
                if (!n)
                        return -ENOMEM;
                p->users = n;
                ProfileUser *u = &p->users[p->n_users++];
                *u = (ProfileUser) { .uid = PROFILE_ID_UNSET, .gid = PROFILE_ID_UNSET };

                r = walk_mapping(ps, "a user", item, known, user_key, u);
                if (r < 0)
                        return r;
                r = require_keys(ps, "a user", item, required);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_env_keys(Parser *ps, const YamlNode *v, Profile *p) {
        const YamlNode *item;
        int r;

        r = expect_list(ps, "env_keys", v);
        if (r < 0)
                return r;
        FOREACH_ITEM(item, ps, v) {
                _cleanup_free_ char *s = NULL;
                r = get_string(ps, "env_keys", item, &s);
                if (r < 0)
                        return r;
                if (isempty(s) || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_:-") != strlen(s))
                        return fail(ps, item, "'%s' is not an env key path such as ecs:database", s);
                r = strv_consume(&p->env_keys, TAKE_PTR(s));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- top level ---- */

static int top_key(Parser *ps, const char *key, const YamlNode *k _unused_, const YamlNode *v, void *userdata) {
        static const char *const features_known[] = { "ec2_metadata", NULL };
        static const char *const hooks_known[] = { "create-internal-user", NULL };
        Profile *p = userdata;
        const YamlNode *item;
        int r;

        if (streq(key, "name"))
                return get_string(ps, key, v, &p->name);
        if (streq(key, "distribution")) {
                r = get_string(ps, key, v, &p->distribution);
                if (r < 0)
                        return r;
                if (!streq(p->distribution, "debian") && !streq(p->distribution, "ubuntu"))
                        return fail(ps, v, "'distribution' must be debian or ubuntu, not '%s'", p->distribution);
                return 0;
        }
        if (streq(key, "suite") || streq(key, "architecture")) {
                char **dst = streq(key, "suite") ? &p->suite : &p->architecture;
                r = get_string(ps, key, v, dst);
                if (r < 0)
                        return r;
                if (!package_name_ok(*dst) || strchr(*dst, '+') || strchr(*dst, '.'))
                        return fail(ps, v, "'%s' is not a valid name: '%s'", key, *dst);
                return 0;
        }
        if (streq(key, "packages")) {
                r = expect_list(ps, key, v);
                if (r < 0)
                        return r;
                FOREACH_ITEM(item, ps, v) {
                        _cleanup_free_ char *s = NULL;
                        r = get_string(ps, "packages", item, &s);
                        if (r < 0)
                                return r;
                        if (!package_name_ok(s))
                                return fail(ps, item, "'%s' is not a valid package name", s);
                        if (strv_contains(p->packages, s))
                                return fail(ps, item, "package '%s' is listed twice", s);
                        r = strv_consume(&p->packages, TAKE_PTR(s));
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (streq(key, "kernel_cmdline")) {
                r = get_string(ps, key, v, &p->kernel_cmdline);
                if (r < 0)
                        return r;
                size_t bad;
                if (kernel_cmdline_check(p->kernel_cmdline, &bad) < 0)
                        return fail(ps, v, "'kernel_cmdline' holds character 0x%02x at offset %zu: only printable "
                                    "words without quotes, backslashes, $ ` ; & | < > { } ( ) # can pass through GRUB",
                                    (unsigned) (unsigned char) p->kernel_cmdline[bad], bad);
                return 0;
        }
        if (streq(key, "root_size"))
                return get_size(ps, key, v, &p->root_size);
        if (streq(key, "sizing_class")) {
                unsigned n;
                r = get_string(ps, key, v, &p->sizing_class);
                if (r < 0)
                        return r;
                if (!streq(p->sizing_class, "test") &&
                    (safe_atou(p->sizing_class, &n) < 0 || n == 0 || n > 1000))
                        return fail(ps, v, "'sizing_class' must be test or a number of studies per month, not '%s'",
                                    p->sizing_class);
                return 0;
        }
        if (streq(key, "volumes"))
                return parse_volumes(ps, v, p);
        if (streq(key, "files"))
                return parse_files(ps, v, p);
        if (streq(key, "services"))
                return parse_services(ps, v, p);
        if (streq(key, "features"))
                return walk_mapping(ps, "'features'", v, features_known, feature_key, p);
        if (streq(key, "templates"))
                return parse_templates(ps, v, p);
        if (streq(key, "users"))
                return parse_users(ps, v, p);
        if (streq(key, "env_keys"))
                return parse_env_keys(ps, v, p);
        if (streq(key, "hooks"))
                return walk_mapping(ps, "'hooks'", v, hooks_known, hook_key, p);
        return 0;
}

static char *name_from_path(const char *path) {
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        size_t l = strlen(b);
        if (endswith(b, ".yml"))
                l -= 4;
        else if (endswith(b, ".yaml"))
                l -= 5;
        return strndup(b, l);
}

int profile_load_from_string(const char *path, const char *text, size_t len, Profile **ret, char **reterr) {
        static const char *const known[] = {
                "name", "distribution", "suite", "architecture", "packages", "kernel_cmdline",
                "root_size", "volumes", "files", "sizing_class", "services", "features", "templates", "users",
                "env_keys", "hooks", NULL,
        };
        static const char *const required[] = { "distribution", "suite", "packages", NULL };
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_(yaml_doc_freep) YamlDoc *doc = NULL;
        YamlError ye;
        Parser ps = { .path = path };
        int r;

        p = calloc(1, sizeof(Profile));
        if (!p)
                return -ENOMEM;
        p->path = strdup(path);
        p->text = memdup_nul(text, len);
        if (!p->path || !p->text)
                return -ENOMEM;
        p->text_len = len;

        r = yaml_doc_load(text, len, &doc, &ye);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (reterr) {
                        if (ye.context)
                                r = asprintf(reterr, "%s:%zu:%zu: %s (%s at %zu:%zu)", path, ye.line, ye.column,
                                             strna(ye.problem), ye.context, ye.context_line, ye.context_column);
                        else
                                r = asprintf(reterr, "%s:%zu:%zu: %s", path, ye.line, ye.column, strna(ye.problem));
                        if (r < 0)
                                *reterr = NULL;
                }
                return -EINVAL;
        }
        ps.doc = doc;

        const YamlNode *root = yaml_doc_root(doc);
        if (!root)
                r = fail(&ps, NULL, "empty profile");
        else {
                r = walk_mapping(&ps, "the profile", root, known, top_key, p);
                if (r >= 0)
                        r = require_keys(&ps, "the profile", root, required);
                if (r >= 0 && strv_length(p->packages) == 0)
                        r = fail(&ps, root, "'packages' must list at least one package");
        }
        yaml_doc_free(TAKE_PTR(doc));
        if (r < 0) {
                if (reterr)
                        *reterr = TAKE_PTR(ps.error);
                free(ps.error);
                return r;
        }

        if (!p->name) {
                p->name = name_from_path(path);
                if (!p->name)
                        return -ENOMEM;
        }
        if (!p->architecture) {
                p->architecture = strdup("amd64");
                if (!p->architecture)
                        return -ENOMEM;
        }
        if (!p->kernel_cmdline) {
                p->kernel_cmdline = strdup("console=ttyS0,115200 net.ifnames=0");
                if (!p->kernel_cmdline)
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(p);
        return 0;
}

const char *profile_dir(void) {
        const char *e = getenv("APPLIANCE_PROFILES_DIR");
        if (!isempty(e))
                return e;
#ifdef PROJECT_SOURCE_DIR
        if (path_exists(PROJECT_SOURCE_DIR "/profiles"))
                return PROJECT_SOURCE_DIR "/profiles";
#endif
        return APPLIANCE_DATADIR "/profiles";
}

int profile_load(const char *name_or_path, Profile **ret, char **reterr) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;
        int r;

        if (isempty(name_or_path)) {
                if (reterr)
                        *reterr = strdup("no profile given");
                return -EINVAL;
        }

        if (strchr(name_or_path, '/') || endswith(name_or_path, ".yml") || endswith(name_or_path, ".yaml"))
                path = strdup(name_or_path);
        else if (asprintf(&path, "%s/%s.yml", profile_dir(), name_or_path) < 0)
                path = NULL;
        if (!path)
                return -ENOMEM;

        r = read_input(AT_FDCWD, path, INPUT_FOLLOW, PROFILE_SIZE_MAX, &text, &len);
        if (r < 0) {
                if (reterr && asprintf(reterr, "%s: cannot read profile%s: %s", path,
                                       r == -ENOENT && !strchr(name_or_path, '/') ? " (no such profile)" : "",
                                       input_strerror(r)) < 0)
                        *reterr = NULL;
                return r;
        }

        return profile_load_from_string(path, text, len, ret, reterr);
}

int profile_load_file(const char *path, ProfileLoadFlags flags, Profile **ret, char **reterr) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = read_input(AT_FDCWD, path, INPUT_FOLLOW, PROFILE_SIZE_MAX, &text, &len);
        if (r == -ENOENT && (flags & PROFILE_LOAD_MISSING_EMPTY)) {
                _cleanup_(profile_freep) Profile *p = calloc(1, sizeof(Profile));
                if (!p)
                        return -ENOMEM;
                p->path = strdup(path);
                p->text = strdup("");
                if (!p->path || !p->text)
                        return -ENOMEM;
                *ret = TAKE_PTR(p);
                return 0;
        }
        if (r < 0) {
                if (reterr && asprintf(reterr, "%s: cannot read profile: %s", path, input_strerror(r)) < 0)
                        *reterr = NULL;
                return r;
        }
        return profile_load_from_string(path, text, len, ret, reterr);
}

Profile *profile_free(Profile *p) {
        if (!p)
                return NULL;
        free(p->name);
        free(p->path);
        free(p->distribution);
        free(p->suite);
        free(p->architecture);
        strv_free(p->packages);
        free(p->kernel_cmdline);
        for (size_t i = 0; i < p->n_volumes; i++) {
                free(p->volumes[i].label);
                free(p->volumes[i].mountpoint);
        }
        free(p->volumes);
        for (size_t i = 0; i < p->n_files; i++) {
                free(p->files[i].path);
                free(p->files[i].content);
        }
        free(p->files);
        for (size_t i = 0; i < p->n_services; i++) {
                free(p->services[i].unit);
                free(p->services[i].health);
        }
        free(p->services);
        for (size_t i = 0; i < p->n_templates; i++) {
                free(p->templates[i].src);
                free(p->templates[i].dest);
        }
        free(p->templates);
        for (size_t i = 0; i < p->n_users; i++) {
                free(p->users[i].name);
                free(p->users[i].home);
                free(p->users[i].shell);
        }
        free(p->users);
        strv_free(p->env_keys);
        free(p->hook_create_internal_user);
        free(p->sizing_class);
        free(p->text);
        free(p);
        return NULL;
}

const ProfileVolume *profile_volume(const Profile *p, const char *label) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (streq(p->volumes[i].label, label))
                        return &p->volumes[i];
        return NULL;
}

const char *part_place_to_string(PartPlace place) {
        switch (place) {
        case PART_PLACE_PARTITION:
                return "partition";
        case PART_PLACE_DISK:
                return "disk";
        case PART_PLACE_NONE:
                return "none";
        }
        return "invalid";
}

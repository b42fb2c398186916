/**
 * The cloud-config subset and the meta-data keys (cloud-config.h): read through the env model, so
 * positions, YAML 1.1 booleans and duplicate keys behave as in the env.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud-config.h"
#include "env-schema.h"
#include "env.h"
#include "parse-util.h"
#include "reterr.h"
#include "strv.h"
#include "users.h"

#define CLOUD_USERS_MAX 64
#define CLOUD_KEYS_MAX 256
#define CLOUD_NOTES_MAX 256

static void cloud_user_done(CloudUser *u) {
        free(u->name);
        strv_free(u->groups);
        free(u->sudo);
        free(u->shell);
        free(u->gecos);
        strv_free(u->ssh_keys);
}

void cloud_config_done(CloudConfig *c) {
        for (size_t i = 0; i < c->n_users; i++)
                cloud_user_done(&c->users[i]);
        free(c->users);
        strv_free(c->ssh_keys);
        free(c->hostname);
        strv_free(c->notes);
        *c = (CloudConfig) {};
}

int cloud_config_note(CloudConfig *c, const char *fmt, ...) {
        char *s;
        va_list ap;
        int r;

        if (strv_length(c->notes) >= CLOUD_NOTES_MAX)
                return 0;
        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        /* One line each: the notes go to a line-based runtime file. */
        for (char *p = s; *p; p++)
                if (*p == '\n' || *p == '\r' || *p == '\t')
                        *p = ' ';
        return strv_consume(&c->notes, s);
}

static bool node_is_null(const EnvNode *n) {
        return !n || (env_node_type(n) == ENV_NODE_SCALAR && !env_node_string(n));
}

/* A short, one-line rendering of a scalar for a note. */
static char *shown(const char *s) {
        char *out;
        if (asprintf(&out, "%.40s%s", s, strlen(s) > 40 ? "..." : "") < 0)
                return NULL;
        for (char *p = out; *p; p++)
                if ((unsigned char) *p < 0x20)
                        *p = '?';
        return out;
}

/* Appends one key line after checking it; a bad one becomes a note. */
static int add_key(CloudConfig *c, char ***keys, const char *where, const char *k) {
        if (!k || !env_ssh_key_line_is_valid(k) || strpbrk(k, "\r\n")) {
                _cleanup_free_ char *s = k ? shown(k) : NULL;
                return cloud_config_note(c, "%s: refused: not an ssh public key line%s%s%s", where, s ? " ('" : "",
                                         s ?: "", s ? "')" : "");
        }
        if (strv_length(*keys) >= CLOUD_KEYS_MAX)
                return cloud_config_note(c, "%s: refused: more than %d keys", where, CLOUD_KEYS_MAX);
        if (strv_contains(*keys, k))
                return 0;
        return strv_extend(keys, k);
}

/* A list of key lines, or one key as a string. */
static int add_keys(CloudConfig *c, char ***keys, const char *where, const EnvNode *n) {
        int r;

        if (node_is_null(n))
                return 0;
        if (env_node_type(n) == ENV_NODE_SCALAR)
                return add_key(c, keys, where, env_node_string(n));
        if (env_node_type(n) != ENV_NODE_SEQUENCE)
                return cloud_config_note(c, "%s: refused: must be a list of ssh public keys", where);
        for (size_t i = 0; i < env_node_size(n); i++) {
                _cleanup_free_ char *w = NULL;
                const EnvNode *item = env_node_item(n, i);

                if (asprintf(&w, "%s:%zu", where, i) < 0)
                        return -ENOMEM;
                if (env_node_type(item) != ENV_NODE_SCALAR) {
                        r = cloud_config_note(c, "%s: refused: not a string", w);
                } else
                        r = add_key(c, keys, w, env_node_string(item));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int set_hostname(CloudConfig *c, const char *where, const EnvNode *n, bool override) {
        const char *s = env_node_type(n) == ENV_NODE_SCALAR ? env_node_string(n) : NULL;

        if (node_is_null(n))
                return 0;
        if (!s || !env_hostname_is_valid(s)) {
                _cleanup_free_ char *sh = s ? shown(s) : NULL;
                return cloud_config_note(c, "%s: refused: '%s' is not a valid host name", where, strna(sh));
        }
        if (c->hostname && !override)
                return 0;
        free(c->hostname);
        c->hostname = strdup(s);
        return c->hostname ? 0 : -ENOMEM;
}

/* groups: a list or "a, b". */
static int parse_groups(CloudConfig *c, const char *where, const EnvNode *n, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        if (node_is_null(n))
                return 0;
        if (env_node_type(n) == ENV_NODE_SCALAR) {
                r = strv_split(env_node_string(n), ", ", &l);
                if (r < 0)
                        return r;
        } else if (env_node_type(n) == ENV_NODE_SEQUENCE) {
                for (size_t i = 0; i < env_node_size(n); i++) {
                        const char *g = env_node_string(env_node_item(n, i));
                        if (!g)
                                return cloud_config_note(c, "%s:groups:%zu: refused: not a group name", where, i);
                        r = strv_extend(&l, g);
                        if (r < 0)
                                return r;
                }
        } else
                return cloud_config_note(c, "%s:groups: refused: must be a list or a comma-separated string", where);
        *ret = TAKE_PTR(l);
        return 1;
}

static int parse_sudo(CloudConfig *c, const char *where, const EnvNode *n, char **ret) {
        if (node_is_null(n) || env_node_bool(n) == 0)
                return 0;
        if (env_node_type(n) == ENV_NODE_SEQUENCE && env_node_size(n) == 1)
                n = env_node_item(n, 0);
        if (env_node_type(n) != ENV_NODE_SCALAR || env_node_bool(n) > 0 || !env_node_string(n))
                return cloud_config_note(c, "%s:sudo: refused: must be one sudoers rule such as "
                                         "\"ALL=(ALL) NOPASSWD:ALL\", or false", where);
        *ret = strdup(env_node_string(n));
        return *ret ? 1 : -ENOMEM;
}

static int parse_user(CloudConfig *c, const char *name, size_t index, const EnvNode *n) {
        _cleanup_(cloud_user_done) CloudUser u = { .uid = USER_ID_UNSET, .lock_passwd = true };
        _cleanup_free_ char *where = NULL, *why = NULL;
        const char *s;
        int r;

        if (asprintf(&where, "%s: users:%zu", name, index) < 0)
                return -ENOMEM;
        if (env_node_type(n) == ENV_NODE_SCALAR) {
                s = env_node_string(n);
                if (s && streq(s, "default"))
                        return cloud_config_note(c, "%s: 'default' skipped: the image has no distribution default user",
                                                 where);
                if (!s)
                        return 0;
                u.name = strdup(s);
                if (!u.name)
                        return -ENOMEM;
        } else if (env_node_type(n) == ENV_NODE_MAPPING) {
                for (size_t i = 0; i < env_node_size(n); i++) {
                        const char *k = env_node_key(n, i);
                        const EnvNode *v = env_node_item(n, i);

                        if (streq(k, "name") || streq(k, "shell") || streq(k, "gecos")) {
                                char **dst = streq(k, "name") ? &u.name : streq(k, "shell") ? &u.shell : &u.gecos;
                                s = env_node_type(v) == ENV_NODE_SCALAR ? env_node_string(v) : NULL;
                                if (!s)
                                        return cloud_config_note(c, "%s:%s: refused: must be a string", where, k);
                                free(*dst);
                                *dst = strdup(s);
                                if (!*dst)
                                        return -ENOMEM;
                        } else if (streq(k, "uid")) {
                                int64_t id;
                                if (env_node_int(v, &id) < 0 || id < 0 || id > 65533)
                                        return cloud_config_note(c, "%s:uid: refused: must be a number from 0 to 65533",
                                                                 where);
                                u.uid = (unsigned) id;
                        } else if (streq(k, "groups")) {
                                strv_free(u.groups);
                                u.groups = NULL;
                                r = parse_groups(c, where, v, &u.groups);
                                if (r <= 0 && !u.groups && !node_is_null(v))
                                        return r;
                        } else if (streq(k, "sudo")) {
                                free(u.sudo);
                                u.sudo = NULL;
                                r = parse_sudo(c, where, v, &u.sudo);
                                if (r < 0)
                                        return r;
                        } else if (streq(k, "lock_passwd") || streq(k, "lock-passwd")) {
                                int b = env_node_bool(v);
                                if (b < 0)
                                        r = cloud_config_note(c, "%s:%s: refused: must be true or false", where, k);
                                else if (b == 0)
                                        r = cloud_config_note(c, "%s:%s: false: no password is set by this subset "
                                                              "(key logins only)", where, k);
                                else
                                        r = 0;
                                if (r < 0)
                                        return r;
                        } else if (streq(k, "ssh_authorized_keys") || streq(k, "ssh-authorized-keys")) {
                                _cleanup_free_ char *w = NULL;
                                if (asprintf(&w, "%s:%s", where, k) < 0)
                                        return -ENOMEM;
                                r = add_keys(c, &u.ssh_keys, w, v);
                                if (r < 0)
                                        return r;
                        } else {
                                r = cloud_config_note(c, "%s:%s: not supported (outside the cloud-config subset)",
                                                      where, k);
                                if (r < 0)
                                        return r;
                        }
                }
        } else
                return cloud_config_note(c, "%s: refused: must be a name or a mapping", where);

        if (!u.name)
                return cloud_config_note(c, "%s: refused: no name", where);
        {
                UserSpec spec = { .name = u.name, .uid = u.uid, .gid = USER_ID_UNSET, .shell = u.shell,
                                  .gecos = u.gecos, .groups = u.groups, .sudo = u.sudo };
                if (user_spec_check(&spec, &why) < 0)
                        return cloud_config_note(c, "%s: refused: %s", where, why);
        }
        for (size_t i = 0; i < c->n_users; i++)
                if (streq(c->users[i].name, u.name))
                        return cloud_config_note(c, "%s: refused: user '%s' is listed twice", where, u.name);
        if (c->n_users >= CLOUD_USERS_MAX)
                return cloud_config_note(c, "%s: refused: more than %d users", where, CLOUD_USERS_MAX);
        CloudUser *nu = realloc(c->users, (c->n_users + 1) * sizeof *c->users);
        if (!nu)
                return -ENOMEM;
        c->users = nu;
        c->users[c->n_users++] = u;
        u = (CloudUser) {};
        return 0;
}

static int parse_top(CloudConfig *c, const char *name, const Env *e) {
        const EnvNode *root = env_root(e);
        int r = 0;

        for (size_t i = 0; r >= 0 && i < env_node_size(root); i++) {
                const char *k = env_node_key(root, i);
                const EnvNode *v = env_node_item(root, i);
                _cleanup_free_ char *where = NULL;

                if (asprintf(&where, "%s: %s", name, k) < 0)
                        return -ENOMEM;
                if (streq(k, "users")) {
                        if (node_is_null(v))
                                continue;
                        if (env_node_type(v) != ENV_NODE_SEQUENCE) {
                                r = cloud_config_note(c, "%s: refused: must be a list", where);
                                continue;
                        }
                        for (size_t j = 0; r >= 0 && j < env_node_size(v); j++)
                                r = parse_user(c, name, j, env_node_item(v, j));
                } else if (streq(k, "ssh_authorized_keys"))
                        r = add_keys(c, &c->ssh_keys, where, v);
                else if (streq(k, "hostname"))
                        r = set_hostname(c, where, v, false);
                else if (streq(k, "fqdn"))
                        r = set_hostname(c, where, v, true);
                else if (streq(k, "resize_rootfs")) {
                        if (env_node_bool(v) == 0)
                                r = cloud_config_note(c, "%s: false not supported: the agent always grows the root "
                                                      "(the env's appliance:storage:grow_root: false turns it off)", where);
                } else if (streq(k, "growpart")) {
                        const char *mode = env_node_string(env_node_child(v, "mode"));
                        const EnvNode *m = env_node_child(v, "mode");
                        if ((mode && streq(mode, "off")) || (m && env_node_bool(m) == 0))
                                r = cloud_config_note(c, "%s: mode off not supported: the agent always grows the root "
                                                      "(the env's appliance:storage:grow_root: false turns it off)", where);
                } else if (streq(k, "disable_root") || streq(k, "ssh_pwauth")) {
                        if (env_node_bool(v) > 0)
                                r = cloud_config_note(c, "%s: true not supported: %s", where,
                                                      streq(k, "disable_root") ? "root logs in with ssh keys"
                                                                               : "sshd accepts keys only");
                } else
                        r = cloud_config_note(c, "%s: not supported (outside the cloud-config subset)", where);
        }
        return r;
}

int cloud_config_parse(CloudConfig *c, const char *name, const char *text, size_t len, char **reterr) {
        _cleanup_(env_freep) Env *e = NULL;
        int r;

        r = env_load_buffer(name, text, len, &e, reterr);
        if (r < 0)
                return r;
        return parse_top(c, name, e);
}

/* NoCloud public-keys: a string, a list, or a mapping of names to a key or a list of keys. */
static int add_meta_keys(CloudConfig *c, const char *where, const EnvNode *n) {
        int r;

        if (env_node_type(n) != ENV_NODE_MAPPING)
                return add_keys(c, &c->ssh_keys, where, n);
        for (size_t i = 0; i < env_node_size(n); i++) {
                _cleanup_free_ char *w = NULL;
                if (asprintf(&w, "%s:%s", where, env_node_key(n, i)) < 0)
                        return -ENOMEM;
                r = add_keys(c, &c->ssh_keys, w, env_node_item(n, i));
                if (r < 0)
                        return r;
        }
        return 0;
}

int cloud_meta_data_parse(CloudConfig *c, const char *name, MetaDataFormat f, const char *text, size_t len,
                          char **reterr) {
        _cleanup_(env_freep) Env *e = NULL;
        const EnvNode *root;
        int r = 0;

        r = env_load_buffer_flags(name, text, len, ENV_LOAD_NO_HEADER, &e, reterr);
        if (r < 0)
                return r;
        root = env_root(e);
        for (size_t i = 0; r >= 0 && i < env_node_size(root); i++) {
                const char *k = env_node_key(root, i);
                const EnvNode *v = env_node_item(root, i);
                _cleanup_free_ char *where = NULL;

                if (asprintf(&where, "%s: %s", name, k) < 0)
                        return -ENOMEM;
                if (f == META_DATA_NOCLOUD && (streq(k, "public-keys") || streq(k, "public_keys")))
                        r = add_meta_keys(c, where, v);
                else if (f == META_DATA_CONFIG2 && streq(k, "public_keys"))
                        r = add_meta_keys(c, where, v);
                else if (streq(k, "local-hostname") || (f == META_DATA_CONFIG2 && streq(k, "hostname")))
                        r = set_hostname(c, where, v, false);
                /* instance-id, uuid, network and placement data: not the agent's business. */
        }
        return r;
}

int cloud_meta_data_add_ec2(CloudConfig *c, const char *item, const char *value) {
        _cleanup_free_ char *where = NULL, *v = NULL;
        size_t n;

        if (asprintf(&where, "ec2 meta-data: %s", item) < 0)
                return -ENOMEM;
        v = strdup(value);
        if (!v)
                return -ENOMEM;
        n = strlen(v);
        while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r' || v[n - 1] == ' '))
                v[--n] = 0;
        if (streq(item, "local-hostname")) {
                if (!env_hostname_is_valid(v)) {
                        _cleanup_free_ char *sh = shown(v);
                        return cloud_config_note(c, "%s: refused: '%s' is not a valid host name", where, strna(sh));
                }
                if (c->hostname)
                        return 0;
                c->hostname = TAKE_PTR(v);
                return 0;
        }
        return add_key(c, &c->ssh_keys, where, v);
}

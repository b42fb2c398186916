/**
 * What the agent requires of an env beyond being a well-formed #cloud-config mapping (the env model
 * checks that): the keys the boot steps act on must have the right shape, so that a bad env stops
 * in prepare-env with one readable reason ("NAME:LINE:COLUMN: KEY: what is wrong") instead of
 * half-configuring the machine.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "env-check.h"
#include "macro.h"

_printf_(4, 5) static int bad(const Env *e, const EnvNode *n, char **ret_error, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (ret_error && msg &&
            asprintf(ret_error, "%s:%u:%u: %s", env_name(e), n ? env_node_line(n) : 1, n ? env_node_column(n) : 1,
                     msg) < 0)
                *ret_error = NULL;
        return -EBADMSG;
}

bool hostname_is_valid(const char *s) {
        size_t label = 0, total = 0;

        if (isempty(s) || s[0] == '.' || s[0] == '-')
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
        return total <= 253 && s[total - 1] != '-';
}

static bool is_scalar(const EnvNode *n) {
        return env_node_type(n) == ENV_NODE_SCALAR;
}

static int check_bool(const Env *e, const char *path, char **ret_error) {
        const EnvNode *n = env_lookup(e, path);

        if (!n || env_node_type(n) == ENV_NODE_NULL)
                return 0;
        if (env_node_bool(n) < 0)
                return bad(e, n, ret_error, "%s: must be true or false", path);
        return 0;
}

bool ssh_key_line_is_valid(const char *s) {
        static const char *const prefixes[] = { "ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-" };
        const char *blob;

        if (isempty(s) || strchr(s, '\n'))
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

static int check_key_list(const Env *e, const char *path, char **ret_error) {
        const EnvNode *n = env_lookup(e, path);

        if (!n || env_node_type(n) == ENV_NODE_NULL)
                return 0;
        if (env_node_type(n) != ENV_NODE_SEQUENCE)
                return bad(e, n, ret_error, "%s: must be a list of ssh public keys", path);
        for (size_t i = 0; i < env_node_size(n); i++) {
                const EnvNode *k = env_node_item(n, i);
                if (!is_scalar(k) || !ssh_key_line_is_valid(env_node_string(k)))
                        return bad(e, k, ret_error, "%s:%zu: not an ssh public key (\"ssh-ed25519 AAAA... comment\")",
                                   path, i);
        }
        return 0;
}

static int check_extra_files(const Env *e, char **ret_error) {
        const EnvNode *n = env_lookup(e, "appliance:extra:files");

        if (!n || env_node_type(n) == ENV_NODE_NULL)
                return 0;
        if (env_node_type(n) != ENV_NODE_SEQUENCE)
                return bad(e, n, ret_error, "appliance:extra:files: must be a list");
        for (size_t i = 0; i < env_node_size(n); i++) {
                const EnvNode *f = env_node_item(n, i), *p, *c, *o, *m;

                if (env_node_type(f) != ENV_NODE_MAPPING)
                        return bad(e, f, ret_error, "appliance:extra:files:%zu: must be a mapping with path, contents", i);
                p = env_node_child(f, "path");
                if (!is_scalar(p) || env_node_string(p)[0] != '/')
                        return bad(e, p ?: f, ret_error, "appliance:extra:files:%zu:path: must be an absolute path", i);
                if (strstr(env_node_string(p), "/../") || endswith(env_node_string(p), "/..") ||
                    endswith(env_node_string(p), "/"))
                        return bad(e, p, ret_error, "appliance:extra:files:%zu:path: must name a file", i);
                c = env_node_child(f, "contents") ?: env_node_child(f, "content");
                if (c && env_node_type(c) != ENV_NODE_NULL && !is_scalar(c))
                        return bad(e, c, ret_error, "appliance:extra:files:%zu:contents: must be text", i);
                o = env_node_child(f, "owner");
                if (o && env_node_type(o) != ENV_NODE_NULL &&
                    (!is_scalar(o) || isempty(env_node_string(o)) || strpbrk(env_node_string(o), " \t\n/")))
                        return bad(e, o, ret_error, "appliance:extra:files:%zu:owner: must be \"user\" or \"user:group\"", i);
                m = env_node_child(f, "permissions");
                if (m && env_node_type(m) != ENV_NODE_NULL) {
                        const char *s = env_node_string(m);
                        char *end = NULL;
                        unsigned long v = s ? strtoul(s, &end, 8) : 0;
                        if (!is_scalar(m) || isempty(s) || *end || v > 07777)
                                return bad(e, m, ret_error,
                                           "appliance:extra:files:%zu:permissions: must be an octal mode such as \"0600\"", i);
                }
        }
        return 0;
}

int agent_env_check(const Env *e, char **ret_error) {
        const EnvNode *app = env_lookup(e, "appliance"), *n, *key, *cert;
        int r;

        if (!app || env_node_type(app) != ENV_NODE_MAPPING)
                return bad(e, app, ret_error, "appliance: missing or not a mapping (the env needs appliance:domain)");

        n = env_lookup(e, "appliance:domain");
        if (!n || !is_scalar(n))
                return bad(e, n ?: app, ret_error, "appliance:domain: missing");
        if (!hostname_is_valid(env_node_string(n)))
                return bad(e, n, ret_error, "appliance:domain: '%s' is not a valid host name", env_node_string(n));

        static const char *const bools[] = {
                "appliance:standby",
                "appliance:storage:ignore:data",
                "appliance:storage:ignore:volatile",
                "appliance:storage:grow_root",
                "appliance:ssl:letsencrypt:enabled",
                "appliance:ssl:client_certs_mandatory",
        };
        for (size_t i = 0; i < ELEMENTSOF(bools); i++) {
                r = check_bool(e, bools[i], ret_error);
                if (r < 0)
                        return r;
        }

        r = check_key_list(e, "ssh_authorized_keys", ret_error);
        if (r < 0)
                return r;
        r = check_key_list(e, "ssh_deprecated_keys", ret_error);
        if (r < 0)
                return r;

        key = env_lookup(e, "appliance:ssl:key");
        cert = env_lookup(e, "appliance:ssl:cert");
        if (env_node_type(key) == ENV_NODE_NULL)
                key = NULL;
        if (env_node_type(cert) == ENV_NODE_NULL)
                cert = NULL;
        if (!!key != !!cert)
                return bad(e, key ?: cert, ret_error, "appliance:ssl: key and cert must be given together");
        if (key && (!is_scalar(key) || !strstr(env_node_string(key), "-----BEGIN ")))
                return bad(e, key, ret_error, "appliance:ssl:key: must be a PEM private key");
        if (cert && (!is_scalar(cert) || !strstr(env_node_string(cert), "-----BEGIN CERTIFICATE-----")))
                return bad(e, cert, ret_error, "appliance:ssl:cert: must be a PEM certificate");

        return check_extra_files(e, ret_error);
}

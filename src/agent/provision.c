/**
 * Users, keys and host names from the profile and the seeds; the Vagrant insecure keys; the notes
 * of what the image does not act on (provision.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-path.h"
#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "hostname.h"
#include "metric.h"
#include "provision.h"
#include "sentry.h"
#include "ssh-keys.h"
#include "strv.h"
#include "users.h"

/* The blobs of seed/vagrant.pub and seed/vagrant.pub.ed25519 (the keys Vagrant ships publicly). */
static const char *const vagrant_insecure_blobs[] = {
        "AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHzD8"
        "+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D"
        "8HfdOV0IAdx4O7PtixWKn5y2hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NOTd"
        "0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRdK8jlqm8t"
        "ehUc9c9WhQ==",
        "AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y",
};

int provision_profile_users(const Agent *a, const Profile *p, CloudConfig *c) {
        int r;

        for (size_t i = 0; i < p->n_users; i++) {
                const ProfileUser *pu = &p->users[i];
                UserSpec u = { .name = pu->name, .uid = pu->uid, .gid = pu->gid, .home = pu->home, .shell = pu->shell };
                _cleanup_free_ char *why = NULL;

                r = user_ensure(a, &u, &why);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0 && cloud_config_note(c, "profile: users:%zu: refused: %s", i, why ?: strerror(-r)) < 0)
                        return log_oom();
        }
        return 0;
}

int provision_apply(const Agent *a, const Profile *p, CloudConfig *c) {
        int r, changed = 0;

        for (size_t i = 0; i < c->n_users; i++) {
                const CloudUser *cu = &c->users[i];
                UserSpec u = { .name = cu->name, .uid = cu->uid, .gid = USER_ID_UNSET, .shell = cu->shell,
                               .gecos = cu->gecos, .groups = cu->groups, .sudo = cu->sudo };
                _cleanup_free_ char *why = NULL;

                r = user_ensure(a, &u, &why);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        if (cloud_config_note(c, "seed: user '%s': refused: %s", cu->name, why ?: strerror(-r)) < 0)
                                return log_oom();
                        continue;
                }
                changed |= r;
                if (cu->ssh_keys) {
                        r = authorized_keys_update(a, cu->name, cu->ssh_keys, NULL);
                        if (r < 0 && cloud_config_note(c, "seed: user '%s': cannot install its ssh keys", cu->name) < 0)
                                return log_oom();
                        changed |= r > 0;
                }
        }
        if (c->ssh_keys) {
                _cleanup_strv_free_ char **owners = NULL;

                if (strv_extend(&owners, "root") < 0)
                        return log_oom();
                for (size_t i = 0; i < p->n_users; i++)
                        if (strv_extend(&owners, p->users[i].name) < 0)
                                return log_oom();
                STRV_FOREACH(o, owners) {
                        r = authorized_keys_update(a, *o, c->ssh_keys, NULL);
                        if (r < 0 && cloud_config_note(c, "seed: cannot install the ssh keys of '%s'", *o) < 0)
                                return log_oom();
                        changed |= r > 0;
                }
        }
        if (c->hostname) {
                r = hostname_apply(a, c->hostname);
                if (r < 0 && cloud_config_note(c, "seed: cannot set the host name '%s'", c->hostname) < 0)
                        return log_oom();
                changed |= r > 0;
        }
        return changed;
}

/* The env keys the agent itself acts on; a key covers everything below it. */
static const char *const agent_env_keys[] = {
        "ssh_authorized_keys",
        "ssh_deprecated_keys",
        "USERDATA_TYPE",
        "appliance:domain",
        "appliance:standby",
        "appliance:ssl:key",
        "appliance:ssl:cert",
        "appliance:ssl:client_certs_mandatory",
        "appliance:ssl:letsencrypt",
        "appliance:update",
        "appliance:extra:files",
        "appliance:storage:ignore",
        "appliance:storage:grow_root",
        "appliance:backup",
        "appliance:sentry:dsn",
        "appliance:metric",
};

/* The env keys a template names: "{{ key" or "{{ key | default }}". */
static int template_keys(const Agent *a, const Profile *p, char ***keys) {
        for (size_t i = 0; i < p->n_templates; i++) {
                _cleanup_free_ char *text = NULL;

                if (agent_read_image_file(a, p->templates[i].src, 16 * 1024 * 1024, &text, NULL) < 0)
                        continue;
                for (const char *c = strstr(text, "{{"); c; c = strstr(c, "{{")) {
                        size_t n;

                        c += 2;
                        c += strspn(c, " ");
                        n = strspn(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:-");
                        if (n > 0) {
                                _cleanup_free_ char *k = strndup(c, n);
                                if (!k)
                                        return -ENOMEM;
                                if (!strv_contains(*keys, k) && strv_extend(keys, k) < 0)
                                        return -ENOMEM;
                        }
                }
        }
        return 0;
}

/* 1: path is acted on (it or an ancestor is listed), 2: a descendant is listed (look inside), 0: no. */
static int key_coverage(char *const *keys, const char *path) {
        size_t pl = strlen(path);
        int r = 0;

        STRV_FOREACH(k, keys) {
                size_t kl = strlen(*k);
                if (kl <= pl && strneq(*k, path, kl) && (path[kl] == 0 || path[kl] == ':'))
                        return 1;
                if (kl > pl && strneq(*k, path, pl) && (*k)[pl] == ':')
                        r = 2;
        }
        return r;
}

static bool value_is_off(const EnvNode *n) {
        if (!n || env_node_type(n) == ENV_NODE_NULL)
                return true;
        if (env_node_type(n) == ENV_NODE_SCALAR)
                return !env_node_string(n) || env_node_bool(n) == 0;
        return env_node_size(n) == 0;
}

/* Whether a mapping or list holds anything that is not off. */
static bool value_is_set(const EnvNode *n) {
        if (env_node_type(n) == ENV_NODE_MAPPING || env_node_type(n) == ENV_NODE_SEQUENCE) {
                for (size_t i = 0; i < env_node_size(n); i++)
                        if (value_is_set(env_node_item(n, i)))
                                return true;
                return false;
        }
        return !value_is_off(n);
}

static int report_node(CloudConfig *c, char *const *keys, const char *path, const EnvNode *n) {
        int cov = key_coverage(keys, path), r;

        if (cov == 1 || !value_is_set(n))
                return 0;
        if (cov == 2 && env_node_type(n) == ENV_NODE_MAPPING) {
                for (size_t i = 0; i < env_node_size(n); i++) {
                        _cleanup_free_ char *sub = NULL;
                        if (asprintf(&sub, "%s:%s", path, env_node_key(n, i)) < 0)
                                return -ENOMEM;
                        r = report_node(c, keys, sub, env_node_item(n, i));
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        if (streq(path, "disable_root"))
                return cloud_config_note(c, "env: disable_root: true not supported: root logs in with ssh keys");
        return cloud_config_note(c, "env: %s: not supported by this profile", path);
}

int provision_report_env(const Agent *a, const Profile *p, const Env *e, CloudConfig *c) {
        _cleanup_strv_free_ char **keys = NULL;
        const EnvNode *root = env_root(e);
        int r;

        for (size_t i = 0; i < ELEMENTSOF(agent_env_keys); i++)
                if (strv_extend(&keys, agent_env_keys[i]) < 0)
                        return log_oom();
        STRV_FOREACH(k, p->env_keys)
                if (strv_extend(&keys, *k) < 0)
                        return log_oom();
        if (template_keys(a, p, &keys) < 0)
                return log_oom();
        for (size_t i = 0; i < env_node_size(root); i++) {
                r = report_node(c, keys, env_node_key(root, i), env_node_item(root, i));
                if (r < 0)
                        return log_oom();
        }
        {
                const char *dsn = env_get_string(e, "appliance:sentry:dsn", NULL);
                _cleanup_(sentry_dsn_done) SentryDsn d = {};
                _cleanup_free_ char *why = NULL;

                if (!isempty(dsn) && (sentry_dsn_parse(dsn, &d, &why) < 0 || sentry_dsn_servable(&d, &why) < 0) &&
                    cloud_config_note(c, "env: %s: not served", why ?: "appliance:sentry:dsn") < 0)
                        return log_oom();
        }
        {
                _cleanup_(metric_plan_done) MetricPlan mp = {};
                if (metric_plan_for(a, e, &mp) < 0)
                        return log_oom();
                STRV_FOREACH(n, mp.notes)
                        if (cloud_config_note(c, "%s", *n) < 0)
                                return log_oom();
        }
        return 0;
}

int provision_write_notes(const Agent *a, char *const *notes, size_t n_logged) {
        _cleanup_free_ char *text = NULL;
        int r;

        for (size_t i = n_logged; i < strv_length(notes); i++)
                log_warning("%s", notes[i]);
        STRV_FOREACH(n, notes) {
                char *t = NULL;
                if (asprintf(&t, "%s%s\n", text ?: "", *n) < 0)
                        return log_oom();
                free(text);
                text = t;
        }
        r = agent_write_file(a, AGENT_NOTES_FILE, text ?: "", text ? strlen(text) : 0, 0644, (uid_t) -1, (gid_t) -1);
        if (r < 0)
                return agent_log_io_error(a, "write", AGENT_NOTES_FILE, r);
        return 0;
}

bool ssh_key_is_vagrant_insecure(const char *line) {
        _cleanup_free_ char *id = ssh_key_identity(line);
        const char *blob = id ? strchr(id, ' ') : NULL;

        if (!blob)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(vagrant_insecure_blobs); i++)
                if (streq(blob + 1, vagrant_insecure_blobs[i]))
                        return true;
        return false;
}

/* Removes the insecure keys from one file when it holds another key. Returns 1 if changed. */
static int cleanup_one(const Agent *a, const char *user, const char *home) {
        _cleanup_free_ char *rel = NULL, *text = NULL;
        _cleanup_strv_free_ char **insecure = NULL;
        bool other = false;

        if (asprintf(&rel, "%s/.ssh/authorized_keys", streq(home, "/") ? "" : home) < 0)
                return -ENOMEM;
        if (agent_read_file(a, rel, 4 * 1024 * 1024, &text, NULL) < 0)
                return 0;
        for (char *l = text, *next; l && *l; l = next) {
                size_t n = strcspn(l, "\n");
                _cleanup_free_ char *line = strndup(l, n), *id = NULL;

                next = l[n] ? l + n + 1 : l + n;
                if (!line)
                        return -ENOMEM;
                id = ssh_key_identity(line);
                if (!id)
                        continue;
                if (ssh_key_is_vagrant_insecure(line)) {
                        if (strv_consume(&insecure, TAKE_PTR(line)) < 0)
                                return -ENOMEM;
                } else
                        other = true;
        }
        if (!other || !insecure)
                return 0;
        log_notice("'%s' has its own ssh key now: removing the Vagrant insecure key(s) from '%s'.", user, rel);
        return authorized_keys_update(a, user, NULL, insecure);
}

int insecure_keys_cleanup(const Agent *a) {
        _cleanup_free_ char *text = NULL;
        int r, changed = 0;

        r = agent_read_image_file(a, "/etc/passwd", 16 * 1024 * 1024, &text, NULL);
        if (r < 0)
                return r == -ENOENT ? 0 : log_error_errno(r, "Failed to read /etc/passwd: %m");
        for (char *l = text, *next; l && *l; l = next) {
                size_t n = strcspn(l, "\n");
                _cleanup_free_ char *name = NULL, *home = NULL;
                uid_t uid;
                gid_t gid;

                next = l[n] ? l + n + 1 : l + n;
                name = strndup(l, strcspn(l, ":\n"));
                if (!name)
                        return log_oom();
                if (isempty(name) || user_lookup(a, name, &uid, &gid, &home) < 0 || isempty(home) || home[0] != '/')
                        continue;
                r = cleanup_one(a, name, home);
                if (r < 0)
                        return log_error_errno(r, "Failed to clean the ssh keys of '%s': %m", name);
                changed |= r;
        }
        return changed;
}

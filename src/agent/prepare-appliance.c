/**
 * prepare-appliance: per-instance host configuration from the active env.
 *
 *  1. Hostname: ROOT/etc/hostname and the 127.0.1.1 line of ROOT/etc/hosts; on the real root also
 *     sethostname() when it differs.
 *  2. ssh_authorized_keys added to and ssh_deprecated_keys removed from ~/.ssh/authorized_keys of
 *     root and of the app user (keys compare by type and base64 blob; other lines are kept).
 *     (ssh-keys.h; the ssh host keys are made by prepare-env, before ssh.service and even when the
 *     env is bad, so that the administrator can still log in to fix it).
 *  3. appliance:extra:files: contents (trailing newlines trimmed, one added, as the original's
 *     echo did) with owner and permissions; rewritten only when something differs.
 *  4. TLS: the env's appliance:ssl:key/cert, checked to belong together, else a self-signed
 *     certificate for appliance:domain, kept while it still fits (tls.h).
 *  5. appliance:update: the schedule of appliance-update.timer (oncalendar, a drop-in) and apt's
 *     unattended upgrades (automatic, /etc/apt/apt.conf.d/20auto-upgrades).
 *  6. The profile's templates, rendered from the env (template.h).
 *  7. With a configured env: the backup profile (backup.h) and the metric switches (metric.h).
 *  8. The client certificate authority on /data/ecs-ca, made once, and nginx's client
 *     verification from appliance:ssl:client_certs_mandatory (client-ca.h). A new CA's RSA key is
 *     made on a thread from the step's start, beside parts 1-7.
 * Every file is written atomically, owner and mode set before it appears.
 *
 * Whatever fails, here or in an earlier step (the failed flag is set), the appliance still answers
 * https with the maintenance page and the reason: the TLS identity is kept or made self-signed for
 * the host name, and the templates (the nginx site) are rendered from the placeholder env
 * (appliance:domain = the host name), one by one, each failure logged and skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "agent-path.h"
#include "backup.h"
#include "cleanup.h"
#include "client-ca.h"
#include "crypto.h"
#include "escape.h"
#include "fileio.h"
#include "hostname.h"
#include "log.h"
#include "metric.h"
#include "prepare-appliance.h"
#include "profile.h"
#include "reterr.h"
#include "ssh-keys.h"
#include "strv.h"
#include "template.h"
#include "tls.h"
#include "users.h"

static int env_string_list(const Env *e, const char *path, char ***ret) {
        const EnvNode *n = env_lookup(e, path);
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (size_t i = 0; n && env_node_type(n) == ENV_NODE_SEQUENCE && i < env_node_size(n); i++) {
                const char *s = env_node_string(env_node_item(n, i));
                if (!s)
                        continue;
                r = strv_extend(&l, s);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int setup_ssh_keys(const Agent *a, const Env *env, const char *domain, char **reason) {
        (void) domain;
        _cleanup_strv_free_ char **add = NULL, **del = NULL;
        int r, changed = 0;

        if (env_string_list(env, "ssh_authorized_keys", &add) < 0 ||
            env_string_list(env, "ssh_deprecated_keys", &del) < 0)
                return log_oom();
        if (!add && !del)
                return 0;
        for (const char *const *u = (const char *const[]) { "root", "app", NULL }; *u; u++) {
                r = authorized_keys_merge(a, *u, add, del, reason);
                if (r < 0)
                        return r;
                changed |= r;
        }
        return changed;
}

static int setup_extra_files(const Agent *a, const Env *env, const char *domain, char **reason) {
        (void) domain;
        const EnvNode *files = env_lookup(env, "appliance:extra:files");
        int changed = 0, r;

        for (size_t i = 0; files && env_node_type(files) == ENV_NODE_SEQUENCE && i < env_node_size(files); i++) {
                const EnvNode *f = env_node_item(files, i);
                const char *path = env_node_string(env_node_child(f, "path")),
                           *contents = env_node_string(env_node_child(f, "contents")),
                           *owner = env_node_string(env_node_child(f, "owner")),
                           *perm = env_node_string(env_node_child(f, "permissions"));
                _cleanup_free_ char *data = NULL;
                mode_t mode = 0644;
                uid_t uid = 0;
                gid_t gid = 0;
                size_t n;

                if (!env_node_child(f, "contents") && env_node_child(f, "content")) {
                        log_warning("appliance:extra:files:%zu: 'content' is deprecated, use 'contents'.", i);
                        contents = env_node_string(env_node_child(f, "content"));
                }
                contents = contents ?: "";
                n = strlen(contents);
                while (n > 0 && contents[n - 1] == '\n')
                        n--;
                if (asprintf(&data, "%.*s\n", (int) n, contents) < 0)
                        return log_oom();
                if (perm)
                        mode = (mode_t) strtoul(perm, NULL, 8);
                if (owner) {
                        r = owner_parse(a, owner, &uid, &gid);
                        if (r < 0)
                                return asprintf(reason, "appliance:extra:files:%zu: unknown owner '%s'", i, owner) < 0
                                               ? log_oom()
                                               : r;
                }
                r = agent_write_file(a, path, data, strlen(data), mode, uid, gid);
                if (r < 0) {
                        _cleanup_free_ char *why = agent_io_reason(a, path, r);
                        return reterr_printf(reason, r, "appliance:extra:files:%zu: cannot write '%s': %s", i, path,
                                             why ?: strerror(-r));
                }
                if (r > 0)
                        log_info("Wrote extra file '%s' (mode %04o).", path, (unsigned) mode);
                changed |= r;
        }
        return changed;
}

static int setup_tls(const Agent *a, const Env *env, const char *domain, char **reason) {
        const char *key = env_get_string(env, "appliance:ssl:key", NULL),
                   *cert = env_get_string(env, "appliance:ssl:cert", NULL);
        static const char kp[] = "/app/etc/server.key.pem", cp[] = "/app/etc/server.cert.pem";
        _cleanup_free_ char *old_key = NULL, *old_cert = NULL, *gen_key = NULL, *gen_cert = NULL, *err = NULL;
        int r, changed = 0;

        if (key && cert) {
                r = tls_check_pair(key, cert, &err);
                if (r < 0) {
                        *reason = TAKE_PTR(err);
                        return r;
                }
        } else {
                r = agent_read_text(a, kp, 1024 * 1024, &old_key, reason);
                if (r >= 0)
                        r = agent_read_text(a, cp, 1024 * 1024, &old_cert, reason);
                if (r < 0)
                        return r;
                if (old_key && old_cert && tls_check_pair(old_key, old_cert, NULL) >= 0 &&
                    pem_cert_usable(old_cert, domain, 86400)) {
                        log_info("Keeping the TLS certificate for '%s'.", domain);
                        return 0;
                }
                r = pem_make_self_signed(domain, 3650, &gen_key, &gen_cert);
                if (r < 0)
                        return log_error_errno(r, "Failed to make a self-signed certificate: %m");
                log_info("Made a self-signed TLS certificate for '%s'.", domain);
                key = gen_key;
                cert = gen_cert;
        }
        r = agent_write_text(a, kp, key, 0600, 0, 0, reason);
        if (r < 0)
                return r;
        changed |= r;
        r = agent_write_text(a, cp, cert, 0644, 0, 0, reason);
        if (r < 0)
                return r;
        return changed | r;
}

static int render_templates(const Agent *a, const Env *env, const char *domain, char **reason) {
        (void) domain;
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *err = NULL;
        int r, changed = 0;

        r = agent_load_profile(a, &p, &err);
        if (r < 0) {
                *reason = err ? TAKE_PTR(err) : strdup("cannot read the image profile");
                return r;
        }
        for (size_t i = 0; i < p->n_templates; i++) {
                const ProfileTemplate *t = &p->templates[i];
                _cleanup_free_ char *text = NULL, *out = NULL;

                r = agent_read_image_file(a, t->src, 16 * 1024 * 1024, &text, NULL);
                if (r < 0) {
                        _cleanup_free_ char *why = agent_io_reason(a, t->src, r);
                        return reterr_printf(reason, r, "template '%s': %s", t->src, why ?: strerror(-r));
                }
                r = template_render(env, t->src, text, &out, &err);
                if (r < 0)
                        return asprintf(reason, "template %s", err ?: t->src) < 0 ? log_oom() : r;
                r = agent_write_text(a, t->dest, out, t->mode, 0, 0, reason);
                if (r < 0)
                        return r;
                if (r > 0)
                        log_info("Rendered '%s' from '%s'.", t->dest, t->src);
                changed |= r;
        }
        return changed;
}

/* appliance:update: the timer's schedule (oncalendar) and apt's unattended upgrades (automatic). */
static int update_timer_write(const Agent *a, const Env *env, const char *domain, char **reterr) {
        const char *when = env_get_string(env, "appliance:update:oncalendar", NULL);
        int automatic = env_get_bool(env, "appliance:update:automatic", true);
        _cleanup_free_ char *text = NULL, *value = NULL, *apt = NULL;
        int r, changed;

        (void) domain;
        if (isempty(when))
                when = UPDATE_ONCALENDAR_DEFAULT;
        r = unit_escape_value(when, &value);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return reterr_printf(reterr, r, "appliance:update:oncalendar: cannot be a unit setting: '%s'", when);
        if (asprintf(&text,
                     "# Written by appliance-agent from appliance:update:oncalendar.\n"
                     "[Timer]\n"
                     "OnCalendar=\n"
                     "OnCalendar=%s\n",
                     value) < 0)
                return -ENOMEM;
        /* The unit's own schedule is the default: a drop-in only for another one. */
        r = agent_unit_dropin(a, UPDATE_TIMER_DROPIN, streq(when, UPDATE_ONCALENDAR_DEFAULT) ? NULL : text, reterr);
        if (r < 0)
                return r;
        changed = r;

        /* unattended-upgrades (where the image has it) follows appliance:update:automatic. */
        if (!agent_exists(a, "/etc/apt/apt.conf.d"))
                return changed;
        if (asprintf(&apt,
                     "// Written by appliance-agent from appliance:update:automatic (%s).\n"
                     "APT::Periodic::Update-Package-Lists \"%d\";\n"
                     "APT::Periodic::Unattended-Upgrade \"%d\";\n",
                     automatic != 0 ? "true" : "false", automatic != 0, automatic != 0) < 0)
                return -ENOMEM;
        r = agent_write_text(a, UPDATE_APT_PERIODIC, apt, 0644, 0, 0, reterr);
        if (r < 0)
                return r;
        return changed | r;
}

static int setup_client_ca(const Agent *a, const Env *env, const char *domain, char **reason) {
        _cleanup_(profile_freep) Profile *p = NULL;
        bool nginx = false;
        int r, changed;

        r = client_ca_ensure(a, domain, reason);
        if (r < 0)
                return r;
        changed = r;
        /* The verification is nginx's: for a profile that runs it or renders its configuration. */
        r = agent_load_profile(a, &p, NULL);
        if (r < 0)
                return changed;
        for (size_t i = 0; i < p->n_services; i++)
                nginx = nginx || streq(p->services[i].unit, "nginx.service");
        for (size_t i = 0; i < p->n_templates; i++)
                nginx = nginx || startswith(p->templates[i].dest, "/etc/nginx/");
        if (!nginx)
                return changed;
        r = client_ca_write_nginx(a, env, true, reason);
        if (r < 0)
                return r;
        return changed | r;
}

static int setup_hostname(const Agent *a, const Env *env, const char *domain, char **reason) {
        (void) env;
        return hostname_set(a, domain, reason);
}

/* A backup that cannot be set up is the backup's failure (status, journal), not the appliance's:
 * the "backup" line says why, and no profile is left behind. Never fails the step. */
static int setup_backup(const Agent *a, const Env *env, const char *domain, char **reason) {
        _cleanup_free_ char *why = NULL, *pub = NULL;
        int r;

        (void) domain;
        (void) reason;
        r = backup_prepare(a, env, &why);
        if (r >= 0)
                return r;
        pub = agent_public_reason(a, why, env);
        log_error("Cannot set up the backup: %s", why ?: strerror(-r));
        (void) agent_unlink(a, BACKUP_PROFILE_DIR "/conf");
        (void) agent_record_step(a, "backup", STEP_FAILED, pub ?: "cannot set up the backup", 0, NULL);
        return 0;
}

static int setup_metrics(const Agent *a, const Env *env, const char *domain, char **reason) {
        (void) domain;
        (void) reason;
        return metric_prepare(a, env);
}

/* The parts in order; the client CA last, so that a new CA's key, made on a thread since the step
 * began (client_ca_key_start()), has had the other parts' time. */
static int apply_parts(const Agent *a, const Env *env, const char *domain, bool configured, char ***changed,
                       char **reason) {
        static const struct {
                const char *what;
                int (*fn)(const Agent *a, const Env *env, const char *domain, char **reason);
                const char *fail;
                bool configured_only; /* an env, not the placeholder of the unconfigured appliance */
        } parts[] = {
                { "hostname", setup_hostname, "Cannot set the hostname" },
                { "ssh keys", setup_ssh_keys, "Cannot install the ssh keys" },
                { "extra files", setup_extra_files, "Cannot write the extra files" },
                { "tls certificate", setup_tls, "Cannot set up the TLS certificate" },
                { "update timer", update_timer_write, "Cannot write the update timer's schedule" },
                { "templates", render_templates, "Cannot render the templates" },
                { "backup", setup_backup, "Cannot set up the backup", true },
                { "metrics", setup_metrics, "Cannot write the metric switches", true },
                { "client ca", setup_client_ca, "Cannot set up the client certificate authority" },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                if (parts[i].configured_only && !configured)
                        continue;
                r = parts[i].fn(a, env, domain, reason);
                if (r < 0) {
                        if (!*reason)
                                *reason = strdup(parts[i].fail);
                        return r;
                }
                if (r > 0 && strv_extend(changed, parts[i].what) < 0)
                        return log_oom();
        }
        return 0;
}

int prepare_appliance_apply(const Agent *a, const Env *env, bool configured, char ***ret_changed, char **reason) {
        _cleanup_strv_free_ char **changed = NULL;
        const char *domain = env_get_string(env, "appliance:domain", NULL);
        int r;

        client_ca_key_start(a);
        r = apply_parts(a, env, domain, configured, &changed, reason);
        client_ca_key_done();
        if (r < 0)
                return r;
        r = changed ? 1 : 0;
        if (ret_changed)
                *ret_changed = TAKE_PTR(changed);
        return r;
}

/* What https needs to answer with the maintenance page in the failed state. Never fails the step. */
static void setup_maintenance(const Agent *a) {
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_free_ char *reason = NULL, *err = NULL, *key = NULL, *cert = NULL;
        const char *domain;
        int r;

        r = agent_placeholder_env(a, &env);
        if (r < 0) {
                log_error_errno(r, "Maintenance page: cannot make the placeholder env: %m");
                return;
        }
        domain = env_get_string(env, "appliance:domain", NULL);
        /* Any pair that belongs together does for the maintenance page: a certificate of the env
         * is never replaced because the appliance failed. */
        if (agent_read_text(a, "/app/etc/server.key.pem", 1024 * 1024, &key, NULL) < 0 || !key ||
            agent_read_text(a, "/app/etc/server.cert.pem", 1024 * 1024, &cert, NULL) < 0 || !cert ||
            tls_check_pair(key, cert, NULL) < 0) {
                r = setup_tls(a, env, domain, &reason);
                if (r < 0)
                        log_error("Maintenance page: no TLS identity: %s", reason ?: strerror(-r));
        }
        /* The site includes the client verification snippet: with the CA where it is there, else
         * none (no CA is made here: /data may not be the volume yet). */
        free(reason);
        reason = NULL;
        r = client_ca_write_nginx(a, env, client_ca_exists(a), &reason);
        if (r < 0)
                log_error("Maintenance page: no client verification snippet: %s", reason ?: strerror(-r));
        r = agent_load_profile(a, &p, &err);
        if (r < 0) {
                log_error("Maintenance page: %s", err ?: "cannot read the image profile");
                return;
        }
        for (size_t i = 0; i < p->n_templates; i++) {
                const ProfileTemplate *t = &p->templates[i];
                _cleanup_free_ char *text = NULL, *out = NULL, *why = NULL;

                r = agent_read_image_file(a, t->src, 16 * 1024 * 1024, &text, NULL);
                if (r >= 0)
                        r = template_render(env, t->src, text, &out, &why);
                if (r >= 0)
                        r = agent_write_text(a, t->dest, out, t->mode, 0, 0, &why);
                if (r < 0)
                        log_warning("Maintenance page: template '%s' not rendered: %s", t->src,
                                    why ?: strerror(-r));
                else if (r > 0)
                        log_info("Maintenance page: rendered '%s' for '%s'.", t->dest, domain);
        }
}

static int fail_step(const Agent *a, uint64_t t0, const char *reason) {
        int r = agent_step_fail(a, "prepare-appliance", t0, reason);
        setup_maintenance(a);
        return r;
}

int step_prepare_appliance(const Agent *a) {
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_free_ char *reason = NULL, *msg = NULL;
        _cleanup_strv_free_ char **changed = NULL;
        uint64_t t0 = now_usec();
        bool configured;
        int r;

        if (agent_failed_check(a, NULL) == -EBUSY) {
                /* An earlier step failed: nothing of the env is applied, but https must show why. */
                log_notice("The appliance failed: setting up the maintenance page only.");
                setup_maintenance(a);
                return 0;
        }
        r = agent_step_begin(a, "prepare-appliance", &env);
        if (r <= 0)
                return r;
        configured = r == 1;
        (void) agent_notify("STATUS=Preparing the appliance");
        (void) agent_write_status_page(a, "Appliance Startup", "Starting up");

        r = prepare_appliance_apply(a, env, configured, &changed, &reason);
        if (r < 0)
                return fail_step(a, t0, reason ?: "Cannot prepare the appliance");
        if (changed) {
                _cleanup_free_ char *list = strv_join(changed, ", ");
                if (!list || asprintf(&msg, "appliance configured (%s)", list) < 0)
                        return log_oom();
        }
        (void) agent_record_step(a, "prepare-appliance", changed ? STEP_CHANGED : STEP_OK,
                                 msg ?: "appliance configuration unchanged", now_usec() - t0, NULL);
        return 0;
}

/**
 * prepare-appliance: per-instance host configuration from the active env.
 *
 *  1. Hostname: ROOT/etc/hostname and the 127.0.1.1 line of ROOT/etc/hosts; on the real root also
 *     sethostname() when it differs.
 *  2. ssh_authorized_keys added to and ssh_deprecated_keys removed from ~/.ssh/authorized_keys of
 *     root and of the app user (keys compare by type and base64 blob; other lines are kept).
 *  3. ssh host keys (rsa, ecdsa, ed25519) generated when missing, so every instance has its own:
 *     the image ships none. This runs in prepare-env (before ssh.service and even when the env is
 *     bad, so that the administrator can still log in to fix it); the function lives here. They
 *     are made by the image's own ssh-keygen (one -f per key, which works with every OpenSSH from
 *     Ubuntu 16.04 on, also under --root); without ssh-keygen there is no sshd to need them.
 *  4. appliance:extra:files: contents (trailing newlines trimmed, one added, as the original's
 *     echo did) with owner and permissions; rewritten only when something differs.
 *  5. TLS: the env's appliance:ssl:key/cert, checked to belong together, else a self-signed
 *     certificate for appliance:domain, kept while it still fits (tls.h).
 *  6. The profile's templates, rendered from the env (template.h).
 * Every file is written atomically, owner and mode set before it appears.
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
#include "chase.h"
#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "prepare-appliance.h"
#include "profile.h"
#include "reterr.h"
#include "spawn.h"
#include "strv.h"
#include "template.h"
#include "tls.h"
#include "users.h"

/* Writes path below the root (agent_write_file()); on failure a reason naming the path and why. */
static int write_in_root(const Agent *a, const char *path, const char *data, mode_t mode, uid_t uid, gid_t gid,
                         char **reason) {
        int r = agent_write_file(a, path, data, strlen(data), mode, uid, gid);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, path, r);
                return reterr_printf(reason, r, "Cannot write '%s': %s", path, why ?: strerror(-r));
        }
        return r;
}

/* Reads path below the root strictly; a missing file is *ret == NULL and 0. */
static int read_in_root(const Agent *a, const char *path, size_t max, char **ret, char **reason) {
        int r = agent_read_file(a, path, max, ret, NULL);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, path, r);
                return reterr_printf(reason, r, "Cannot read '%s': %s", path, why ?: strerror(-r));
        }
        return 0;
}

static int setup_hostname(const Agent *a, const char *domain, char **reason) {
        _cleanup_free_ char *line = NULL, *out = NULL, *hostline = NULL, *old = NULL;
        const char *dot = strchr(domain, '.');
        size_t olen = 0;
        FILE *f;
        int r, changed;

        if (asprintf(&line, "%s\n", domain) < 0)
                return log_oom();
        r = write_in_root(a, "/etc/hostname", line, 0644, 0, 0, reason);
        if (r < 0)
                return r;
        changed = r;

        if (dot)
                r = asprintf(&hostline, "127.0.1.1\t%s %.*s\n", domain, (int) (dot - domain), domain);
        else
                r = asprintf(&hostline, "127.0.1.1\t%s\n", domain);
        if (r < 0)
                return log_oom();
        r = read_in_root(a, "/etc/hosts", 1024 * 1024, &old, reason);
        if (r < 0)
                return r;
        f = open_memstream(&out, &olen);
        if (!f)
                return log_oom();
        if (!old)
                fputs("127.0.0.1\tlocalhost\n", f);
        bool placed = false;
        for (char *l = old, *next; l && *l; l = next) {
                size_t n = strcspn(l, "\n");
                next = l[n] ? l + n + 1 : l + n;
                if (startswith(l, "127.0.1.1") && (l[9] == ' ' || l[9] == '\t')) {
                        if (!placed)
                                fputs(hostline, f);
                        placed = true;
                        continue;
                }
                fwrite(l, 1, n, f);
                fputc('\n', f);
        }
        if (!placed)
                fputs(hostline, f);
        if (fclose(f) != 0)
                return log_oom();
        r = write_in_root(a, "/etc/hosts", out, 0644, 0, 0, reason);
        if (r < 0)
                return r;
        changed |= r;

        if (agent_is_host_root(a)) {
                char cur[256] = {};
                if (gethostname(cur, sizeof cur - 1) < 0 || !streq(cur, domain)) {
                        if (sethostname(domain, strlen(domain)) < 0)
                                return log_error_errno(errno, "Failed to set the hostname to '%s': %m", domain);
                        changed = 1;
                }
        }
        if (changed)
                log_info("Hostname set to '%s'.", domain);
        return changed;
}

/* "type blob" of an authorized_keys line (options skipped), newly allocated, or NULL. */
char *ssh_key_identity(const char *line) {
        static const char *const prefixes[] = { "ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-" };

        for (const char *p = line; p && *p; p = strpbrk(p, " \t") ? strpbrk(p, " \t") + 1 : NULL) {
                p += strspn(p, " \t");
                for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                        if (startswith(p, prefixes[i])) {
                                size_t t = strcspn(p, " \t");
                                const char *b = p + t + strspn(p + t, " \t");
                                size_t bl = strcspn(b, " \t\r\n");
                                char *out;
                                if (bl == 0)
                                        return NULL;
                                if (asprintf(&out, "%.*s %.*s", (int) t, p, (int) bl, b) < 0)
                                        return NULL;
                                return out;
                        }
        }
        return NULL;
}

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

/* Merges the env's keys into one authorized_keys file. Returns 1 if changed. */
static int update_authorized_keys(const Agent *a, const char *user, char *const *add, char *const *del,
                                  char **reason) {
        _cleanup_free_ char *home = NULL, *sshdir = NULL, *path = NULL, *old = NULL, *out = NULL;
        _cleanup_strv_free_ char **del_ids = NULL, **have = NULL;
        size_t olen = 0;
        uid_t uid;
        gid_t gid;
        FILE *f;
        int r;

        r = user_lookup(a, user, &uid, &gid, &home);
        if (r == -ESRCH) {
                log_info("No user '%s' in the image, no ssh keys for it.", user);
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to look up user '%s': %m", user);
        if (isempty(home) || home[0] != '/')
                return log_error_errno(EINVAL, "User '%s' has no usable home directory.", user);
        if (asprintf(&sshdir, "%s/.ssh", streq(home, "/") ? "" : home) < 0 ||
            asprintf(&path, "%s/authorized_keys", sshdir) < 0)
                return log_oom();

        STRV_FOREACH(d, del) {
                char *id = ssh_key_identity(*d);
                if (id && strv_consume(&del_ids, id) < 0)
                        return log_oom();
        }
        r = read_in_root(a, path, 4 * 1024 * 1024, &old, reason);
        if (r < 0)
                return r;
        f = open_memstream(&out, &olen);
        if (!f)
                return log_oom();
        for (char *l = old, *next; l && *l; l = next) {
                size_t n = strcspn(l, "\n");
                _cleanup_free_ char *line = strndup(l, n), *id = NULL;
                next = l[n] ? l + n + 1 : l + n;
                if (!line) {
                        fclose(f);
                        return log_oom();
                }
                id = ssh_key_identity(line);
                if (id && strv_contains(del_ids, id)) {
                        log_info("Removing deprecated ssh key '%s...' of '%s'.", strndupa(id, 40), user);
                        continue;
                }
                if (id && strv_extend(&have, id) < 0) {
                        fclose(f);
                        return log_oom();
                }
                fprintf(f, "%s\n", line);
        }
        STRV_FOREACH(k, add) {
                _cleanup_free_ char *id = ssh_key_identity(*k);
                if (!id || strv_contains(have, id) || strv_contains(del_ids, id))
                        continue;
                fprintf(f, "%s\n", *k);
                if (strv_extend(&have, id) < 0) {
                        fclose(f);
                        return log_oom();
                }
        }
        if (fclose(f) != 0)
                return log_oom();
        if (!old && isempty(out))
                return 0;

        r = agent_mkdir(a, sshdir, 0700, uid, gid, NULL);
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, sshdir, r);
                return reterr_printf(reason, r, "Cannot create '%s': %s", sshdir, why ?: strerror(-r));
        }
        r = write_in_root(a, path, out ?: "", 0600, uid, gid, reason);
        if (r < 0)
                return r;
        if (r > 0)
                log_info("Updated the authorized ssh keys of '%s'.", user);
        return r;
}

int hostname_apply(const Agent *a, const char *name) {
        _cleanup_free_ char *reason = NULL;
        int r = setup_hostname(a, name, &reason);

        if (r < 0 && reason)
                log_error("%s", reason);
        return r;
}

int authorized_keys_update(const Agent *a, const char *user, char *const *add, char *const *del) {
        _cleanup_free_ char *reason = NULL;
        int r = update_authorized_keys(a, user, add, del, &reason);

        if (r < 0 && reason)
                log_error("%s", reason);
        return r;
}

static int setup_ssh_keys(const Agent *a, const Env *env, char **reason) {
        _cleanup_strv_free_ char **add = NULL, **del = NULL;
        int r, changed = 0;

        if (env_string_list(env, "ssh_authorized_keys", &add) < 0 ||
            env_string_list(env, "ssh_deprecated_keys", &del) < 0)
                return log_oom();
        if (!add && !del)
                return 0;
        for (const char *const *u = (const char *const[]) { "root", "app", NULL }; *u; u++) {
                r = update_authorized_keys(a, *u, add, del, reason);
                if (r < 0)
                        return r;
                changed |= r;
        }
        return changed;
}

/* Runs ssh-keygen for one key type in a private scratch directory on the host and installs the pair
 * below the root through its fd (ssh-keygen writes through paths, never into the tree itself). */
static int make_host_key(const Agent *a, const char *keygen, const char *type, const char *key_path) {
        _cleanup_free_ char *tmp = NULL, *key = NULL, *pub = NULL, *key_text = NULL, *pub_text = NULL,
                           *pub_path = NULL;
        int r;

        if (asprintf(&tmp, "%s/appliance-hostkey-XXXXXX", getenv("TMPDIR") ?: "/tmp") < 0)
                return -ENOMEM;
        if (!mkdtemp(tmp))
                return -errno;
        if (asprintf(&key, "%s/key", tmp) < 0 || asprintf(&pub, "%s/key.pub", tmp) < 0 ||
            asprintf(&pub_path, "%s.pub", key_path) < 0)
                r = -ENOMEM;
        else {
                r = spawn_capture((char *[]) { (char *) keygen, (char *) "-q", (char *) "-N", (char *) "",
                                               (char *) "-t", (char *) type, (char *) "-C", (char *) "root@appliance",
                                               (char *) "-f", key, NULL },
                                  NULL, 0, SPAWN_NULL_STDOUT, NULL, NULL);
                if (r > 0)
                        r = -EIO;
        }
        if (r >= 0)
                r = read_input(AT_FDCWD, key, 0, 1024 * 1024, &key_text, NULL);
        if (r >= 0)
                r = read_input(AT_FDCWD, pub, 0, 1024 * 1024, &pub_text, NULL);
        if (key)
                (void) unlink(key);
        if (pub)
                (void) unlink(pub);
        (void) rmdir(tmp);
        if (r < 0)
                return r;
        /* The public half last: a pair counts as present when both exist. */
        r = agent_write_file(a, key_path, key_text, strlen(key_text), 0600, (uid_t) -1, (gid_t) -1);
        if (r >= 0)
                r = agent_write_file(a, pub_path, pub_text, strlen(pub_text), 0644, (uid_t) -1, (gid_t) -1);
        return r;
}

int ssh_host_keys_ensure(const Agent *a) {
        static const char *const types[] = { "rsa", "ecdsa", "ed25519" };
        _cleanup_free_ char *keygen = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        int changed = 0, r;

        r = agent_open(a, "/etc/ssh", O_PATH | O_DIRECTORY, &dir_fd);
        if (r == -ENOENT || r == -ENOTDIR) {
                log_info("No /etc/ssh in the image, no ssh host keys needed.");
                return 0;
        }
        if (r < 0) {
                _cleanup_free_ char *why = agent_io_reason(a, "/etc/ssh", r);
                log_error("Cannot use /etc/ssh for the host keys: %s", why ?: strerror(-r));
                return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                _cleanup_free_ char *key = NULL, *pub = NULL;

                if (asprintf(&key, "/etc/ssh/ssh_host_%s_key", types[i]) < 0 || asprintf(&pub, "%s.pub", key) < 0)
                        return log_oom();
                if (agent_exists(a, key) && agent_exists(a, pub))
                        continue;
                if (!keygen && find_executable("ssh-keygen", &keygen) < 0) {
                        log_notice("ssh host keys are missing but there is no ssh-keygen; sshd cannot run without them.");
                        return changed;
                }
                r = make_host_key(a, keygen, types[i], key);
                if (r < 0) {
                        _cleanup_free_ char *why = agent_io_reason(a, key, r);
                        log_error("Cannot make the %s ssh host key: %s", types[i], why ?: strerror(-r));
                        return r;
                }
                log_info("Generated the %s ssh host key.", types[i]);
                changed = 1;
        }
        return changed;
}

static int setup_extra_files(const Agent *a, const Env *env, char **reason) {
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
                r = read_in_root(a, kp, 1024 * 1024, &old_key, reason);
                if (r >= 0)
                        r = read_in_root(a, cp, 1024 * 1024, &old_cert, reason);
                if (r < 0)
                        return r;
                if (old_key && old_cert && tls_check_pair(old_key, old_cert, NULL) >= 0 &&
                    tls_cert_usable(old_cert, domain, 86400)) {
                        log_info("Keeping the TLS certificate for '%s'.", domain);
                        return 0;
                }
                r = tls_make_self_signed(domain, 3650, &gen_key, &gen_cert);
                if (r < 0)
                        return log_error_errno(r, "Failed to make a self-signed certificate: %m");
                log_info("Made a self-signed TLS certificate for '%s'.", domain);
                key = gen_key;
                cert = gen_cert;
        }
        r = write_in_root(a, kp, key, 0600, 0, 0, reason);
        if (r < 0)
                return r;
        changed |= r;
        r = write_in_root(a, cp, cert, 0644, 0, 0, reason);
        if (r < 0)
                return r;
        return changed | r;
}

static int render_templates(const Agent *a, const Env *env, char **reason) {
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
                r = write_in_root(a, t->dest, out, t->mode, 0, 0, reason);
                if (r < 0)
                        return r;
                if (r > 0)
                        log_info("Rendered '%s' from '%s'.", t->dest, t->src);
                changed |= r;
        }
        return changed;
}

int step_prepare_appliance(const Agent *a) {
        _cleanup_(env_freep) Env *env = NULL;
        _cleanup_free_ char *reason = NULL;
        uint64_t t0 = now_usec();
        const char *domain;
        int r, changed = 0;

        r = agent_step_begin(a, "prepare-appliance", &env);
        if (r <= 0)
                return r;
        (void) agent_notify("STATUS=Preparing the appliance");
        (void) agent_write_status_page(a, "Appliance Startup", "Starting up");
        domain = env_get_string(env, "appliance:domain", NULL);

        r = setup_hostname(a, domain, &reason);
        if (r < 0)
                return agent_step_fail(a, "prepare-appliance", t0, reason ?: "Cannot set the hostname");
        changed |= r;
        r = setup_ssh_keys(a, env, &reason);
        if (r < 0)
                return agent_step_fail(a, "prepare-appliance", t0, reason ?: "Cannot install the ssh keys");
        changed |= r;
        r = setup_extra_files(a, env, &reason);
        if (r < 0)
                return agent_step_fail(a, "prepare-appliance", t0, reason ?: "Cannot write the extra files");
        changed |= r;
        r = setup_tls(a, env, domain, &reason);
        if (r < 0)
                return agent_step_fail(a, "prepare-appliance", t0, reason ?: "Cannot set up the TLS certificate");
        changed |= r;
        r = render_templates(a, env, &reason);
        if (r < 0)
                return agent_step_fail(a, "prepare-appliance", t0, reason ?: "Cannot render the templates");
        changed |= r;

        (void) agent_record_step(a, "prepare-appliance", changed ? STEP_CHANGED : STEP_OK,
                                 changed ? "appliance configured" : "appliance configuration unchanged", now_usec() - t0,
                                 NULL);
        return 0;
}

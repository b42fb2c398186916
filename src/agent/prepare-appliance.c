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
#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "prepare-appliance.h"
#include "profile.h"
#include "spawn.h"
#include "strv.h"
#include "template.h"
#include "tls.h"
#include "users.h"

int write_file_if_changed(const char *path, const char *data, size_t len, mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_free_ char *old = NULL, *dir = NULL;
        const char *base;
        size_t oldlen;
        struct stat st;
        AtomicFile f;
        int r;

        if (read_full_file(path, &old, &oldlen, 64 * 1024 * 1024) >= 0 && oldlen == len &&
            memcmp(old, data, len) == 0 && stat(path, &st) >= 0 && (st.st_mode & 07777) == mode &&
            st.st_uid == uid && st.st_gid == gid)
                return 0;
        r = path_split(path, &dir, &base);
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        r = atomic_file_open(&f, AT_FDCWD, path, mode);
        if (r < 0)
                return r;
        r = loop_write(f.fd, data, len);
        if (r >= 0 && fchown(f.fd, uid, gid) < 0)
                r = -errno;
        if (r >= 0 && fchmod(f.fd, mode) < 0)   /* chown may clear set-id bits */
                r = -errno;
        if (r >= 0)
                r = atomic_file_commit(&f);
        atomic_file_done(&f);
        return r < 0 ? r : 1;
}

int hostname_apply(const Agent *a, const char *domain) {
        _cleanup_free_ char *hn = agent_path(a, "/etc/hostname"), *hosts = agent_path(a, "/etc/hosts"), *text = NULL,
                           *line = NULL, *out = NULL, *hostline = NULL, *old = NULL;
        const char *dot = strchr(domain, '.');
        size_t olen = 0;
        FILE *f;
        int r, changed;

        if (!hn || !hosts)
                return log_oom();
        if (asprintf(&line, "%s\n", domain) < 0)
                return log_oom();
        r = write_file_if_changed(hn, line, strlen(line), 0644, 0, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", hn);
        changed = r;

        if (dot)
                r = asprintf(&hostline, "127.0.1.1\t%s %.*s\n", domain, (int) (dot - domain), domain);
        else
                r = asprintf(&hostline, "127.0.1.1\t%s\n", domain);
        if (r < 0)
                return log_oom();
        r = read_full_file(hosts, &old, NULL, 1024 * 1024);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to read '%s': %m", hosts);
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
        r = write_file_if_changed(hosts, out, strlen(out), 0644, 0, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", hosts);
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
int authorized_keys_update(const Agent *a, const char *user, char *const *add, char *const *del) {
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
        {
                _cleanup_free_ char *rel = NULL;
                if (asprintf(&rel, "%s/.ssh", streq(home, "/") ? "" : home) < 0)
                        return log_oom();
                sshdir = agent_path(a, rel);
        }
        if (!sshdir || asprintf(&path, "%s/authorized_keys", sshdir) < 0)
                return log_oom();

        STRV_FOREACH(d, del) {
                char *id = ssh_key_identity(*d);
                if (id && strv_consume(&del_ids, id) < 0)
                        return log_oom();
        }
        r = read_full_file(path, &old, NULL, 4 * 1024 * 1024);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to read '%s': %m", path);
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

        r = mkdir_p(sshdir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create '%s': %m", sshdir);
        if (chown(sshdir, uid, gid) < 0 || chmod(sshdir, 0700) < 0)
                return log_error_errno(errno, "Failed to set the owner of '%s': %m", sshdir);
        r = write_file_if_changed(path, out ?: "", out ? strlen(out) : 0, 0600, uid, gid);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", path);
        if (r > 0)
                log_info("Updated the authorized ssh keys of '%s'.", user);
        return r;
}

static int setup_ssh_keys(const Agent *a, const Env *env) {
        _cleanup_strv_free_ char **add = NULL, **del = NULL;
        int r, changed = 0;

        if (env_string_list(env, "ssh_authorized_keys", &add) < 0 ||
            env_string_list(env, "ssh_deprecated_keys", &del) < 0)
                return log_oom();
        if (!add && !del)
                return 0;
        for (const char *const *u = (const char *const[]) { "root", "app", NULL }; *u; u++) {
                r = authorized_keys_update(a, *u, add, del);
                if (r < 0)
                        return r;
                changed |= r;
        }
        return changed;
}

int ssh_host_keys_ensure(const Agent *a) {
        static const char *const types[] = { "rsa", "ecdsa", "ed25519" };
        _cleanup_free_ char *dir = agent_path(a, "/etc/ssh"), *keygen = NULL;
        struct stat st;
        int changed = 0, r;

        if (!dir)
                return log_oom();
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                log_info("No /etc/ssh in the image, no ssh host keys needed.");
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                _cleanup_free_ char *key = NULL, *pub = NULL;

                if (asprintf(&key, "%s/ssh_host_%s_key", dir, types[i]) < 0 || asprintf(&pub, "%s.pub", key) < 0)
                        return log_oom();
                if (path_exists(key) && path_exists(pub))
                        continue;
                if (!keygen && find_executable("ssh-keygen", &keygen) < 0) {
                        log_notice("ssh host keys are missing but there is no ssh-keygen; sshd cannot run without them.");
                        return changed;
                }
                (void) unlink(key);
                (void) unlink(pub);
                r = spawn_capture((char *[]) { keygen, (char *) "-q", (char *) "-N", (char *) "", (char *) "-t",
                                               (char *) types[i], (char *) "-C", (char *) "root@appliance",
                                               (char *) "-f", key, NULL },
                                  NULL, 0, SPAWN_NULL_STDOUT, NULL, NULL);
                if (r != 0) {
                        (void) unlink(key);
                        (void) unlink(pub);
                        return log_error_errno(r < 0 ? r : EIO, "ssh-keygen failed for the %s host key.", types[i]);
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
                _cleanup_free_ char *p = NULL, *data = NULL;
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
                p = agent_path(a, path);
                if (!p)
                        return log_oom();
                r = write_file_if_changed(p, data, strlen(data), mode, uid, gid);
                if (r < 0)
                        return asprintf(reason, "appliance:extra:files:%zu: cannot write '%s': %s", i, path,
                                        strerror(-r)) < 0
                                       ? log_oom()
                                       : r;
                if (r > 0)
                        log_info("Wrote extra file '%s' (mode %04o).", path, (unsigned) mode);
                changed |= r;
        }
        return changed;
}

static int setup_tls(const Agent *a, const Env *env, const char *domain, char **reason) {
        const char *key = env_get_string(env, "appliance:ssl:key", NULL),
                   *cert = env_get_string(env, "appliance:ssl:cert", NULL);
        _cleanup_free_ char *kp = agent_path(a, "/app/etc/server.key.pem"),
                           *cp = agent_path(a, "/app/etc/server.cert.pem"),
                           *old_key = NULL, *old_cert = NULL, *gen_key = NULL, *gen_cert = NULL, *err = NULL;
        int r, changed = 0;

        if (!kp || !cp)
                return log_oom();
        if (key && cert) {
                r = tls_check_pair(key, cert, &err);
                if (r < 0) {
                        *reason = TAKE_PTR(err);
                        return r;
                }
        } else {
                if (read_full_file(kp, &old_key, NULL, 1024 * 1024) >= 0 &&
                    read_full_file(cp, &old_cert, NULL, 1024 * 1024) >= 0 && tls_check_pair(old_key, old_cert, NULL) >= 0 &&
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
        r = write_file_if_changed(kp, key, strlen(key), 0600, 0, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", kp);
        changed |= r;
        r = write_file_if_changed(cp, cert, strlen(cert), 0644, 0, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", cp);
        return changed | r;
}

static int render_templates(const Agent *a, const Env *env, char **reason) {
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *path = a->profile_path ? strdup(a->profile_path) : agent_path(a, AGENT_PROFILE), *err = NULL;
        int r, changed = 0;

        if (!path)
                return log_oom();
        r = profile_load_file(path, PROFILE_LOAD_MISSING_EMPTY, &p, &err);
        if (r < 0) {
                *reason = err ? TAKE_PTR(err) : strdup("cannot read the image profile");
                return r;
        }
        for (size_t i = 0; i < p->n_templates; i++) {
                const ProfileTemplate *t = &p->templates[i];
                _cleanup_free_ char *src = agent_path(a, t->src), *dest = agent_path(a, t->dest), *text = NULL,
                                   *out = NULL;

                if (!src || !dest)
                        return log_oom();
                r = read_full_file(src, &text, NULL, 16 * 1024 * 1024);
                if (r < 0)
                        return asprintf(reason, "template '%s': %s", t->src, strerror(-r)) < 0 ? log_oom() : r;
                r = template_render(env, t->src, text, &out, &err);
                if (r < 0)
                        return asprintf(reason, "template %s", err ?: t->src) < 0 ? log_oom() : r;
                r = write_file_if_changed(dest, out, strlen(out), t->mode, 0, 0);
                if (r < 0)
                        return asprintf(reason, "cannot write '%s': %s", t->dest, strerror(-r)) < 0 ? log_oom() : r;
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

        r = hostname_apply(a, domain);
        if (r < 0)
                return agent_step_fail(a, "prepare-appliance", t0, "Cannot set the hostname");
        changed |= r;
        r = setup_ssh_keys(a, env);
        if (r < 0)
                return agent_step_fail(a, "prepare-appliance", t0, "Cannot install the ssh keys");
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

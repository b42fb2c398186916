/**
 * The ssh side of an instance: the host keys every instance makes for itself (the image ships none),
 * made by the image's own ssh-keygen (one -f per key, which works with every OpenSSH from Ubuntu
 * 16.04 on, also under --root; without ssh-keygen there is no sshd to need them), and the keys of
 * a user's ~/.ssh/authorized_keys, compared by type and base64 blob with other lines kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "agent-path.h"
#include "chase.h"
#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "reterr.h"
#include "spawn.h"
#include "ssh-keys.h"
#include "strv.h"
#include "users.h"

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

/* Merges the env's keys into one authorized_keys file. Returns 1 if changed. */
int authorized_keys_merge(const Agent *a, const char *user, char *const *add, char *const *del, char **reterr) {
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
        r = agent_read_text(a, path, 4 * 1024 * 1024, &old, reterr);
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
                return reterr_printf(reterr, r, "Cannot create '%s': %s", sshdir, why ?: strerror(-r));
        }
        r = agent_write_text(a, path, out ?: "", 0600, uid, gid, reterr);
        if (r < 0)
                return r;
        if (r > 0)
                log_info("Updated the authorized ssh keys of '%s'.", user);
        return r;
}

int authorized_keys_update(const Agent *a, const char *user, char *const *add, char *const *del) {
        _cleanup_free_ char *reason = NULL;
        int r = authorized_keys_merge(a, user, add, del, &reason);

        if (r < 0 && reason)
                log_error("%s", reason);
        return r;
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
        /* Ed25519 and ECDSA only, in milliseconds: sshd runs with them. The RSA key takes seconds
         * on an emulated CPU; the image builder's appliance-ssh-host-key-rsa.service makes it after
         * the boot. */
        static const char *const types[] = { "ed25519", "ecdsa" };
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

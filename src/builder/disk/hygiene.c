/**
 * Template hygiene rules (see disk-hygiene.h).
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "disk/hygiene.h"
#include "rm-rf.h"
#include "source/tarball.h"
#include "disk/util.h"
#include "fileio.h"
#include "macro.h"
#include "reterr.h"
#include "strv.h"

static const char *const item_names[_HYGIENE_MAX] = {
        [HYGIENE_SSH_HOST_KEYS] = "ssh-host-keys", [HYGIENE_MACHINE_ID] = "machine-id",
        [HYGIENE_RANDOM_SEED] = "random-seed",     [HYGIENE_NET_RULES] = "net-rules",
        [HYGIENE_DHCP_LEASES] = "dhcp-leases",     [HYGIENE_APT_CACHES] = "apt-caches",
        [HYGIENE_BUILD_LOGS] = "build-logs",       [HYGIENE_ROOT_PASSWORD] = "root-password",
        [HYGIENE_BUILD_HOST] = "build-host",       [HYGIENE_FREE_SPACE] = "free-space",
};

#define SSH_KEYGEN_UNIT "appliance-ssh-host-keys.service"
#define SSH_KEYGEN_RSA_UNIT "appliance-ssh-host-key-rsa.service"

/* The Ed25519 and ECDSA keys before sshd starts: generated in milliseconds even on an emulated CPU,
 * and what every OpenSSH client since 6.5 uses. */
static const char ssh_keygen_unit[] =
        "# Written by appliance-builder: images carry no SSH host keys, each machine makes its own.\n"
        "# Ed25519 and ECDSA first (milliseconds); RSA after the boot, see " SSH_KEYGEN_RSA_UNIT ".\n"
        "[Unit]\n"
        "Description=Generate missing SSH host keys (Ed25519, ECDSA)\n"
        "Before=ssh.service\n"
        "ConditionPathExists=/usr/bin/ssh-keygen\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        "ExecStart=/bin/sh -c 'for t in ed25519 ecdsa; do f=/etc/ssh/ssh_host_$${t}_key; "
        "[ -s \"$$f\" ] && [ -s \"$$f.pub\" ] && continue; rm -f \"$$f\" \"$$f.pub\"; "
        "/usr/bin/ssh-keygen -q -N \"\" -t $$t -f \"$$f\" || exit; done'\n"
        "\n"
        "[Install]\n"
        "WantedBy=ssh.service\n";

/* RSA (seconds of CPU on a slow first boot) once the machine is up: after sshd and the appliance
 * are started, then sshd reloads to offer it too. */
static const char ssh_keygen_rsa_unit[] =
        "# Written by appliance-builder: the RSA host key, made after the boot (see " SSH_KEYGEN_UNIT ").\n"
        "[Unit]\n"
        "Description=Generate the missing RSA SSH host key\n"
        "After=ssh.service appliance.service " SSH_KEYGEN_UNIT "\n"
        "ConditionPathExists=/usr/bin/ssh-keygen\n"
        "ConditionPathExists=!/etc/ssh/ssh_host_rsa_key.pub\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "Nice=10\n"
        "ExecStartPre=/bin/rm -f /etc/ssh/ssh_host_rsa_key\n"
        "ExecStart=/usr/bin/ssh-keygen -q -N \"\" -t rsa -f /etc/ssh/ssh_host_rsa_key\n"
        "ExecStartPost=/bin/systemctl --no-block reload-or-try-restart ssh.service\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n";

const char *hygiene_item_to_string(HygieneItemId id) {
        return id >= 0 && id < _HYGIENE_MAX ? item_names[id] : NULL;
}

void hygiene_report_done(HygieneReport *report) {
        for (size_t i = 0; i < _HYGIENE_MAX; i++) {
                strv_free(report->items[i].changed);
                free(report->items[i].detail);
                report->items[i] = (HygieneItem) {};
        }
}

int hygiene_report_set(HygieneReport *report, HygieneItemId id, bool done, const char *detail) {
        char *d = strdup(detail);

        if (!d)
                return -ENOMEM;
        free(report->items[id].detail);
        report->items[id].detail = d;
        report->items[id].done = done;
        return 0;
}

/* Removes dir_fd/name without following symlinks: a directory with everything below it, or with
 * keep_dirs only the non-directories below it. Each removed non-directory is noted (path is
 * name's path in the tree) when notes is not NULL. */
static int remove_tree_at(int dir_fd, const char *name, const char *path, bool keep_dirs, HygieneItem *notes) {
        struct stat st;
        int r;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_(closedirp) DIR *d = NULL;
                struct dirent *de;
                int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                if (fd < 0)
                        return -errno;
                d = fdopendir(fd);
                if (!d) {
                        r = -errno;
                        close(fd);
                        return r;
                }
                while ((errno = 0, de = readdir(d))) {
                        _cleanup_free_ char *sub = NULL;

                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        if (asprintf(&sub, "%s/%s", path, de->d_name) < 0)
                                return -ENOMEM;
                        r = remove_tree_at(dirfd(d), de->d_name, sub, keep_dirs, notes);
                        if (r < 0)
                                return r;
                }
                if (errno > 0)
                        return -errno;
                if (!keep_dirs && unlinkat(dir_fd, name, AT_REMOVEDIR) < 0)
                        return -errno;
                return 0;
        }
        if (unlinkat(dir_fd, name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return notes ? strv_extend(&notes->changed, path) : 0;
}

/* Removes the entries of the tree's directory dir that match pattern (NULL: all of them). The
 * directory is resolved inside the tree (a symlink of the base leads to the tree's own copy of its
 * target, never to the host); entries are removed without following symlinks. keep_dirs: only the
 * files below dir go, each noted; else matches go whole, directories recursively, each noted. */
static int remove_entries(const char *root, const char *dir, const char *pattern, bool keep_dirs, HygieneItem *it) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r;

        r = rootfs_open_dir(root, dir, &d);
        if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
                return 0;
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *path = NULL;

                if (streq(de->d_name, ".") || streq(de->d_name, "..") || (pattern && fnmatch(pattern, de->d_name, 0) != 0))
                        continue;
                if (asprintf(&path, "%s/%s", streq(dir, "/") ? "" : dir, de->d_name) < 0)
                        return -ENOMEM;
                r = remove_tree_at(dirfd(d), de->d_name, path, keep_dirs, keep_dirs ? it : NULL);
                if (r < 0)
                        return r;
                if (!keep_dirs && strv_consume(&it->changed, TAKE_PTR(path)) < 0)
                        return -ENOMEM;
        }
        return errno > 0 ? -errno : 0;
}

/* Removes what pattern matches: a path of the tree whose last component may hold wildcards. */
static int remove_glob(const char *root, const char *pattern, HygieneItem *it) {
        _cleanup_free_ char *dir = NULL;
        const char *base;
        int r;

        r = path_split(pattern, &dir, &base);
        if (r < 0)
                return r;
        return remove_entries(root, dir, base, false, it);
}

char *hygiene_lock_shadow_line(const char *line, const char *user, bool *ret_changed) {
        size_t ul = strlen(user);
        char *n = NULL;

        *ret_changed = false;
        if (!strneq(line, user, ul) || line[ul] != ':' || line[ul + 1] == '!')
                return strdup(line);
        if (asprintf(&n, "%.*s!%s", (int) (ul + 1), line, line + ul + 1) < 0)
                return NULL;
        *ret_changed = true;
        return n;
}

static int lock_root_password(const char *root, HygieneItem *it, char **reterr) {
        _cleanup_free_ char *data = NULL, *out = NULL;
        _cleanup_strv_free_ char **lines = NULL, **nl = NULL;
        bool changed = false, found = false;
        struct stat st;
        size_t len = 0;
        int r;

        r = rootfs_stat(root, "/etc/shadow", false, &st);
        if (r == -ENOENT) {
                it->done = true;
                it->detail = strdup("no /etc/shadow in the image");
                return it->detail ? 0 : -ENOMEM;
        }
        if (r < 0)
                return reterr_printf(reterr, r, "cannot look at the base's /etc/shadow: %s", strerror(-r));
        /* The password file is read and rewritten in place: a symlink (to a host path, say) is
         * not what a base carries, and the builder must not read through it. */
        if (!S_ISREG(st.st_mode))
                return reterr_printf(reterr, -EBADFD, "the base's /etc/shadow is %s, not a regular file: refusing it",
                                     S_ISLNK(st.st_mode) ? "a symbolic link" : "a special file");
        r = rootfs_read_file(root, "/etc/shadow", false, 16U << 20, &data, &len);
        if (r < 0)
                return reterr_printf(reterr, r, "cannot read the base's /etc/shadow: %s", strerror(-r));
        r = strv_split(data, "\n", &lines);
        if (r < 0)
                return r;
        STRV_FOREACH(l, lines) {
                bool c;
                char *x = hygiene_lock_shadow_line(*l, "root", &c);

                if (!x || strv_consume(&nl, x) < 0)
                        return -ENOMEM;
                changed = changed || c;
                found = found || startswith(*l, "root:");
        }
        if (changed) {
                out = strv_join(nl, "\n");
                if (!out)
                        return -ENOMEM;
                if (!endswith(out, "\n")) {
                        char *t;
                        if (asprintf(&t, "%s\n", out) < 0)
                                return -ENOMEM;
                        free(out);
                        out = t;
                }
                r = rootfs_write_file_as(root, "/etc/shadow", out, strlen(out), st.st_mode & 07777, st.st_uid,
                                         st.st_gid);
                if (r < 0)
                        return reterr_printf(reterr, r, "cannot write the base's /etc/shadow: %s", strerror(-r));
                r = strv_extend(&it->changed, "/etc/shadow");
                if (r < 0)
                        return r;
        }
        it->done = true;
        it->detail = strdup(!found ? "no root entry in /etc/shadow"
                            : changed ? "root password locked"
                                      : "root password was already locked");
        return it->detail ? 0 : -ENOMEM;
}

static int set_detail(HygieneItem *it, const char *what) {
        char *d;

        if (asprintf(&d, "%zu %s", strv_length(it->changed), what) < 0)
                return -ENOMEM;
        free(it->detail);
        it->detail = d;
        it->done = true;
        return 0;
}

static int ssh_host_keys(const char *root, HygieneItem *it) {
        struct stat st;
        int r;

        r = remove_glob(root, "/etc/ssh/ssh_host_*", it);
        if (r < 0)
                return r;
        r = set_detail(it, "host key files removed");
        if (r < 0)
                return r;

        if (rootfs_stat(root, "/usr/sbin/sshd", true, &st) < 0)
                return 0;

        /* Without keys Debian's sshd refuses to start: generate them on first boot. */
        r = rootfs_write_file(root, "/etc/systemd/system/" SSH_KEYGEN_UNIT, ssh_keygen_unit,
                              strlen(ssh_keygen_unit), 0644);
        if (r < 0)
                return r;
        r = rootfs_symlink(root, "/etc/systemd/system/" SSH_KEYGEN_UNIT,
                           "/etc/systemd/system/ssh.service.wants/" SSH_KEYGEN_UNIT);
        if (r < 0)
                return r;
        r = rootfs_write_file(root, "/etc/systemd/system/" SSH_KEYGEN_RSA_UNIT, ssh_keygen_rsa_unit,
                              strlen(ssh_keygen_rsa_unit), 0644);
        if (r < 0)
                return r;
        return rootfs_symlink(root, "/etc/systemd/system/" SSH_KEYGEN_RSA_UNIT,
                              "/etc/systemd/system/multi-user.target.wants/" SSH_KEYGEN_RSA_UNIT);
}

static int machine_id(const char *root, HygieneItem *it) {
        struct stat st;
        int r;

        r = rootfs_write_file(root, "/etc/machine-id", "uninitialized\n", strlen("uninitialized\n"), 0444);
        if (r < 0)
                return r;
        r = strv_extend(&it->changed, "/etc/machine-id");
        if (r < 0)
                return r;
        if (rootfs_stat(root, "/var/lib/dbus/machine-id", false, &st) == 0 && S_ISREG(st.st_mode)) {
                r = remove_glob(root, "/var/lib/dbus/machine-id", it);
                if (r < 0)
                        return r;
        }
        it->done = true;
        it->detail = strdup("/etc/machine-id is \"uninitialized\" (first boot)");
        return it->detail ? 0 : -ENOMEM;
}

static const char *const random_seed_paths[] = {
        "/var/lib/systemd/random-seed",
        "/var/lib/urandom/random-seed",
        "/var/lib/systemd/credential.secret",
};
static const char *const net_rules_paths[] = {
        "/etc/udev/rules.d/70-persistent-net.rules",
        "/etc/udev/rules.d/70-persistent-cd.rules",
};
static const char *const dhcp_paths[] = {
        "/var/lib/dhcp/*",
        "/var/lib/dhclient/*",
        "/var/lib/NetworkManager/*.lease",
        "/var/lib/NetworkManager/*-lease*",
        "/var/lib/systemd/network/*",
};
static const char *const apt_paths[] = {
        "/var/cache/apt/*.bin",
        "/var/cache/apt/archives/*.deb",
        "/var/cache/apt/archives/partial/*",
        "/var/lib/apt/lists/partial/*",
        "/var/lib/apt/lists/*_*",
        "/var/lib/apt/lists/auxfiles",
};
static const char *const log_paths[] = {
        "/var/cache/debconf/*-old",
        "/var/lib/dpkg/*-old",
        "/tmp/*",
        "/var/tmp/*",
        "/root/.bash_history",
        "/root/.lesshst",
        "/root/.viminfo",
};

static int remove_list(const char *root, const char *const *l, size_t n, HygieneItem *it,
                       const char *what) {
        for (size_t i = 0; i < n; i++) {
                int r = remove_glob(root, l[i], it);
                if (r < 0)
                        return r;
        }
        return set_detail(it, what);
}

static int build_host(const char *root, HygieneItem *it) {
        _cleanup_free_ char *data = NULL;
        char host[256] = "";
        struct stat st;
        size_t len = 0;
        int r;

        /* A symlink (systemd-resolved, resolvconf) belongs to the image; a plain file is the
         * build host's DNS configuration. */
        if (rootfs_stat(root, "/etc/resolv.conf", false, &st) == 0 && S_ISREG(st.st_mode)) {
                r = remove_glob(root, "/etc/resolv.conf", it);
                if (r < 0)
                        return r;
        }
        if (gethostname(host, sizeof host - 1) >= 0 && host[0] &&
            rootfs_read_file(root, "/etc/hostname", true, 4096, &data, &len) >= 0) {
                data[strcspn(data, " \t\r\n")] = 0;
                if (streq(data, host)) {
                        r = rootfs_write_file(root, "/etc/hostname", "localhost\n", strlen("localhost\n"), 0644);
                        if (r < 0)
                                return r;
                        r = strv_extend(&it->changed, "/etc/hostname");
                        if (r < 0)
                                return r;
                }
        }
        return set_detail(it, "files from the build host removed or reset");
}

int hygiene_apply(const char *root, HygieneReport *report, char **reterr) {
        HygieneItem *it = report->items;
        int r;

        r = ssh_host_keys(root, &it[HYGIENE_SSH_HOST_KEYS]);
        if (r < 0)
                return r;
        r = machine_id(root, &it[HYGIENE_MACHINE_ID]);
        if (r < 0)
                return r;
        r = remove_list(root, random_seed_paths, ELEMENTSOF(random_seed_paths), &it[HYGIENE_RANDOM_SEED],
                        "random seed files removed");
        if (r < 0)
                return r;
        r = remove_list(root, net_rules_paths, ELEMENTSOF(net_rules_paths), &it[HYGIENE_NET_RULES],
                        "persistent device rules removed");
        if (r < 0)
                return r;
        r = remove_list(root, dhcp_paths, ELEMENTSOF(dhcp_paths), &it[HYGIENE_DHCP_LEASES],
                        "DHCP lease files removed");
        if (r < 0)
                return r;
        r = remove_list(root, apt_paths, ELEMENTSOF(apt_paths), &it[HYGIENE_APT_CACHES],
                        "apt list and cache files removed");
        if (r < 0)
                return r;
        r = remove_entries(root, "/var/log", NULL, true, &it[HYGIENE_BUILD_LOGS]);
        if (r < 0)
                return r;
        r = remove_list(root, log_paths, ELEMENTSOF(log_paths), &it[HYGIENE_BUILD_LOGS],
                        "log, backup, temporary and history files removed");
        if (r < 0)
                return r;
        r = build_host(root, &it[HYGIENE_BUILD_HOST]);
        if (r < 0)
                return r;
        return lock_root_password(root, &it[HYGIENE_ROOT_PASSWORD], reterr);
}

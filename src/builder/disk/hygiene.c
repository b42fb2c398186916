/**
 * Template hygiene rules (see disk-hygiene.h).
 */
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "disk/hygiene.h"
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

static const char ssh_keygen_unit[] =
        "# Written by appliance-builder: images carry no SSH host keys, each machine makes its own.\n"
        "[Unit]\n"
        "Description=Generate missing SSH host keys\n"
        "Before=ssh.service\n"
        "ConditionPathExists=/usr/bin/ssh-keygen\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        "ExecStart=/usr/bin/ssh-keygen -A\n"
        "\n"
        "[Install]\n"
        "WantedBy=ssh.service\n";

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

/* True if path (inside root) resolves, through its parent directory, to a place inside root: a
 * symlink in the image must never make us touch the host. */
static bool inside_root(const char *root_real, const char *path) {
        _cleanup_free_ char *dir = NULL, *real = NULL;
        const char *base;

        if (path_split(path, &dir, &base) < 0)
                return false;
        real = realpath(dir, NULL);
        if (!real)
                return false;
        return streq(real, root_real) || (startswith(real, root_real) && real[strlen(root_real)] == '/');
}

static int note(HygieneItem *it, const char *root, const char *path) {
        return strv_extend(&it->changed, path + strlen(root));
}

/* Removes what pattern (relative to root, may contain wildcards) matches; directories
 * recursively. */
static int remove_glob(const char *root, const char *root_real, const char *pattern, HygieneItem *it) {
        _cleanup_free_ char *full = NULL;
        glob_t g = {};
        int r = 0;

        if (asprintf(&full, "%s%s", root, pattern) < 0)
                return -ENOMEM;
        r = glob(full, GLOB_NOSORT | GLOB_PERIOD, NULL, &g);
        if (r == GLOB_NOMATCH)
                return 0;
        if (r != 0) {
                globfree(&g);
                return r == GLOB_NOSPACE ? -ENOMEM : -EIO;
        }
        r = 0;
        for (size_t i = 0; i < g.gl_pathc && r >= 0; i++) {
                const char *p = g.gl_pathv[i], *base = strrchr(p, '/');

                if (base && (streq(base, "/.") || streq(base, "/..")))
                        continue;
                if (!inside_root(root_real, p))
                        continue;
                r = rm_rf(p);
                if (r >= 0)
                        r = note(it, root, p);
        }
        globfree(&g);
        return r;
}

static const char *walk_root;
static HygieneItem *walk_item;
static int walk_error;

static int remove_files_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        if (flag == FTW_D || flag == FTW_DP)
                return 0;
        if (unlink(path) < 0 && errno != ENOENT) {
                walk_error = -errno;
                return 1;
        }
        if (note(walk_item, walk_root, path) < 0) {
                walk_error = -ENOMEM;
                return 1;
        }
        return 0;
}

/* Removes every non-directory below root/dir, keeping the directories (and their modes). */
static int remove_files_below(const char *root, const char *root_real, const char *dir, HygieneItem *it) {
        _cleanup_free_ char *full = NULL, *probe = NULL;

        if (asprintf(&full, "%s%s", root, dir) < 0 || asprintf(&probe, "%s/.", full) < 0)
                return -ENOMEM;
        if (access(full, F_OK) < 0 || !inside_root(root_real, probe))
                return 0;
        walk_root = root;
        walk_item = it;
        walk_error = 0;
        if (nftw(full, remove_files_cb, 32, FTW_PHYS | FTW_DEPTH) < 0)
                return -errno;
        return walk_error;
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

static int ssh_host_keys(const char *root, const char *root_real, HygieneItem *it) {
        struct stat st;
        int r;

        r = remove_glob(root, root_real, "/etc/ssh/ssh_host_*", it);
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
        return rootfs_symlink(root, "/etc/systemd/system/" SSH_KEYGEN_UNIT,
                              "/etc/systemd/system/ssh.service.wants/" SSH_KEYGEN_UNIT);
}

static int machine_id(const char *root, const char *root_real, HygieneItem *it) {
        struct stat st;
        int r;

        r = rootfs_write_file(root, "/etc/machine-id", "uninitialized\n", strlen("uninitialized\n"), 0444);
        if (r < 0)
                return r;
        r = strv_extend(&it->changed, "/etc/machine-id");
        if (r < 0)
                return r;
        if (rootfs_stat(root, "/var/lib/dbus/machine-id", false, &st) == 0 && S_ISREG(st.st_mode)) {
                r = remove_glob(root, root_real, "/var/lib/dbus/machine-id", it);
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

static int remove_list(const char *root, const char *root_real, const char *const *l, size_t n, HygieneItem *it,
                       const char *what) {
        for (size_t i = 0; i < n; i++) {
                int r = remove_glob(root, root_real, l[i], it);
                if (r < 0)
                        return r;
        }
        return set_detail(it, what);
}

static int build_host(const char *root, const char *root_real, HygieneItem *it) {
        _cleanup_free_ char *data = NULL;
        char host[256] = "";
        struct stat st;
        size_t len = 0;
        int r;

        /* A symlink (systemd-resolved, resolvconf) belongs to the image; a plain file is the
         * build host's DNS configuration. */
        if (rootfs_stat(root, "/etc/resolv.conf", false, &st) == 0 && S_ISREG(st.st_mode)) {
                r = remove_glob(root, root_real, "/etc/resolv.conf", it);
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
        _cleanup_free_ char *root_real = realpath(root, NULL);
        HygieneItem *it = report->items;
        int r;

        if (!root_real)
                return -errno;

        r = ssh_host_keys(root, root_real, &it[HYGIENE_SSH_HOST_KEYS]);
        if (r < 0)
                return r;
        r = machine_id(root, root_real, &it[HYGIENE_MACHINE_ID]);
        if (r < 0)
                return r;
        r = remove_list(root, root_real, random_seed_paths, ELEMENTSOF(random_seed_paths), &it[HYGIENE_RANDOM_SEED],
                        "random seed files removed");
        if (r < 0)
                return r;
        r = remove_list(root, root_real, net_rules_paths, ELEMENTSOF(net_rules_paths), &it[HYGIENE_NET_RULES],
                        "persistent device rules removed");
        if (r < 0)
                return r;
        r = remove_list(root, root_real, dhcp_paths, ELEMENTSOF(dhcp_paths), &it[HYGIENE_DHCP_LEASES],
                        "DHCP lease files removed");
        if (r < 0)
                return r;
        r = remove_list(root, root_real, apt_paths, ELEMENTSOF(apt_paths), &it[HYGIENE_APT_CACHES],
                        "apt list and cache files removed");
        if (r < 0)
                return r;
        r = remove_files_below(root, root_real, "/var/log", &it[HYGIENE_BUILD_LOGS]);
        if (r < 0)
                return r;
        r = remove_list(root, root_real, log_paths, ELEMENTSOF(log_paths), &it[HYGIENE_BUILD_LOGS],
                        "log, backup, temporary and history files removed");
        if (r < 0)
                return r;
        r = build_host(root, root_real, &it[HYGIENE_BUILD_HOST]);
        if (r < 0)
                return r;
        return lock_root_password(root, &it[HYGIENE_ROOT_PASSWORD], reterr);
}

/**
 * Unit tests of template hygiene and the root tree helpers: every hygiene rule on a synthetic root,
 * symlinks that point out of the root, shadow locking, file installation with modes, dpkg status
 * parsing and env.yml validation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "disk/env-bake.h"
#include "disk/hygiene.h"
#include "source/tarball.h"
#include "fileio.h"
#include "macro.h"
#include "rm-rf.h"
#include "strv.h"

static char *mktree(void) {
        char *t = strdup("/tmp/test-disk-hygiene.XXXXXX");
        assert_non_null(t);
        assert_non_null(mkdtemp(t));
        return t;
}

static void put(const char *root, const char *path, const char *content, mode_t mode) {
        assert_int_equal(rootfs_write_file(root, path, content, strlen(content), mode), 0);
}

static bool exists(const char *root, const char *path) {
        _cleanup_free_ char *p = NULL;
        struct stat st;
        assert_true(asprintf(&p, "%s%s", root, path) > 0);
        return lstat(p, &st) == 0;
}

static char *slurp(const char *root, const char *path) {
        _cleanup_free_ char *p = NULL;
        char *data = NULL;
        size_t len;
        assert_true(asprintf(&p, "%s%s", root, path) > 0);
        assert_int_equal(read_full_file(p, &data, &len, 0), 0);
        return data;
}

static void test_shadow_lines(void **state) {
        static const struct {
                const char *in, *out;
                bool changed;
        } rows[] = {
                { "root:*:20000:0:99999:7:::", "root:!*:20000:0:99999:7:::", true },
                { "root:$y$j9T$abc$def:20000:0:99999:7:::", "root:!$y$j9T$abc$def:20000:0:99999:7:::", true },
                { "root::20000:0:99999:7:::", "root:!:20000:0:99999:7:::", true },
                { "root:!$6$x:1::::::", "root:!$6$x:1::::::", false },
                { "rooty:$6$x:1::::::", "rooty:$6$x:1::::::", false },
                { "daemon:*:20000:0:99999:7:::", "daemon:*:20000:0:99999:7:::", false },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                bool c = !rows[i].changed;
                _cleanup_free_ char *l = hygiene_lock_shadow_line(rows[i].in, "root", &c);
                assert_string_equal(l, rows[i].out);
                assert_true(c == rows[i].changed);
        }
}

static void test_apply(void **state) {
        _cleanup_free_ char *root = mktree(), *outside = mktree(), *link = NULL, *victim = NULL, *shadow = NULL,
                            *mid = NULL, *unit = NULL, *hostname = NULL;
        HygieneReport rep = {};
        struct stat st;

        (void) state;
        put(root, "/etc/ssh/ssh_host_rsa_key", "secret", 0600);
        put(root, "/etc/ssh/ssh_host_rsa_key.pub", "pub", 0644);
        put(root, "/etc/ssh/ssh_host_ed25519_key", "secret", 0600);
        put(root, "/etc/ssh/sshd_config", "Port 22\n", 0644);
        put(root, "/usr/sbin/sshd", "", 0755);
        put(root, "/etc/machine-id", "0123456789abcdef0123456789abcdef\n", 0444);
        put(root, "/var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n", 0444);
        put(root, "/var/lib/systemd/random-seed", "seed", 0600);
        put(root, "/etc/udev/rules.d/70-persistent-net.rules", "rule", 0644);
        put(root, "/var/lib/dhcp/dhclient.eth0.leases", "lease", 0644);
        put(root, "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", "x", 0644);
        put(root, "/var/lib/apt/lists/lock", "", 0640);
        put(root, "/var/cache/apt/pkgcache.bin", "x", 0644);
        put(root, "/var/cache/apt/archives/foo_1.0_amd64.deb", "x", 0644);
        put(root, "/var/log/dpkg.log", "x", 0644);
        put(root, "/var/log/apt/history.log", "x", 0644);
        put(root, "/var/lib/dpkg/status-old", "x", 0644);
        put(root, "/root/.bash_history", "ls\n", 0600);
        put(root, "/tmp/.hidden", "x", 0644);
        put(root, "/etc/shadow", "root:$6$salt$hash:20000:0:99999:7:::\nbin:*:20000:0:99999:7:::\n", 0640);
        put(root, "/etc/resolv.conf", "nameserver 192.0.2.1\n", 0644);
        {
                char host[256] = "";
                _cleanup_free_ char *line = NULL;
                assert_int_equal(gethostname(host, sizeof host - 1), 0);
                assert_true(asprintf(&line, "%s\n", host) > 0);
                put(root, "/etc/hostname", line, 0755);
        }

        /* /var/tmp points out of the root: hygiene must not follow it */
        assert_true(asprintf(&victim, "%s/keep-me", outside) > 0);
        assert_int_equal(write_file_atomic(victim, "x", 1, 0644), 0);
        assert_true(asprintf(&link, "%s/var/tmp", root) > 0);
        assert_int_equal(symlink(outside, link), 0);

        assert_int_equal(hygiene_apply(root, &rep, NULL), 0);

        assert_false(exists(root, "/etc/ssh/ssh_host_rsa_key"));
        assert_false(exists(root, "/etc/ssh/ssh_host_rsa_key.pub"));
        assert_false(exists(root, "/etc/ssh/ssh_host_ed25519_key"));
        assert_true(exists(root, "/etc/ssh/sshd_config"));
        assert_int_equal(strv_length(rep.items[HYGIENE_SSH_HOST_KEYS].changed), 3);
        assert_true(exists(root, "/etc/systemd/system/appliance-ssh-host-keys.service"));
        assert_true(exists(root, "/etc/systemd/system/ssh.service.wants/appliance-ssh-host-keys.service"));
        unit = slurp(root, "/etc/systemd/system/appliance-ssh-host-keys.service");
        /* Ed25519 and ECDSA before sshd, RSA after the boot. */
        assert_non_null(strstr(unit, "for t in ed25519 ecdsa;"));
        assert_null(strstr(unit, "-t rsa"));
        assert_true(exists(root, "/etc/systemd/system/multi-user.target.wants/appliance-ssh-host-key-rsa.service"));
        free(unit);
        unit = slurp(root, "/etc/systemd/system/appliance-ssh-host-key-rsa.service");
        assert_non_null(strstr(unit, "-t rsa -f /etc/ssh/ssh_host_rsa_key"));
        assert_non_null(strstr(unit, "After=ssh.service appliance.service"));

        mid = slurp(root, "/etc/machine-id");
        assert_string_equal(mid, "uninitialized\n");
        assert_false(exists(root, "/var/lib/dbus/machine-id"));

        assert_false(exists(root, "/var/lib/systemd/random-seed"));
        assert_false(exists(root, "/etc/udev/rules.d/70-persistent-net.rules"));
        assert_false(exists(root, "/var/lib/dhcp/dhclient.eth0.leases"));
        assert_true(exists(root, "/var/lib/dhcp"));
        assert_false(exists(root, "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease"));
        assert_true(exists(root, "/var/lib/apt/lists/lock"));
        assert_false(exists(root, "/var/cache/apt/pkgcache.bin"));
        assert_false(exists(root, "/var/cache/apt/archives/foo_1.0_amd64.deb"));
        assert_false(exists(root, "/var/log/dpkg.log"));
        assert_false(exists(root, "/var/log/apt/history.log"));
        assert_true(exists(root, "/var/log/apt"));
        assert_false(exists(root, "/var/lib/dpkg/status-old"));
        assert_false(exists(root, "/root/.bash_history"));
        assert_false(exists(root, "/tmp/.hidden"));
        assert_true(exists(root, "/tmp"));

        /* the file behind the escaping symlink survived */
        assert_int_equal(stat(victim, &st), 0);

        assert_false(exists(root, "/etc/resolv.conf"));
        hostname = slurp(root, "/etc/hostname");
        assert_string_equal(hostname, "localhost\n");
        assert_int_equal(strv_length(rep.items[HYGIENE_BUILD_HOST].changed), 2);

        shadow = slurp(root, "/etc/shadow");
        assert_string_equal(shadow, "root:!$6$salt$hash:20000:0:99999:7:::\nbin:*:20000:0:99999:7:::\n");
        assert_true(rep.items[HYGIENE_ROOT_PASSWORD].done);

        for (int i = 0; i < _HYGIENE_MAX; i++) {
                assert_non_null(hygiene_item_to_string(i));
                if (i != HYGIENE_FREE_SPACE)
                        assert_true(rep.items[i].done);
        }
        assert_false(rep.items[HYGIENE_FREE_SPACE].done);
        assert_int_equal(hygiene_report_set(&rep, HYGIENE_FREE_SPACE, true, "sparse"), 0);
        assert_true(rep.items[HYGIENE_FREE_SPACE].done);

        /* a second run finds nothing more to do */
        hygiene_report_done(&rep);
        assert_int_equal(hygiene_apply(root, &rep, NULL), 0);
        assert_int_equal(strv_length(rep.items[HYGIENE_SSH_HOST_KEYS].changed), 0);
        assert_string_equal(rep.items[HYGIENE_ROOT_PASSWORD].detail, "root password was already locked");
        hygiene_report_done(&rep);

        assert_int_equal(rm_rf(root), 0);
        assert_int_equal(rm_rf(outside), 0);
}

static void test_write_and_copy(void **state) {
        _cleanup_free_ char *root = mktree(), *src = mktree(), *p = NULL, *q = NULL;
        char target[64];
        struct stat st;
        ssize_t n;

        (void) state;
        assert_int_equal(rootfs_write_file(root, "../escape", "x", 1, 0644), -EINVAL);
        assert_int_equal(rootfs_write_file(root, "/a/../../escape", "x", 1, 0644), -EINVAL);
        assert_int_equal(rootfs_write_file(root, "/app/env.yml", "#cloud-config\n", 14, 0600), 0);
        assert_true(asprintf(&p, "%s/app/env.yml", root) > 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* a tree with modes and a symlink is copied verbatim */
        put(src, "/etc/systemd/system/a.service", "[Unit]\n", 0644);
        put(src, "/usr/lib/appliance/hook", "#!/bin/sh\n", 0750);
        assert_true(asprintf(&q, "%s/etc/systemd/system/b.service", src) > 0);
        assert_int_equal(symlink("a.service", q), 0);
        assert_true(rootfs_copy_tree(src, root, "/") >= 4);

        free(p);
        assert_true(asprintf(&p, "%s/usr/lib/appliance/hook", root) > 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0750);
        free(p);
        assert_true(asprintf(&p, "%s/etc/systemd/system/b.service", root) > 0);
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        n = readlink(p, target, sizeof target - 1);
        assert_int_equal(n, strlen("a.service"));

        /* SOURCE_DATE_EPOCH clamping: everything newer, symlinks and directories included */
        assert_true(rootfs_clamp_mtimes(root, 1000000) >= 6);
        assert_int_equal(lstat(p, &st), 0);
        assert_int_equal(st.st_mtime, 1000000);
        assert_int_equal(stat(root, &st), 0);
        assert_int_equal(st.st_mtime, 1000000);
        assert_int_equal(rootfs_clamp_mtimes(root, 1000000), 0);
        assert_int_equal(rootfs_clamp_mtimes(root, 2000000), 0); /* older times stay */

        assert_int_equal(rm_rf(root), 0);
        assert_int_equal(rm_rf(src), 0);
}

static void test_packages(void **state) {
        _cleanup_free_ char *root = mktree();
        _cleanup_strv_free_ char **l = NULL;

        (void) state;
        assert_int_equal(rootfs_packages(root, &l), 0);
        assert_int_equal(strv_length(l), 0);
        strv_free(l);
        l = NULL;
        put(root, "/var/lib/dpkg/status",
            "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\n\n"
            "Package: removed\nStatus: deinstall ok config-files\nVersion: 1.0\n\n"
            "Package: bash\nStatus: install ok installed\nPriority: required\nVersion: 5.2.15-2+b2\n"
            "Description: shell\n multi-line\n",
            0644);
        assert_int_equal(rootfs_packages(root, &l), 0);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(l[0], "bash 5.2.15-2+b2");
        assert_string_equal(l[1], "zlib1g 1:1.2.13");
        assert_int_equal(rm_rf(root), 0);
}

static void test_env_validate(void **state) {
        static const struct {
                const char *text;
                int ret;
                const char *msg;
        } rows[] = {
                { "#cloud-config\nappliance:\n  domain: example.org\n", 0, NULL },
                { "#cloud-config  \nappliance: {domain: example.org}\n", 0, NULL },
                { "#cloud-config\n{}\n", -EINVAL, ":1:1: appliance: required key is missing" },
                { "#cloud-config\nappliance:\n  domain: a-.example.org\n", -EINVAL, ":3:11: appliance:domain: 'a-.example.org' is not a valid host name" },
                { "appliance: {}\n", -EBADMSG, ":1:1: the first line must be '#cloud-config'" },
                { "#cloud-configX\n", -EBADMSG, "first line" },
                { "#cloud-config\na: [1, 2\n", -EBADMSG, ":3:1: " },
                { "#cloud-config\na:\n\tb: 1\n", -EBADMSG, ":3:1: found character that cannot start any token" },
        };
        _cleanup_free_ char *dir = mktree(), *path = NULL;

        (void) state;
        assert_true(asprintf(&path, "%s/env.yml", dir) > 0);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *err = NULL;
                assert_int_equal(write_file_atomic(path, rows[i].text, strlen(rows[i].text), 0600), 0);
                assert_int_equal(image_env_validate(path, &err), rows[i].ret);
                if (rows[i].msg) {
                        assert_non_null(err);
                        assert_non_null(strstr(err, rows[i].msg));
                        assert_non_null(strstr(err, path));
                }
        }
        assert_int_equal(rm_rf(dir), 0);
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shadow_lines), cmocka_unit_test(test_apply),
                cmocka_unit_test(test_write_and_copy), cmocka_unit_test(test_packages),
                cmocka_unit_test(test_env_validate),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("disk-hygiene", tests, NULL, NULL);
}

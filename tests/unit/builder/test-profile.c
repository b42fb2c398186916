/**
 * Unit tests of the profile loader and the apt-source reader: the shipped profiles load, broken
 * profiles are refused with file:line:column, the bootstrap digest depends on exactly its inputs,
 * and deb822 / one-line apt sources are read for a suite and its companions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/bootstrap.h"
#include "cleanup.h"
#include "fileio.h"
#include "macro.h"
#include "profile.h"
#include "strv.h"

static const char *srcdir(void) {
        const char *s = getenv("SRCDIR");
        return s ?: ".";
}

static Profile *load_shipped(const char *name) {
        _cleanup_free_ char *dir = NULL, *err = NULL;
        Profile *p = NULL;
        int r;

        assert_true(asprintf(&dir, "%s/profiles", srcdir()) > 0);
        assert_int_equal(setenv("APPLIANCE_PROFILES_DIR", dir, 1), 0);
        r = profile_load(name, &p, &err);
        if (r < 0)
                fail_msg("profile %s: %s", name, strna(err));
        assert_non_null(p);
        return p;
}

static void test_minimal(void **state) {
        _cleanup_(profile_freep) Profile *p = load_shipped("minimal");
        static const char *const needed[] = {
                "linux-image-cloud-amd64", "systemd-sysv", "udev", "e2fsprogs", "openssh-server", "ca-certificates",
        };

        assert_string_equal(p->name, "minimal");
        assert_string_equal(p->distribution, "debian");
        assert_string_equal(p->suite, "bookworm");
        assert_string_equal(p->architecture, "amd64");
        for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
                assert_true(strv_contains(p->packages, needed[i]));
        assert_non_null(strstr(p->kernel_cmdline, "console=ttyS0"));
        assert_string_equal(p->sizing_class, "test");
        assert_int_equal(p->root_size, 0);

        const ProfileVolume *d = profile_volume(p, "ecs-data"), *v = profile_volume(p, "ecs-volatile");
        assert_non_null(d);
        assert_non_null(v);
        assert_string_equal(d->mountpoint, "/data");
        assert_string_equal(v->mountpoint, "/volatile");
        assert_int_equal(d->place, PART_PLACE_DISK);
        assert_null(profile_volume(p, "ecs-root"));

        bool net = false;
        for (size_t i = 0; i < p->n_files; i++)
                if (strcmp(p->files[i].path, "/etc/network/interfaces.d/eth0") == 0) {
                        net = true;
                        assert_non_null(strstr(p->files[i].content, "iface eth0 inet dhcp"));
                        assert_int_equal(p->files[i].mode, 0644);
                }
        assert_true(net);
        assert_false(p->ec2_metadata);

        /* The raw text is kept verbatim, comments included, for /usr/share/appliance/profile.yml. */
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;
        assert_true(asprintf(&path, "%s/profiles/minimal.yml", srcdir()) > 0);
        assert_int_equal(read_full_file(path, &text, &len, 0), 0);
        assert_int_equal(p->text_len, len);
        assert_memory_equal(p->text, text, len);
}

static void test_ubuntu(void **state) {
        static const char *const names[] = { "ecs-xenial", "ecs-noble" };
        static const char *const suites[] = { "xenial", "noble" };

        for (size_t i = 0; i < 2; i++) {
                _cleanup_(profile_freep) Profile *p = load_shipped(names[i]);
                assert_string_equal(p->name, names[i]);
                assert_string_equal(p->distribution, "ubuntu");
                assert_string_equal(p->suite, suites[i]);
                assert_true(strv_contains(p->packages, "openssh-server"));
                assert_true(strv_contains(p->packages, "docker.io"));
                assert_int_equal(profile_volume(p, "ecs-data")->place, PART_PLACE_PARTITION);
        }
}

static void test_by_path_and_missing(void **state) {
        _cleanup_free_ char *path = NULL, *err = NULL;
        _cleanup_(profile_freep) Profile *p = NULL;

        assert_true(asprintf(&path, "%s/profiles/ecs-noble.yml", srcdir()) > 0);
        assert_int_equal(profile_load(path, &p, &err), 0);
        assert_string_equal(p->path, path);
        assert_string_equal(p->name, "ecs-noble");

        assert_int_equal(setenv("APPLIANCE_PROFILES_DIR", "/nonexistent-profiles", 1), 0);
        assert_int_equal(profile_load("nosuchprofile", &p, &err), -ENOENT);
        assert_non_null(strstr(err, "/nonexistent-profiles/nosuchprofile.yml"));
        assert_non_null(strstr(err, "no such profile"));
}

/* Each broken profile must fail with exactly this "file:line:column: ..." prefix and a message
 * containing the given word. */
static void test_broken(void **state) {
        static const struct {
                const char *yaml, *where, *word;
        } rows[] = {
                { "distribution: debian\nsuite: bookworm\npackages: [a1]\nfrobnicate: 1\n", "t.yml:4:1:",
                  "unknown key 'frobnicate'" },
                { "distribution: debian\nsuite: bookworm\npackages:\n  - udev\nvolumes:\n  - label: ecs-data\n"
                  "    place: disk\n    sise: 1G\n", "t.yml:8:5:", "unknown key 'sise'" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: pg.service\n"
                  "    helth: tcp:127.0.0.1:5432\n", "t.yml:6:5:", "unknown key 'helth'" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nfeatures:\n  ec2: true\n",
                  "t.yml:5:3:", "unknown key 'ec2'" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\ntemplates:\n  - src: a\n    dest: /b\n"
                  "    owner: root\n", "t.yml:7:5:", "unknown key 'owner'" },
                { "distribution: gentoo\nsuite: x\npackages: [udev]\n", "t.yml:1:15:", "debian or ubuntu" },
                { "distribution: debian\nsuite: bookworm\npackages: udev\n", "t.yml:3:11:", "must be a list" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev, Bad_Name]\n", "t.yml:3:18:",
                  "not a valid package name" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev, udev]\n", "t.yml:3:18:", "twice" },
                { "distribution: debian\nsuite: bookworm\n", "t.yml:1:1:", "required key 'packages'" },
                { "distribution: debian\nsuite: bookworm\npackages: []\n", "t.yml:1:1:", "at least one" },
                { "distribution: debian\ndistribution: ubuntu\nsuite: bookworm\npackages: [udev]\n", "t.yml:2:1:",
                  "duplicate key" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nroot_size: lots\n", "t.yml:4:12:",
                  "not a size" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nvolumes:\n  - label: ecs-root\n"
                  "    place: disk\n", "t.yml:5:12:", "ecs-data or ecs-volatile" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nvolumes:\n  - label: ecs-data\n"
                  "    place: floppy\n", "t.yml:6:12:", "partition, disk or none" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nvolumes:\n  - label: ecs-data\n",
                  "t.yml:5:5:", "required key 'place'" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nvolumes:\n  - {label: ecs-data, place: disk}\n"
                  "  - {label: ecs-data, place: disk}\n", "t.yml:6:5:", "listed twice" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nfiles:\n  - path: etc/x\n    content: y\n",
                  "t.yml:5:11:", "absolute" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nfiles:\n  - path: /etc/x\n    mode: \"0999\"\n"
                  "    content: y\n", "t.yml:6:11:", "octal" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: postgresql\n",
                  "t.yml:5:11:", ".service" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: a.service\n"
                  "    health: ping:x\n", "t.yml:6:13:", "tcp:HOST:PORT" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: a.service\n"
                  "    health: tcp:127.0.0.1:99999\n", "t.yml:6:13:", "tcp:HOST:PORT" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nservices:\n  - unit: a.service\n"
                  "    timeout: soon\n", "t.yml:6:14:", "integer" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nfeatures:\n  ec2_metadata: maybe\n",
                  "t.yml:5:17:", "true or false" },
                { "distribution: debian\nsuite: bookworm\npackages: [udev]\nsizing_class: huge\n", "t.yml:4:15:",
                  "sizing_class" },
                { "distribution: debian\nsuite: [bookworm]\npackages: [udev]\n", "t.yml:2:8:", "must be a scalar" },
                { "distribution: debian\nsuite:\npackages: [udev]\n", "t.yml:2:7:", "must not be empty" },
                { "- just\n- a list\n", "t.yml:1:1:", "must be a mapping" },
                { "distribution: debian\n\tsuite: bookworm\n", "t.yml:2:1:", "tab character" },
                { "distribution: 'debian\n", "t.yml:2:1:", "unexpected end of stream" },
                { "", "t.yml:", "empty profile" },
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                _cleanup_(profile_freep) Profile *p = NULL;
                _cleanup_free_ char *err = NULL;
                int r = profile_load_from_string("t.yml", rows[i].yaml, strlen(rows[i].yaml), &p, &err);

                if (r != -EINVAL || !err || strncmp(err, rows[i].where, strlen(rows[i].where)) != 0 ||
                    !strstr(err, rows[i].word))
                        fail_msg("row %zu: r=%d err=\"%s\", expected %s ... %s", i, r, strna(err), rows[i].where,
                                 rows[i].word);
                assert_null(p);
        }
}

static void test_defaults(void **state) {
        static const char y[] = "distribution: debian\nsuite: bookworm\npackages: [udev]\n"
                                "volumes:\n  - {label: ecs-volatile, place: partition, size: 2G}\n"
                                "files:\n  - {path: /etc/motd, content: hi}\n";
        _cleanup_(profile_freep) Profile *p = NULL;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(profile_load_from_string("/x/custom.yaml", y, strlen(y), &p, &err), 0);
        assert_string_equal(p->name, "custom");
        assert_string_equal(p->architecture, "amd64");
        assert_non_null(strstr(p->kernel_cmdline, "console=ttyS0"));
        assert_null(p->sizing_class);
        assert_int_equal(p->n_volumes, 1);
        assert_string_equal(p->volumes[0].mountpoint, "/volatile");
        assert_int_equal(p->volumes[0].size, 2ULL << 30);
        assert_int_equal(p->volumes[0].place, PART_PLACE_PARTITION);
        assert_int_equal(p->files[0].mode, 0644);
        assert_string_equal(p->files[0].content, "hi");
        assert_string_equal(part_place_to_string(PART_PLACE_DISK), "disk");
}

static void test_digest(void **state) {
        static const char a[] = "distribution: debian\nsuite: bookworm\npackages: [udev, e2fsprogs]\n";
        static const char b[] = "# reordered, with a comment and other files\ndistribution: debian\nsuite: bookworm\n"
                                "packages: [e2fsprogs, udev]\nfiles: [{path: /x, content: y}]\n";
        static const char c[] = "distribution: debian\nsuite: bookworm\npackages: [udev, e2fsprogs, less]\n";
        static const char d[] = "distribution: debian\nsuite: trixie\npackages: [udev, e2fsprogs]\n";
        _cleanup_(profile_freep) Profile *pa = NULL, *pb = NULL, *pc = NULL, *pd = NULL;
        _cleanup_free_ char *da = NULL, *db = NULL, *dc = NULL, *dd = NULL, *dm = NULL;

        assert_int_equal(profile_load_from_string("a.yml", a, strlen(a), &pa, NULL), 0);
        assert_int_equal(profile_load_from_string("b.yml", b, strlen(b), &pb, NULL), 0);
        assert_int_equal(profile_load_from_string("c.yml", c, strlen(c), &pc, NULL), 0);
        assert_int_equal(profile_load_from_string("d.yml", d, strlen(d), &pd, NULL), 0);

        da = profile_digest_with_mirror(pa, "deb http://m/debian bookworm main");
        db = profile_digest_with_mirror(pb, "deb http://m/debian bookworm main");
        dc = profile_digest_with_mirror(pc, "deb http://m/debian bookworm main");
        dd = profile_digest_with_mirror(pd, "deb http://m/debian bookworm main");
        dm = profile_digest_with_mirror(pa, "deb http://other/debian bookworm main");
        assert_int_equal(strlen(da), 64);
        assert_string_equal(da, db);
        assert_string_not_equal(da, dc);
        assert_string_not_equal(da, dd);
        assert_string_not_equal(da, dm);
}

static void write_tree_file(const char *root, const char *rel, const char *text) {
        _cleanup_free_ char *p = NULL, *dir = NULL;
        const char *base;

        assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
        assert_int_equal(path_split(p, &dir, &base), 0);
        assert_true(mkdir_p(dir, 0755) >= 0);
        assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static void test_apt_sources(void **state) {
        char root[] = "/tmp/test-profile-apt.XXXXXX";
        _cleanup_strv_free_ char **lines = NULL;
        _cleanup_free_ char *uri = NULL, *cmd = NULL;

        assert_non_null(mkdtemp(root));
        write_tree_file(root, "etc/apt/sources.list.d/debian.sources",
                        "Types: deb deb-src\n"
                        "# URIs: http://commented.invalid/\n"
                        "URIs: http://mirror.invalid/debian\n"
                        "Suites: bookworm bookworm-updates\n"
                        "Components: main contrib\n"
                        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
                        "\n"
                        "Types: deb\n"
                        "URIs: http://security.invalid/debian-security\n"
                        "Suites: bookworm-security\n"
                        "Components: main\n"
                        "\n"
                        "Types: deb\n"
                        "URIs: http://disabled.invalid/debian\n"
                        "Suites: bookworm\n"
                        "Enabled: no\n");
        write_tree_file(root, "etc/apt/sources.list",
                        "# deb http://commented.invalid/ bookworm main\n"
                        "deb [arch=amd64 signed-by=/k.gpg] http://ubuntu.invalid/ubuntu noble main universe\n"
                        "deb-src http://ubuntu.invalid/ubuntu noble main\n");
        assert_int_equal(setenv("APPLIANCE_APT_ROOT", root, 1), 0);

        assert_int_equal(bootstrap_apt_sources("bookworm", &lines), 0);
        assert_int_equal(strv_length(lines), 3);
        assert_string_equal(lines[0], "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
                                      "http://mirror.invalid/debian bookworm main contrib");
        assert_string_equal(lines[1], "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
                                      "http://mirror.invalid/debian bookworm-updates main contrib");
        assert_string_equal(lines[2], "deb http://security.invalid/debian-security bookworm-security main");
        assert_int_equal(bootstrap_find_mirror("bookworm", &uri), 0);
        assert_string_equal(uri, "http://mirror.invalid/debian");
        free(uri);
        uri = NULL;

        strv_free(lines);
        lines = NULL;
        assert_int_equal(bootstrap_apt_sources("noble", &lines), 0);
        assert_int_equal(strv_length(lines), 1);
        assert_string_equal(lines[0], "deb [signed-by=/k.gpg] http://ubuntu.invalid/ubuntu noble main universe");

        strv_free(lines);
        lines = NULL;
        assert_int_equal(bootstrap_apt_sources("xenial", &lines), -ENOENT);
        assert_int_equal(bootstrap_find_mirror("xenial", &uri), -ENOENT);

        /* The Ubuntu profile cannot be bootstrapped: the error says why and what to do. */
        {
                _cleanup_(profile_freep) Profile *p = load_shipped("ecs-xenial");
                _cleanup_free_ char *tarball = NULL, *err = NULL;
                assert_int_equal(bootstrap_rootfs(p, root, &tarball, &err), -ENOENT);
                assert_null(tarball);
                assert_non_null(strstr(err, "Ubuntu archive is not reachable from the apt config"));
                assert_non_null(strstr(err, "--base"));
                assert_non_null(strstr(err, "ecs-xenial.yml"));
        }

        assert_int_equal(unsetenv("APPLIANCE_APT_ROOT"), 0);
        assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
        assert_int_equal(system(cmd), 0);
}

static void test_cache_dir(void **state) {
        _cleanup_free_ char *a = NULL;

        assert_int_equal(setenv("XDG_CACHE_HOME", "/tmp/xdg", 1), 0);
        a = bootstrap_default_cache_dir();
        assert_string_equal(a, "/tmp/xdg/appliance-builder");
        assert_int_equal(unsetenv("XDG_CACHE_HOME"), 0);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_minimal),     cmocka_unit_test(test_ubuntu),
                cmocka_unit_test(test_by_path_and_missing), cmocka_unit_test(test_broken),
                cmocka_unit_test(test_defaults),    cmocka_unit_test(test_digest),
                cmocka_unit_test(test_apt_sources), cmocka_unit_test(test_cache_dir),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}

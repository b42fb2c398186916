/**
 * Unit tests of the bootstrap's inputs: the digest of a profile depends on exactly its inputs,
 * deb822 / one-line apt sources are read for a suite and its companions, the cache directory.
 * (The profile parser itself is tested in tests/unit/common/test-profile.c.)
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

/* A profile whose suite no apt source of the test tree lists. */
static const char xenial[] = "distribution: ubuntu\nsuite: xenial\npackages: [udev]\n";

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

        /* Debian 13 is not listed: bookworm's entries serve for it, suite by suite. */
        strv_free(lines);
        lines = NULL;
        assert_int_equal(bootstrap_apt_sources("trixie", &lines), 0);
        assert_int_equal(strv_length(lines), 3);
        assert_string_equal(lines[0], "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
                                      "http://mirror.invalid/debian trixie main contrib");
        assert_string_equal(lines[1], "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
                                      "http://mirror.invalid/debian trixie-updates main contrib");
        assert_string_equal(lines[2], "deb http://security.invalid/debian-security trixie-security main");
        assert_int_equal(bootstrap_find_mirror("trixie", &uri), 0);
        assert_string_equal(uri, "http://mirror.invalid/debian");
        free(uri);
        uri = NULL;
        /* A suite the release table does not know is not guessed. */
        strv_free(lines);
        lines = NULL;
        assert_int_equal(bootstrap_apt_sources("sid", &lines), -ENOENT);

        strv_free(lines);
        lines = NULL;
        assert_int_equal(bootstrap_apt_sources("xenial", &lines), -ENOENT);
        assert_int_equal(bootstrap_find_mirror("xenial", &uri), -ENOENT);

        /* The Ubuntu profile cannot be bootstrapped: the error says why and what to do. */
        {
                _cleanup_(profile_freep) Profile *p = NULL;
                assert_int_equal(profile_load_from_string("ecs-xenial.yml", xenial, strlen(xenial), &p, NULL), 0);
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
                cmocka_unit_test(test_digest),
                cmocka_unit_test(test_apt_sources),
                cmocka_unit_test(test_cache_dir),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("bootstrap", tests, NULL, NULL);
}

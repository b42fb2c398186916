/**
 * Unit tests of the target release table: every row writes only ext4 features its release
 * supports, Ubuntu 16.04 gets none of e2fsprogs 1.43's, the directive table dates what it should,
 * and every unit file the agent brings (src/agent/rootfs) and every unit or drop-in a shipped
 * profile installs uses no directive newer than the oldest target's systemd (229), nor newer than
 * its own release's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "macro.h"
#include "profile.h"
#include "target.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

static const char *srcdir(void) {
        const char *s = getenv("SRCDIR");
        return s ?: ".";
}

static void test_rows(void **state) {
        size_t n;
        const TargetRelease *all = target_releases(&n);

        assert_true(n >= 5);
        for (size_t i = 0; i < n; i++) {
                const char *missing = NULL;
                if (!target_feature_subset(all[i].ext4_features, all[i].ext4_supported, &missing))
                        fail_msg("%s %s writes '%s', which it does not support", all[i].distribution, all[i].suite,
                                 strna(missing));
                assert_int_equal(all[i].inode_size, 256);
                assert_true(all[i].systemd >= 229);
        }
        assert_int_equal(target_oldest_systemd(), 229);

        const TargetRelease *x = target_release_find("ubuntu", "xenial");
        assert_non_null(x);
        assert_string_equal(x->e2fsprogs, "1.42.13");
        assert_int_equal(x->systemd, 229);
        assert_true(target_feature_subset("uninit_bg,extent,flex_bg", x->ext4_features, NULL));
        static const char *const newer[] = { "metadata_csum", "64bit", "metadata_csum_seed", "orphan_file" };
        for (size_t i = 0; i < ELEMENTSOF(newer); i++)
                assert_false(target_feature_subset(newer[i], x->ext4_features, NULL));
        for (size_t i = 0; i < ELEMENTSOF(newer); i++)
                if (!streq(newer[i], "64bit"))
                        assert_false(target_feature_subset(newer[i], x->ext4_supported, NULL));
        assert_string_equal(x->journal_supported, "");

        /* orphan_file needs e2fsprogs 1.47 and Linux 5.15: not on Debian 11. */
        const TargetRelease *b = target_release_find("debian", "bullseye");
        assert_non_null(b);
        assert_int_equal(b->systemd, 247);
        assert_false(target_feature_subset("orphan_file", b->ext4_supported, NULL));
        assert_non_null(target_release_find("debian", "trixie"));
        assert_int_equal(target_release_find("debian", "trixie")->systemd, 257);
        assert_null(target_release_find("debian", "xenial"));
        assert_null(target_release_find("debian", "sid"));

        const char *m = NULL;
        assert_false(target_feature_subset("extent,bogus", "extent", &m));
        assert_string_equal(m, "bogus");
}

static void test_directives(void **state) {
        _cleanup_free_ char *err = NULL;

        assert_int_equal(unit_directive_since("Unit", "Description", "x"), 0);
        assert_int_equal(unit_directive_since("Unit", "StartLimitIntervalSec", "10"), 230);
        assert_int_equal(unit_directive_since("Service", "Type", "oneshot"), 0);
        assert_int_equal(unit_directive_since("Service", "Type", "exec"), 240);
        assert_int_equal(unit_directive_since("Service", "StandardOutput", "journal+console"), 0);
        assert_int_equal(unit_directive_since("Service", "StandardOutput", "append:/var/log/x"), 240);
        assert_int_equal(unit_directive_since("Service", "StandardOutput", "file:/var/log/x"), 236);
        assert_int_equal(unit_directive_since("Service", "ExecStart", "/bin/true"), 0);
        assert_int_equal(unit_directive_since("Service", "ExecStart", "-/bin/true"), 0);
        assert_int_equal(unit_directive_since("Service", "ExecStart", "+/bin/true"), 231);
        assert_int_equal(unit_directive_since("Service", "ExecStartPre", "!!/bin/true"), 236);
        assert_int_equal(unit_directive_since("Socket", "MemoryMax", "1G"), 231);
        assert_int_equal(unit_directive_since("Service", "StateDirectory", "x"), 235);

        assert_int_equal(unit_text_check("ok.service", "[Unit]\nDescription=x\n\n[Service]\nType=oneshot\n"
                                         "ExecStart=/bin/true\n", 229, &err), 0);
        assert_int_equal(unit_text_check("new.service", "# c\n[Unit]\nDescription=x\n[Service]\n  Type = exec\n",
                                         229, &err), -EPROTO);
        assert_string_equal(err, "new.service:5: Service.Type=exec needs systemd 240 (target has 229)");
        assert_int_equal(unit_text_check("new.service", "[Service]\nType=exec\n", 247, NULL), 0);

        assert_true(unit_path_is_unit("/etc/systemd/system/appliance-database.service"));
        assert_true(unit_path_is_unit("/etc/systemd/system/nginx.service.d/appliance.conf"));
        assert_true(unit_path_is_unit("/usr/lib/systemd/system/appliance-insecure-keys.path"));
        assert_false(unit_path_is_unit("/etc/systemd/journald.conf.d/50-appliance.conf"));
        assert_false(unit_path_is_unit("/etc/nginx/sites-available/default"));
        assert_false(unit_path_is_unit("/etc/systemd/system/foo.conf"));
}

static unsigned n_agent_units;

static int check_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        _cleanup_free_ char *text = NULL, *err = NULL;

        if (flag != FTW_F || !unit_path_is_unit(path))
                return 0;
        assert_int_equal(read_full_file(path, &text, NULL, 1 << 20), 0);
        if (unit_text_check(path, text, target_oldest_systemd(), &err) < 0)
                fail_msg("%s", err);
        n_agent_units++;
        return 0;
}

static void test_agent_units(void **state) {
        _cleanup_free_ char *dir = NULL;

        assert_true(asprintf(&dir, "%s/src/agent/rootfs", srcdir()) > 0);
        assert_int_equal(nftw(dir, check_one, 16, FTW_PHYS), 0);
        /* appliance, prepare-env, -storage, -appliance, appliance-update, -failed@, insecure keys */
        assert_true(n_agent_units >= 8);
}

static void test_profile_units(void **state) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        unsigned n_profiles = 0, n_units = 0;

        assert_true(asprintf(&dir, "%s/profiles", srcdir()) > 0);
        assert_int_equal(setenv("APPLIANCE_PROFILES_DIR", dir, 1), 0);
        d = opendir(dir);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_(profile_freep) Profile *p = NULL;
                _cleanup_free_ char *path = NULL, *err = NULL;
                const TargetRelease *t;

                if (!endswith(de->d_name, ".yml") || streq(de->d_name, "env-template.yml"))
                        continue;
                assert_true(asprintf(&path, "%s/%s", dir, de->d_name) > 0);
                if (profile_load(path, &p, &err) < 0)
                        fail_msg("%s", strna(err));
                t = target_release_find(p->distribution, p->suite);
                if (!t)
                        fail_msg("%s: %s %s is not in the release table", path, p->distribution, p->suite);
                for (size_t i = 0; i < p->n_files; i++) {
                        if (!unit_path_is_unit(p->files[i].path))
                                continue;
                        free(err);
                        err = NULL;
                        if (unit_text_check(p->files[i].path, p->files[i].content, target_oldest_systemd(), &err) < 0)
                                fail_msg("%s: %s", path, err);
                        assert_true(t->systemd >= target_oldest_systemd());
                        n_units++;
                }
                n_profiles++;
        }
        assert_true(n_profiles >= 5);
        assert_true(n_units >= 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rows),
                cmocka_unit_test(test_directives),
                cmocka_unit_test(test_agent_units),
                cmocka_unit_test(test_profile_units),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/**
 * Unit tests of users: lookups in ROOT/etc/passwd and group without NSS, owner specs, and creating
 * users under a temporary root (the profile's app user, next free ids, groups, sudo, hostile names
 * and ids refused with the reason).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <alloca.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-test-root.h"
#include "cleanup.h"
#include "macro.h"
#include "users.h"

static int setup_root(void **state) {
        Fixture *f = fixture_new("test-users");

        assert_non_null(f);
        assert_int_equal(write_at(f->dir, "/etc/passwd",
                                  "root:x:0:0:root:/root:/bin/sh\npostgres:x:115:120::/var/lib/postgresql:/bin/sh\n"
                                  "# a comment\nbroken line\n"), 0);
        assert_int_equal(write_at(f->dir, "/etc/group", "root:x:0:\npostgres:x:120:\nsudo:x:27:\nadm:x:4:syslog\n"), 0);
        assert_int_equal(write_at(f->dir, "/etc/shadow", "root:!:19000:0:99999:7:::\n"), 0);
        *state = f;
        return 0;
}

static int teardown_root(void **state) {
        return fixture_free(*state);
}

static void test_lookups(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *home = NULL;
        uid_t uid = 0;
        gid_t gid = 0;

        assert_int_equal(user_lookup(&f->agent, "postgres", &uid, &gid, &home), 0);
        assert_int_equal(uid, 115);
        assert_int_equal(gid, 120);
        assert_string_equal(home, "/var/lib/postgresql");
        /* the root's files, never the host's: the host has users this root lacks */
        assert_int_equal(user_lookup(&f->agent, "daemon", &uid, &gid, NULL), -ESRCH);
        assert_int_equal(user_lookup(&f->agent, "broken line", &uid, &gid, NULL), -ESRCH);
        assert_int_equal(group_lookup(&f->agent, "adm", &gid), 0);
        assert_int_equal(gid, 4);
        assert_int_equal(group_lookup(&f->agent, "wheel", &gid), -ESRCH);

        static const struct {
                const char *spec;
                int r;
                uid_t uid;
                gid_t gid;
        } rows[] = {
                { "postgres", 0, 115, 120 },      /* the user's primary group */
                { "postgres:adm", 0, 115, 4 },
                { "root:120", 0, 0, 120 },
                { "1234:5678", 0, 1234, 5678 },   /* numeric ids as they are */
                { "nobody", -ESRCH, 0, 0 },
                { "root:nogroup", -ESRCH, 0, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                uid = 99;
                gid = 99;
                int r = owner_parse(&f->agent, rows[i].spec, &uid, &gid);
                if (r != rows[i].r)
                        fail_msg("owner_parse('%s') = %d, expected %d", rows[i].spec, r, rows[i].r);
                if (r == 0 && (uid != rows[i].uid || gid != rows[i].gid))
                        fail_msg("owner_parse('%s') = %u:%u", rows[i].spec, (unsigned) uid, (unsigned) gid);
        }
}

static void test_spec_check(void **state) {
        _cleanup_free_ char *why = NULL;
        (void) state;

        assert_int_equal(user_spec_check(&(UserSpec) { .name = "ops_1", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET,
                                                        .sudo = "ALL=(ALL) NOPASSWD:ALL" }, &why), 0);
        assert_null(why);
        assert_int_equal(user_spec_check(&(UserSpec) { .name = "-x", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET }, &why),
                         -EINVAL);
        assert_non_null(strstr(why, "not a valid user name"));
        assert_int_equal(user_spec_check(&(UserSpec) { .name = "ok", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET,
                                                        .gecos = "a:b" }, &why), -EINVAL);
}

static void test_user_ensure(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *passwd = NULL, *group = NULL, *shadow = NULL, *sudoers = NULL, *why = NULL;
        char *const groups[] = { (char *) "sudo", (char *) "adm", NULL };
        UserSpec app = { .name = "app", .uid = 1000, .gid = 1000, .home = "/app", .shell = "/bin/bash" };
        UserSpec v = { .name = "vagrant", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET, .groups = groups,
                       .sudo = "ALL=(ALL) NOPASSWD:ALL" };
        struct stat st;

        assert_int_equal(user_ensure(&f->agent, &app, &why), 1);
        assert_int_equal(user_ensure(&f->agent, &app, &why), 0);   /* idempotent */
        passwd = read_at(f->dir, "/etc/passwd");
        assert_non_null(strstr(passwd, "\napp:x:1000:1000::/app:/bin/bash\n"));
        group = read_at(f->dir, "/etc/group");
        assert_non_null(strstr(group, "\napp:x:1000:\n"));
        shadow = read_at(f->dir, "/etc/shadow");
        assert_non_null(strstr(shadow, "\napp:*:"));
        assert_int_equal(stat(strjoina(f->dir, "/app"), &st), 0);
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(st.st_mode & 07777, 0755);

        /* Next free ids, groups, sudo. */
        assert_int_equal(user_ensure(&f->agent, &v, &why), 1);
        free(passwd);
        passwd = read_at(f->dir, "/etc/passwd");
        assert_non_null(strstr(passwd, "\nvagrant:x:1001:1001::/home/vagrant:/bin/sh\n"));
        free(group);
        group = read_at(f->dir, "/etc/group");
        assert_non_null(strstr(group, "\nsudo:x:27:vagrant\n"));
        assert_non_null(strstr(group, "\nadm:x:4:syslog,vagrant\n"));
        sudoers = read_at(f->dir, "/etc/sudoers.d/90-appliance-vagrant");
        assert_non_null(strstr(sudoers, "\nvagrant ALL=(ALL) NOPASSWD:ALL\n"));
        assert_int_equal(stat(strjoina(f->dir, "/etc/sudoers.d/90-appliance-vagrant"), &st), 0);
        assert_int_equal(st.st_mode & 07777, 0440);
        assert_int_equal(user_ensure(&f->agent, &v, &why), 0);

        /* Hostile and conflicting specs: refused with the reason, nothing written. */
        static char *const nogroup[] = { (char *) "nogroup", NULL };
        static const struct {
                UserSpec u;
                int r;
                const char *why;
        } bad[] = {
                { { .name = "../x", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET }, -EINVAL, "not a valid user name" },
                { { .name = "root", .uid = 1000, .gid = USER_ID_UNSET }, -EEXIST, "exists with uid 0, not 1000" },
                { { .name = "x1", .uid = 1000, .gid = USER_ID_UNSET }, -EEXIST, "uid 1000 belongs to another user" },
                { { .name = "Admin", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET }, -EINVAL, "not a valid user name" },
                { { .name = "x2", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET, .home = "/home/../etc" }, -EINVAL,
                  "not a clean absolute path" },
                { { .name = "x3", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET, .shell = "/bin/sh\nroot::0" }, -EINVAL,
                  "not a clean absolute path" },
                { { .name = "x4", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET, .sudo = "ALL=(ALL) ALL\nx ALL=ALL" },
                  -EINVAL, "sudo rule" },
                { { .name = "x5", .uid = USER_ID_UNSET, .gid = USER_ID_UNSET, .groups = nogroup },
                  -ESRCH, "no group 'nogroup'" },
        };
        _cleanup_free_ char *before = read_at(f->dir, "/etc/passwd");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                free(why);
                why = NULL;
                assert_int_equal(user_ensure(&f->agent, &bad[i].u, &why), bad[i].r);
                if (!why || !strstr(why, bad[i].why))
                        fail_msg("row %zu: '%s' lacks '%s'", i, strna(why), bad[i].why);
        }
        char long_name[301];
        memset(long_name, 'a', 300);
        long_name[300] = 0;
        UserSpec ln = { .name = long_name, .uid = USER_ID_UNSET, .gid = USER_ID_UNSET };
        free(why);
        why = NULL;
        assert_int_equal(user_ensure(&f->agent, &ln, &why), -EINVAL);
        assert_non_null(strstr(why, "longer than 32"));
        _cleanup_free_ char *after = read_at(f->dir, "/etc/passwd");
        /* x5's user line is written before its group is found missing: only x5 may be new. */
        assert_true(strneq(after, before, strlen(before)));
        assert_null(strstr(after, "x1:"));
        assert_null(strstr(after, "x4:"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_lookups, setup_root, teardown_root),
                cmocka_unit_test(test_spec_check),
                cmocka_unit_test_setup_teardown(test_user_ensure, setup_root, teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

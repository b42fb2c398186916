/**
 * Unit tests of internal-user: the arguments of create-internal-user.sh, a profile without the
 * hook, and a hook (a shell script keeping users in a file) that gets the arguments and the
 * password on stdin: created, then updated with a new password, a failing hook reported.
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

#include "agent.h"
#include "agent-test-root.h"
#include "cleanup.h"
#include "internal-user.h"

static void test_check(void **state) {
        _cleanup_free_ char *err = NULL;
        (void) state;

        assert_int_equal(internal_user_check("a@example.org", "Anna", "Berger", "f", &err), 0);
        assert_int_equal(internal_user_check("a@example.org", "Anna", "Berger", "x", &err), -EINVAL);
        assert_string_equal(err, "gender must be f or m, not 'x'");
        free(err);
        err = NULL;
        assert_int_equal(internal_user_check("nomail", "Anna", "Berger", "f", &err), -EINVAL);
        free(err);
        err = NULL;
        assert_int_equal(internal_user_check("a@example.org", "", "Berger", "m", &err), -EINVAL);
        assert_non_null(strstr(err, "First name"));
}

static void test_hook(void **state) {
        Fixture *f = fixture_new("test-internal-user");
        _cleanup_free_ char *err = NULL, *db = NULL, *profile = NULL, *hook = NULL, *script = NULL;
        char pw1[INTERNAL_USER_PASSWORD_LEN + 1], pw2[INTERNAL_USER_PASSWORD_LEN + 1];
        (void) state;

        assert_non_null(f);
        assert_int_equal(write_at(f->dir, AGENT_PROFILE, "distribution: debian\nsuite: bookworm\npackages: [udev]\n"), 0);
        assert_int_equal(internal_user_apply(&f->agent, "a@example.org", "Anna", "Berger", "f", pw1, &err),
                         -EOPNOTSUPP);
        free(err);
        err = NULL;

        /* The hook runs as a program of the running system: a host path. */
        assert_true(asprintf(&hook, "%s/hook", f->dir) > 0);
        assert_true(asprintf(&script,
                             "#!/bin/sh\nset -eu\nread -r pw\ndb=%s/users\ntouch \"$db\"\n"
                             "[ \"$4\" != m ] || exit 3\n"
                             "if grep -q \"^$1 \" \"$db\"; then s=updated; else s=created; fi\n"
                             "grep -v \"^$1 \" \"$db\" >\"$db.new\" || true\n"
                             "echo \"$1 $2 $3 $4 $pw\" >>\"$db.new\"\nmv \"$db.new\" \"$db\"\necho $s\n",
                             f->dir) > 0);
        assert_int_equal(write_at("", hook, script), 0);
        assert_int_equal(chmod(hook, 0755), 0);
        assert_true(asprintf(&profile, "distribution: debian\nsuite: bookworm\npackages: [udev]\n"
                                       "hooks:\n  create-internal-user: %s\n", hook) > 0);
        assert_int_equal(write_at(f->dir, AGENT_PROFILE, profile), 0);

        assert_int_equal(internal_user_apply(&f->agent, "a@example.org", "Anna", "Berger", "f", pw1, &err), 1);
        assert_int_equal(strlen(pw1), 16);
        assert_int_equal(internal_user_apply(&f->agent, "a@example.org", "Anna", "Berger-Huber", "f", pw2, &err), 0);
        assert_string_not_equal(pw1, pw2);
        db = read_at(f->dir, "/users");
        assert_non_null(db);
        {
                _cleanup_free_ char *want = NULL;
                assert_true(asprintf(&want, "a@example.org Anna Berger-Huber f %s\n", pw2) > 0);
                assert_string_equal(db, want);
        }
        assert_int_equal(internal_user_apply(&f->agent, "b@example.org", "Bert", "Berger", "m", pw1, &err), -EIO);
        assert_non_null(strstr(err, "exit status 3"));
        fixture_free(f);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_hook),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("internal-user", tests, NULL, NULL);
}

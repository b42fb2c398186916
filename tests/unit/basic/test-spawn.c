/**
 * Unit tests of spawn: child processes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "spawn.h"

static void test_spawn(void **state) {
        _cleanup_free_ char *out = NULL, *err = NULL;
        char *cat[] = { (char *) "cat", NULL };
        char *sh[] = { (char *) "sh", (char *) "-c", (char *) "echo out; echo err >&2; exit 3", NULL };
        char *none[] = { (char *) "no-such-program-here", NULL };

        assert_int_equal(spawn_capture(cat, "data in", 7, 0, &out, NULL), 0);
        assert_string_equal(out, "data in");
        free(out);
        out = NULL;
        assert_int_equal(spawn_capture(sh, NULL, 0, 0, &out, &err), 3);
        assert_string_equal(out, "out\n");
        assert_string_equal(err, "err\n");
        assert_int_equal(spawn_run(none), -ENOENT);

        /* A descriptor the caller holds without O_CLOEXEC does not reach the child. */
        char *fd12[] = { (char *) "sh", (char *) "-c", (char *) "test ! -e /proc/$$/fd/12", NULL };
        int fd = open("/dev/null", O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(dup2(fd, 12), 12);
        assert_int_equal(spawn_run(fd12), 0);
        (void) close(12);
        (void) close(fd);
}

static void test_spawn_flags_and_lookup(void **state) {
        _cleanup_free_ char *out = NULL, *sh = NULL, *abs = NULL;
        char *both[] = { (char *) "sh", (char *) "-c", (char *) "echo one; echo two >&2", NULL };
        (void) state;

        assert_int_equal(spawn_capture(both, NULL, 0, SPAWN_STDERR_TO_STDOUT, &out, NULL), 0);
        assert_string_equal(out, "one\ntwo\n");
        free(out);
        out = NULL;
        assert_int_equal(spawn_capture(both, NULL, 0, SPAWN_NULL_STDERR, &out, NULL), 0);
        assert_string_equal(out, "one\n");

        assert_int_equal(find_executable("sh", &sh), 0);
        assert_true(sh[0] == '/');
        assert_true(access(sh, X_OK) == 0);
        assert_int_equal(find_executable(sh, &abs), 0);
        assert_string_equal(abs, sh);
        char *none = NULL;
        assert_int_equal(find_executable("no-such-program-here", &none), -ENOENT);
        assert_null(none);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_spawn),
                cmocka_unit_test(test_spawn_flags_and_lookup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

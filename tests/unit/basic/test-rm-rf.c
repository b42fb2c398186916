/**
 * Unit tests of rm-rf: a tree with files, a FIFO and symlinks is removed without following a link
 * out of it; a file or a missing path works; the throw-away directory follows $TMPDIR and its
 * length bound and is private.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "macro.h"
#include "rm-rf.h"

static void touch(const char *dir, const char *name) {
        _cleanup_free_ char *p = NULL;
        int fd;

        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
}

static void test_tree(void **state) {
        _cleanup_free_ char *top = NULL, *outside = NULL, *p = NULL;
        (void) state;

        assert_int_equal(mkdtemp_tmpdir("test-rm-rf", 0, &top), 0);
        assert_int_equal(mkdtemp_tmpdir("test-rm-rf-outside", 0, &outside), 0);
        touch(outside, "keep");

        assert_true(asprintf(&p, "%s/a/b/c", top) > 0);
        assert_int_equal(mkdir(strndupa(p, strlen(top) + 2), 0755), 0);
        assert_int_equal(mkdir(strndupa(p, strlen(top) + 4), 0755), 0);
        assert_int_equal(mkdir(p, 0000), 0);   /* empty, unreadable: still removable by its parent */
        touch(top, "a/file");
        free(p);
        assert_true(asprintf(&p, "%s/a/fifo", top) > 0);
        assert_int_equal(mkfifo(p, 0600), 0);
        free(p);
        assert_true(asprintf(&p, "%s/a/b/link-out", top) > 0);
        assert_int_equal(symlink(outside, p), 0);

        assert_int_equal(rm_rf(top), 0);
        assert_int_equal(access(top, F_OK), -1);
        assert_int_equal(errno, ENOENT);
        free(p);
        assert_true(asprintf(&p, "%s/keep", outside) > 0);
        assert_int_equal(access(p, F_OK), 0);   /* the link was removed, not followed */

        assert_int_equal(rm_rf(top), 0);        /* missing: success */
        assert_int_equal(rm_rf(p), 0);          /* a plain file */
        assert_int_equal(access(p, F_OK), -1);
        assert_null(rm_rf_and_free(TAKE_PTR(outside)));
}

static void test_tmpdir(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *base = NULL, *longtmp = NULL;
        const char *old = getenv("TMPDIR");
        _cleanup_free_ char *saved = old ? strdup(old) : NULL;
        struct stat st;
        (void) state;

        assert_int_equal(mkdtemp_tmpdir("base", 0, &base), 0);
        assert_int_equal(setenv("TMPDIR", base, 1), 0);
        assert_int_equal(mkdtemp_tmpdir("x", 0, &a), 0);
        assert_true(strncmp(a, base, strlen(base)) == 0);
        assert_string_equal(a + strlen(base), strrchr(a, '/'));
        assert_true(strncmp(strrchr(a, '/'), "/x.", 3) == 0);
        assert_int_equal(stat(a, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0700);

        /* "BASE/x.XXXXXX" is 9 longer than BASE: at the bound it stays, one less and it goes to /tmp. */
        assert_int_equal(mkdtemp_tmpdir("x", strlen(base) + 9, &b), 0);
        assert_true(strncmp(b, base, strlen(base)) == 0);
        assert_int_equal(mkdtemp_tmpdir("x", strlen(base) + 8, &c), 0);
        assert_true(strncmp(c, "/tmp/x.", 7) == 0);

        /* Not absolute: /tmp. */
        assert_int_equal(setenv("TMPDIR", "relative", 1), 0);
        assert_int_equal(mkdtemp_tmpdir("y", 0, &longtmp), 0);
        assert_true(strncmp(longtmp, "/tmp/y.", 7) == 0);

        if (saved)
                assert_int_equal(setenv("TMPDIR", saved, 1), 0);
        else
                assert_int_equal(unsetenv("TMPDIR"), 0);
        assert_int_equal(rm_rf(c), 0);
        assert_int_equal(rm_rf(b), 0);
        assert_int_equal(rm_rf(longtmp), 0);
        assert_int_equal(rm_rf(base), 0);
        assert_int_equal(access(a, F_OK), -1);
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tree),
                cmocka_unit_test(test_tmpdir),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("rm-rf", tests, NULL, NULL);
}

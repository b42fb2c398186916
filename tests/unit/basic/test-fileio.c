/**
 * Unit tests of fileio: atomic files, output modes, reading with a bound, paths.
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
#include "fileio.h"
#include "spawn.h"

#include "../tmpdir.h"

static unsigned count_entries(const char *dir) {
        _cleanup_free_ char *out = NULL;
        char *argv[] = { (char *) "ls", (char *) "-A", (char *) dir, NULL };
        unsigned n = 0;

        assert_int_equal(spawn_capture(argv, NULL, 0, 0, &out, NULL), 0);
        for (char *p = out; *p; p++)
                n += *p == '\n';
        return n;
}

static void test_atomic_write(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *path = NULL, *buf = NULL;
        struct stat st;
        size_t size;

        assert_true(asprintf(&path, "%s/out.txt", dir) > 0);
        mode_t old = umask(0077);
        assert_int_equal(write_file_atomic(path, "hello\n", 6, 0644), 0);
        umask(old);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(read_full_file(path, &buf, &size, 0), 0);
        assert_int_equal(size, 6);
        assert_string_equal(buf, "hello\n");

        /* Replacing keeps exactly one entry: no temporary left behind. */
        assert_int_equal(write_file_atomic(path, "x", 1, 0600), 0);
        assert_int_equal(count_entries(dir), 1);
}

static void test_atomic_discard(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *path = NULL;
        AtomicFile f;

        assert_true(asprintf(&path, "%s/never", dir) > 0);
        assert_int_equal(atomic_file_open(&f, AT_FDCWD, path, 0644), 0);
        assert_int_equal(loop_write(f.fd, "partial", 7), 0);
        atomic_file_done(&f); /* not committed */
        assert_false(path_exists(path));
        assert_int_equal(count_entries(dir), 0);

        assert_int_equal(write_file_atomic("/nonexistent-dir/x", "x", 1, 0644), -ENOENT);
}

/* A secret output is 0600 before its first byte, whatever the umask; a public one 0644. */
static void test_output_modes(void **state) {
        const char *dir = *state;
        _cleanup_free_ char *secret = NULL, *pub = NULL, *child = NULL;
        struct stat st;
        AtomicFile f;

        assert_true(asprintf(&secret, "%s/secret.img", dir) > 0);
        assert_true(asprintf(&pub, "%s/public.img", dir) > 0);
        assert_true(asprintf(&child, "%s/child.img", dir) > 0);
        mode_t old = umask(0);
        assert_int_equal(atomic_file_open(&f, AT_FDCWD, secret, output_mode(true)), 0);
        assert_int_equal(fstat(f.fd, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(loop_write(f.fd, "key", 3), 0);
        assert_int_equal(atomic_file_commit(&f), 0);
        atomic_file_done(&f);
        assert_int_equal(stat(secret, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(write_file_atomic(pub, "x", 1, output_mode(false)), 0);
        assert_int_equal(stat(pub, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);

        /* For a child process: created empty with the mode, never replaced. */
        assert_int_equal(create_output_file(child, OUTPUT_MODE_SECRET), 0);
        umask(old);
        assert_int_equal(stat(child, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_size, 0);
        assert_int_equal(create_output_file(child, OUTPUT_MODE_SECRET), -EEXIST);
        assert_int_equal(create_output_file(pub, OUTPUT_MODE_PUBLIC), -EEXIST);
        assert_int_equal(stat(pub, &st), 0);
        assert_int_equal(st.st_size, 1);
}

static void test_mkdir_p(void **state) {
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "%s/a/b/c", (char *) *state) > 0);
        assert_int_equal(mkdir_p(path, 0755), 1);
        assert_int_equal(mkdir_p(path, 0755), 0);
}

static void test_read_bound_and_split(void **state) {
        _cleanup_free_ char *path = tmpdir_path(state, "ten"), *buf = NULL, *dir = NULL;
        const char *base = NULL;
        size_t size = 0;

        assert_int_equal(write_file_atomic(path, "0123456789", 10, 0644), 0);
        assert_int_equal(read_full_file(path, &buf, &size, 9), -EFBIG);
        assert_null(buf);
        assert_int_equal(read_full_file(path, &buf, &size, 10), 0);
        assert_int_equal(size, 10);
        assert_string_equal(buf, "0123456789");
        assert_true(path_exists(path));

        assert_int_equal(path_split("/a/b/c.txt", &dir, &base), 0);
        assert_string_equal(dir, "/a/b");
        assert_string_equal(base, "c.txt");
        free(dir);
        assert_int_equal(path_split("c.txt", &dir, &base), 0);
        assert_string_equal(dir, ".");
        free(dir);
        assert_int_equal(path_split("/x", &dir, &base), 0);
        assert_string_equal(dir, "/");
        assert_string_equal(base, "x");
        free(dir);
        dir = NULL;
        assert_int_equal(path_split("/a/", &dir, &base), -EISDIR);
        assert_null(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_atomic_write, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_atomic_discard, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_output_modes, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_mkdir_p, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_read_bound_and_split, tmpdir_setup, tmpdir_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

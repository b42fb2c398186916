/**
 * Unit tests of the util layer: size parsing, string vectors, atomic files, child processes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "parse-util.h"
#include "spawn.h"
#include "strv.h"

static void test_parse_size(void **state) {
        static const struct {
                const char *in;
                int ret;
                uint64_t value;
        } rows[] = {
                { "0", 0, 0 },
                { "512", 0, 512 },
                { "512B", 0, 512 },
                { "1K", 0, 1024 },
                { "10k", 0, 10240 },
                { "1.5G", 0, 1610612736ULL },
                { "20GiB", 0, 20ULL << 30 },
                { "300MB", 0, 300ULL << 20 },
                { "2T", 0, 2ULL << 40 },
                { "1 G", 0, 1ULL << 30 },
                { "", -EINVAL, 0 },
                { "G", -EINVAL, 0 },
                { "-1G", -EINVAL, 0 },
                { "1X", -EINVAL, 0 },
                { "1GX", -EINVAL, 0 },
                { "1.5", -EINVAL, 0 },
                { "99999999999999999999999P", -ERANGE, 0 },
        };

        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                uint64_t v = 4242;
                int r = parse_size(rows[i].in, &v);
                if (r != rows[i].ret)
                        fail_msg("parse_size(\"%s\") returned %d, expected %d", rows[i].in, r, rows[i].ret);
                if (r == 0 && v != rows[i].value)
                        fail_msg("parse_size(\"%s\") = %llu, expected %llu", rows[i].in,
                                 (unsigned long long) v, (unsigned long long) rows[i].value);
                if (r < 0 && v != 4242)
                        fail_msg("parse_size(\"%s\") touched the output on failure", rows[i].in);
        }
}

static void test_format_bytes(void **state) {
        char buf[FORMAT_BYTES_MAX];

        assert_string_equal(format_bytes(buf, sizeof buf, 512), "512B");
        assert_string_equal(format_bytes(buf, sizeof buf, 1536), "1.5K");
        assert_string_equal(format_bytes(buf, sizeof buf, 20ULL << 30), "20G");
}

static void test_safe_ato(void **state) {
        uint64_t u;
        int i;

        assert_int_equal(safe_atou64("18446744073709551615", &u), 0);
        assert_true(u == UINT64_MAX);
        assert_int_equal(safe_atou64("18446744073709551616", &u), -ERANGE);
        assert_int_equal(safe_atou64("-1", &u), -EINVAL);
        assert_int_equal(safe_atou64("12a", &u), -EINVAL);
        assert_int_equal(safe_atoi("-42", &i), 0);
        assert_int_equal(i, -42);
        assert_int_equal(parse_boolean("yes"), 1);
        assert_int_equal(parse_boolean("Off"), 0);
        assert_int_equal(parse_boolean("maybe"), -EINVAL);
}

static void test_strv(void **state) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *j = NULL;

        assert_int_equal(strv_split("ecs,,appliance,", ",", &l), 0);
        assert_int_equal(strv_length(l), 2);
        assert_true(strv_contains(l, "appliance"));
        assert_int_equal(strv_extend(&l, "b"), 0);
        strv_sort(l);
        j = strv_join(l, "+");
        assert_string_equal(j, "appliance+b+ecs");
}

static int make_tmpdir(void **state) {
        char *d = strdup("/tmp/test-shared.XXXXXX");
        if (!d || !mkdtemp(d))
                return -1;
        *state = d;
        return 0;
}

static int remove_tmpdir(void **state) {
        char *argv[] = { (char *) "rm", (char *) "-rf", *state, NULL };
        (void) spawn_run(argv);
        free(*state);
        return 0;
}

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

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_format_bytes),
                cmocka_unit_test(test_safe_ato),
                cmocka_unit_test(test_strv),
                cmocka_unit_test_setup_teardown(test_atomic_write, make_tmpdir, remove_tmpdir),
                cmocka_unit_test_setup_teardown(test_atomic_discard, make_tmpdir, remove_tmpdir),
                cmocka_unit_test_setup_teardown(test_output_modes, make_tmpdir, remove_tmpdir),
                cmocka_unit_test_setup_teardown(test_mkdir_p, make_tmpdir, remove_tmpdir),
                cmocka_unit_test(test_spawn),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("shared", tests, NULL, NULL);
}

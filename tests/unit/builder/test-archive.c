/**
 * Unit tests of the libarchive wrapper: a tar.gz written to memory and extracted again into a
 * temporary directory (modes, contents, entry count, the filter's name), and hostile tarballs made by
 * Python's tarfile (a device node, a ".." path, an absolute path, garbage) refused with the entry named.
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
#include "lib/archive.h"
#include "macro.h"
#include "../tmpdir.h"

typedef struct Mem {
        char *data;
        size_t size, off;
} Mem;

static ssize_t mem_write(void *userdata, const void *buf, size_t len) {
        Mem *m = userdata;
        char *p = realloc(m->data, m->size + len);

        if (!p)
                return -ENOMEM;
        memcpy(p + m->size, buf, len);
        m->data = p;
        m->size += len;
        return (ssize_t) len;
}

static ssize_t mem_read(void *userdata, const void **ret) {
        Mem *m = userdata;
        size_t n = MIN((size_t) 700, m->size - m->off); /* small blocks: the reader must join them */

        *ret = m->data + m->off;
        m->off += n;
        return (ssize_t) n;
}

static ssize_t fd_read(void *userdata, const void **ret) {
        static char buf[4096];
        ssize_t n = read(*(int *) userdata, buf, sizeof buf);

        *ret = buf;
        return n < 0 ? -errno : n;
}

static bool no_devices(bool block, unsigned major, unsigned minor) {
        (void) block;
        (void) major;
        (void) minor;
        return false;
}

/* Extracts tarball (a file) into DIR/out; returns ar_extract_tar()'s result and its message. */
static int extract_file(void **state, const char *tarball, ArExtractInfo *info, char **err) {
        _cleanup_free_ char *out = tmpdir_path(state, "out");
        _cleanup_close_ int fd = open(tarball, O_RDONLY | O_CLOEXEC), cwd = open(".", O_RDONLY | O_DIRECTORY);
        int r;

        assert_true(fd >= 0 && cwd >= 0);
        (void) mkdir(out, 0755);
        assert_int_equal(chdir(out), 0);
        r = ar_extract_tar("t.tar", fd_read, &fd, no_devices, info, err);
        assert_int_equal(fchdir(cwd), 0);
        return r;
}

static void test_tar_round_trip(void **state) {
        _cleanup_(ar_writer_freep) ArWriter *w = NULL;
        _cleanup_free_ char *out = tmpdir_path(state, "out"), *a = NULL, *b = NULL, *err = NULL;
        _cleanup_close_ int cwd = open(".", O_RDONLY | O_DIRECTORY);
        ArExtractInfo info = {};
        Mem m = {};
        struct stat st;

        assert_int_equal(ar_writer_new(AR_PAX, AR_GZIP, &w, &err), 0);
        assert_int_equal(ar_writer_open_sink(w, mem_write, &m, &err), 0);
        assert_int_equal(ar_writer_begin(w, &(ArMember) { .name = "a.txt", .size = 5, .perm = 0600, .mtime = 1700000000 },
                                         &err), 0);
        assert_int_equal(ar_writer_data(w, "hello", 5, &err), 0);
        assert_int_equal(ar_writer_begin(w, &(ArMember) { .name = "dir/b.txt", .size = 0, .perm = 0644 }, &err), 0);
        assert_int_equal(ar_writer_close(w, &err), 0);
        assert_true(m.size > 18 && (uint8_t) m.data[0] == 0x1f && (uint8_t) m.data[1] == 0x8b); /* gzip */

        assert_int_equal(mkdir(out, 0755), 0);
        assert_int_equal(chdir(out), 0);
        int r = ar_extract_tar("mem.tar.gz", mem_read, &m, no_devices, &info, &err);
        assert_int_equal(fchdir(cwd), 0);
        if (r < 0)
                fail_msg("ar_extract_tar: %d %s", r, strna(err));
        assert_int_equal(info.entries, 2);
        assert_string_equal(info.filter, "gzip");
        ar_extract_info_done(&info);
        free(m.data);

        _cleanup_free_ char *pa = tmpdir_path(state, "out/a.txt"), *pb = tmpdir_path(state, "out/dir/b.txt");
        assert_int_equal(read_full_file(pa, &a, NULL, 0), 0);
        assert_string_equal(a, "hello");
        assert_int_equal(stat(pa, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_mtime, 1700000000);
        assert_int_equal(read_full_file(pb, &b, NULL, 0), 0);
        assert_string_equal(b, "");
}

static void test_hostile_tarballs(void **state) {
        static const struct {
                const char *python; /* builds the members of tarfile t */
                int r;
                const char *error;
        } rows[] = {
                { "i = tarfile.TarInfo('dev/sda'); i.type = tarfile.BLKTYPE; i.devmajor, i.devminor = 8, 0; t.addfile(i)",
                  -EPERM, "'t.tar': entry 'dev/sda' is a block device 8:0" },
                { "i = tarfile.TarInfo('dev/mem'); i.type = tarfile.CHRTYPE; i.devmajor, i.devminor = 1, 1; t.addfile(i)",
                  -EPERM, "character device 1:1" },
                { "i = tarfile.TarInfo('../escape'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))",
                  -EIO, "'t.tar': cannot extract entry '../escape'" },
                { "i = tarfile.TarInfo('/etc/escape'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))",
                  -EIO, "cannot extract entry '/etc/escape'" },
                { NULL, -EBADMSG, "'t.tar': the archive is empty" },
        };
        _cleanup_free_ char *tarball = tmpdir_path(state, "t.tar"), *garbage = tmpdir_path(state, "g.tar");

        if (!have_tool("python3"))
                skip();
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *err = NULL;
                ArExtractInfo info = {};

                sh_ok("python3 -c \"import io, tarfile\nwith tarfile.open('%s', 'w') as t:\n    %s\"", tarball,
                      rows[i].python ?: "pass");
                int r = extract_file(state, tarball, &info, &err);
                if (r != rows[i].r || !err || !strstr(err, rows[i].error))
                        fail_msg("row %zu: %d '%s', expected %d '%s'", i, r, strna(err), rows[i].r, rows[i].error);
        }
        _cleanup_free_ char *err = NULL;
        ArExtractInfo info = {};
        assert_int_equal(write_file_atomic(garbage, "not a tar archive at all, just words\n", 37, 0644), 0);
        assert_int_equal(extract_file(state, garbage, &info, &err), -EBADMSG);
        assert_non_null(strstr(err, "not a readable tar archive"));
        /* nothing escaped the output directory */
        _cleanup_free_ char *escape = tmpdir_path(state, "escape");
        assert_int_equal(access(escape, F_OK), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_tar_round_trip, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_hostile_tarballs, tmpdir_setup, tmpdir_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

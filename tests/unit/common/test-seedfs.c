/**
 * Unit tests of the seed filesystem reader on real images: ISO 9660 made by genisoimage and xorriso
 * (Rock Ridge, Joliet, neither), FAT made by mkfs.vfat and mcopy, and images crafted here with the
 * hostile structures the reader must survive (a truncated image, a Rock Ridge continuation loop,
 * a size beyond the image, "." / ".." and '/' in names, a FAT cluster loop).
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
#include "macro.h"
#include "seedfs.h"
#include "../tmpdir.h"

static const char user_data[] = "#cloud-config\nhostname: unit\n";
static const char meta_data[] = "instance-id: iid-unit\n";

/* A seed directory with user-data and meta-data, and an ISO of it made with mkisofs options. */
static char *make_iso(void **state, const char *name, const char *opts) {
        _cleanup_free_ char *dir = tmpdir_path(state, "tree");
        char *iso = tmpdir_path(state, name);
        _cleanup_free_ char *ud = NULL, *md = NULL;

        (void) mkdir(dir, 0755);
        assert_true(asprintf(&ud, "%s/user-data", dir) > 0);
        assert_true(asprintf(&md, "%s/meta-data", dir) > 0);
        assert_int_equal(write_file_atomic(ud, user_data, strlen(user_data), 0644), 0);
        assert_int_equal(write_file_atomic(md, meta_data, strlen(meta_data), 0644), 0);
        sh_ok("genisoimage -quiet -o '%s' -V cidata %s '%s' 2>/dev/null", iso, opts, dir);
        return iso;
}

static SeedFs *open_fs(const char *path, int *ret_fd) {
        SeedFs *fs = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC), r;

        assert_true(fd >= 0);
        r = seedfs_open(fd, &fs);
        if (r < 0)
                fail_msg("seedfs_open(%s): %s", path, strerror(-r));
        *ret_fd = fd;
        return fs;
}

static bool listed(SeedFs *fs, const char *name) {
        SeedFsEntry *e = NULL;
        size_t n = 0;
        bool found = false;

        assert_int_equal(seedfs_list_root(fs, &e, &n), 0);
        for (size_t i = 0; i < n; i++)
                if (streq(e[i].name, name))
                        found = true;
        seedfs_entries_free(e, n);
        return found;
}

static void test_iso_rock_joliet(void **state) {
        _cleanup_free_ char *iso = NULL, *buf = NULL, *label = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(seedfs_freep) SeedFs *fs = NULL;
        size_t n = 0;
        FsType t;

        if (!have_tool("genisoimage"))
                skip();
        iso = make_iso(state, "rj.iso", "-J -r");
        fs = open_fs(iso, &fd);
        assert_int_equal(seedfs_type(fs), FS_ISO9660);
        assert_true(seedfs_iso_rock_ridge(fs));
        assert_true(seedfs_iso_joliet(fs));
        assert_string_equal(seedfs_label(fs), "cidata");
        assert_string_equal(seedfs_iso_pvd_label(fs), "cidata");
        assert_true(listed(fs, "user-data"));
        assert_true(listed(fs, "meta-data"));

        assert_int_equal(seedfs_read_file(fs, "user-data", 0, SEEDFS_FILE_MAX, &buf, &n), 0);
        assert_int_equal(n, strlen(user_data));
        assert_string_equal(buf, user_data);
        free(buf);
        buf = NULL;
        /* exact names on ISO: another case is another file */
        assert_int_equal(seedfs_read_file(fs, "USER-DATA", 0, SEEDFS_FILE_MAX, &buf, &n), -ENOENT);
        assert_int_equal(seedfs_read_file(fs, "user-data", 0, 4, &buf, &n), -EFBIG);
        assert_int_equal(seedfs_read_file(fs, "../user-data", 0, SEEDFS_FILE_MAX, &buf, &n), -EINVAL);
        assert_int_equal(seedfs_read_file(fs, "vendor-data", 0, SEEDFS_FILE_MAX, &buf, &n), -ENOENT);
        assert_null(buf);

        assert_int_equal(fs_probe_fd(fd, &t, &label), 0);
        assert_int_equal(t, FS_ISO9660);
        assert_string_equal(label, "cidata");
}

static void test_iso_joliet_only_and_plain(void **state) {
        _cleanup_free_ char *joliet = NULL, *plain = NULL, *buf = NULL;
        _cleanup_close_ int fd1 = -EBADF, fd2 = -EBADF;
        _cleanup_(seedfs_freep) SeedFs *j = NULL, *p = NULL;
        size_t n;

        if (!have_tool("genisoimage"))
                skip();
        joliet = make_iso(state, "j.iso", "-J");
        j = open_fs(joliet, &fd1);
        assert_false(seedfs_iso_rock_ridge(j));
        assert_true(seedfs_iso_joliet(j));
        assert_true(listed(j, "user-data"));
        assert_int_equal(seedfs_read_file(j, "meta-data", 0, SEEDFS_FILE_MAX, &buf, &n), 0);
        assert_string_equal(buf, meta_data);
        free(buf);
        buf = NULL;

        /* Neither extension: Linux shows the 8.3 names in lower case, so "user-data" is absent. */
        plain = make_iso(state, "p.iso", "");
        p = open_fs(plain, &fd2);
        assert_false(seedfs_iso_rock_ridge(p));
        assert_false(seedfs_iso_joliet(p));
        assert_true(listed(p, "user_dat"));
        assert_false(listed(p, "user-data"));
        assert_int_equal(seedfs_read_file(p, "user-data", 0, SEEDFS_FILE_MAX, &buf, &n), -ENOENT);
        assert_int_equal(seedfs_read_file(p, "user_dat", 0, SEEDFS_FILE_MAX, &buf, &n), 0);
        assert_string_equal(buf, user_data);
}

static void test_iso_subdirectory_and_aliases(void **state) {
        _cleanup_free_ char *dir = tmpdir_path(state, "c2"), *iso = tmpdir_path(state, "c2.iso"), *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(seedfs_freep) SeedFs *fs = NULL;
        size_t n;

        if (!have_tool("xorriso"))
                skip();
        sh_ok("mkdir -p '%s/openstack/latest' && printf 'c2\\n' > '%s/openstack/latest/user_data' && "
            "printf 'up\\n' > '%s/USER_DATA'",
            dir, dir, dir);
        sh_ok("xorriso -as mkisofs -quiet -V config-2 -J -R -o '%s' '%s' 2>/dev/null", iso, dir);
        fs = open_fs(iso, &fd);
        assert_string_equal(seedfs_label(fs), "config-2");
        assert_int_equal(seedfs_read_file(fs, "openstack/latest/user_data", 0, SEEDFS_FILE_MAX, &buf, &n), 0);
        assert_string_equal(buf, "c2\n");
        free(buf);
        buf = NULL;
        assert_int_equal(seedfs_read_file(fs, "openstack/latest", 0, SEEDFS_FILE_MAX, &buf, &n), -EISDIR);
        assert_int_equal(seedfs_read_file(fs, "openstack/nothere/user_data", 0, SEEDFS_FILE_MAX, &buf, &n), -ENOENT);
        /* upper-case "USER_DATA" only through the aliases */
        assert_int_equal(seedfs_read_file(fs, "user-data", 0, SEEDFS_FILE_MAX, &buf, &n), -ENOENT);
        assert_int_equal(seedfs_read_file(fs, "user-data", SEEDFS_ALIASES, SEEDFS_FILE_MAX, &buf, &n), 0);
        assert_string_equal(buf, "up\n");
}

static void test_fat(void **state) {
        _cleanup_free_ char *img = tmpdir_path(state, "fat.img"), *ud = tmpdir_path(state, "ud"), *buf = NULL,
                            *label = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(seedfs_freep) SeedFs *fs = NULL;
        size_t n;
        FsType t;

        if (!have_tool("mkfs.vfat") || !have_tool("mcopy"))
                skip();
        assert_int_equal(write_file_atomic(ud, user_data, strlen(user_data), 0644), 0);
        sh_ok("mkfs.vfat -C -n CIDATA '%s' 2048 >/dev/null && mmd -i '%s' ::sub && mcopy -i '%s' '%s' ::user-data && "
            "mcopy -i '%s' '%s' ::sub/meta-data",
            img, img, img, ud, img, ud);
        fs = open_fs(img, &fd);
        assert_int_equal(seedfs_type(fs), FS_VFAT);
        assert_string_equal(seedfs_label(fs), "CIDATA");
        assert_true(listed(fs, "user-data"));
        /* vfat looks names up case-insensitively, long and 8.3 names alike */
        assert_int_equal(seedfs_read_file(fs, "USER-DATA", 0, SEEDFS_FILE_MAX, &buf, &n), 0);
        assert_string_equal(buf, user_data);
        free(buf);
        buf = NULL;
        assert_int_equal(seedfs_read_file(fs, "SUB/META-D~1", 0, SEEDFS_FILE_MAX, &buf, &n), 0);
        assert_int_equal(n, strlen(user_data));
        free(buf);
        buf = NULL;
        assert_int_equal(seedfs_read_file(fs, "sub", 0, SEEDFS_FILE_MAX, &buf, &n), -EISDIR);
        assert_int_equal(seedfs_read_file(fs, "user-data", 0, 3, &buf, &n), -EFBIG);

        assert_int_equal(fs_probe_fd(fd, &t, &label), 0);
        assert_int_equal(t, FS_VFAT);
        assert_string_equal(label, "CIDATA");

        /* A loop in the cluster chain: the first file's cluster (2) points to itself. */
        _cleanup_(seedfs_freep) SeedFs *looped = NULL;
        uint8_t bs[512], self[2] = { 2, 0 };
        assert_int_equal(pread(fd, bs, sizeof bs, 0), (ssize_t) sizeof bs);
        _cleanup_close_ int rw = open(img, O_RDWR | O_CLOEXEC);
        assert_true(rw >= 0);
        /* FAT12 of 2 MiB: cluster 2's entry is the low 12 bits of bytes 3..4 */
        off_t fat = (off_t) (bs[14] | bs[15] << 8) * (bs[11] | bs[12] << 8);
        uint8_t e[2];
        assert_int_equal(pread(rw, e, 2, fat + 3), 2);
        self[0] = 2;
        self[1] = (uint8_t) (e[1] & 0xF0);
        assert_int_equal(pwrite(rw, self, 2, fat + 3), 2);
        assert_int_equal(seedfs_open(rw, &looped), 0);
        assert_int_equal(seedfs_read_file(looped, "sub/meta-data", 0, SEEDFS_FILE_MAX, &buf, &n), -EBADMSG);
}

/* ---- crafted ISO images ---- */

#define S 2048

static void put_le32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
        p[2] = (uint8_t) (v >> 16);
        p[3] = (uint8_t) (v >> 24);
}

/* A directory record at p: returns its length. susp/susp_len: the System Use bytes. */
static size_t record(uint8_t *p, uint32_t lba, uint32_t size, uint8_t flags, const char *name, size_t namelen,
                     const uint8_t *susp, size_t susp_len) {
        size_t len = 33 + namelen + (namelen % 2 == 0) + susp_len;

        len += len % 2;
        memset(p, 0, len);
        p[0] = (uint8_t) len;
        put_le32(p + 2, lba);
        put_le32(p + 10, size);
        p[25] = flags;
        p[32] = (uint8_t) namelen;
        memcpy(p + 33, name, namelen);
        if (susp_len > 0)
                memcpy(p + 33 + namelen + (namelen % 2 == 0), susp, susp_len);
        return len;
}

static size_t nm(uint8_t *p, const char *name, uint8_t flags) {
        size_t l = 5 + strlen(name);
        p[0] = 'N';
        p[1] = 'M';
        p[2] = (uint8_t) l;
        p[3] = 1;
        p[4] = flags;
        memcpy(p + 5, name, strlen(name));
        return l;
}

/* Sectors: 16 PVD, 17 terminator, 18 root directory, 19 the data of "user-data". extra_susp is the
 * System Use of the user-data record after its NM; file_size the size it claims. */
static void craft_iso(const char *path, uint32_t file_size, const uint8_t *extra_susp, size_t extra_len,
                      bool hostile_names) {
        _cleanup_free_ uint8_t *img = calloc(20, S);
        uint8_t *pvd = img + 16 * S, *term = img + 17 * S, *root = img + 18 * S, su[255];
        size_t off = 0, l;

        assert_non_null(img);
        pvd[0] = 1;
        memcpy(pvd + 1, "CD001", 5);
        pvd[6] = 1;
        memset(pvd + 40, ' ', 32);
        memcpy(pvd + 40, "CIDATA", 6);
        pvd[128] = 0;
        pvd[129] = 8; /* 2048 */
        (void) record(pvd + 156, 18, S, 2, "\0", 1, NULL, 0);
        term[0] = 255;
        memcpy(term + 1, "CD001", 5);

        const uint8_t sp[] = { 'S', 'P', 7, 1, 0xBE, 0xEF, 0 };
        off += record(root + off, 18, S, 2, "\0", 1, sp, sizeof sp);
        off += record(root + off, 18, S, 2, "\1", 1, NULL, 0);
        l = nm(su, "user-data", 0);
        if (extra_len > 0)
                memcpy(su + l, extra_susp, extra_len);
        off += record(root + off, 19, file_size, 0, "USER_DAT.;1", 11, su, l + extra_len);
        if (hostile_names) {
                l = nm(su, "..", 0);
                off += record(root + off, 19, 4, 0, "DOTDOT.;1", 9, su, l);
                l = nm(su, "x", 0x04); /* NM_PARENT */
                off += record(root + off, 19, 4, 0, "PARENT.;1", 9, su, l);
                l = nm(su, "etc/passwd", 0);
                off += record(root + off, 19, 4, 0, "SLASH.;1", 8, su, l);
        }
        memcpy(img + 19 * S, user_data, sizeof user_data - 1);
        assert_int_equal(write_file_atomic(path, (const char *) img, 20 * S, 0644), 0);
}

static void test_crafted_names(void **state) {
        _cleanup_free_ char *iso = tmpdir_path(state, "names.iso"), *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(seedfs_freep) SeedFs *fs = NULL;
        SeedFsEntry *e = NULL;
        size_t n = 0;

        craft_iso(iso, sizeof user_data - 1, NULL, 0, true);
        fs = open_fs(iso, &fd);
        assert_true(seedfs_iso_rock_ridge(fs));
        assert_int_equal(seedfs_list_root(fs, &e, &n), 0);
        /* only user-data: "..", a parent marker and a name with '/' are never shown */
        assert_int_equal(n, 1);
        assert_string_equal(e[0].name, "user-data");
        seedfs_entries_free(e, n);
        assert_int_equal(seedfs_read_file(fs, "user-data", 0, SEEDFS_FILE_MAX, &buf, &n), 0);
        assert_string_equal(buf, user_data);
        free(buf);
        buf = NULL;
        assert_int_equal(seedfs_read_file(fs, "..", 0, SEEDFS_FILE_MAX, &buf, &n), -EINVAL);
        assert_int_equal(seedfs_read_file(fs, "etc/passwd", 0, SEEDFS_FILE_MAX, &buf, &n), -ENOENT);
}

static void test_crafted_sizes_and_loops(void **state) {
        _cleanup_free_ char *huge = tmpdir_path(state, "huge.iso"), *loop = tmpdir_path(state, "loop.iso"), *buf = NULL;
        _cleanup_close_ int fd1 = -EBADF, fd2 = -EBADF;
        _cleanup_(seedfs_freep) SeedFs *h = NULL, *l = NULL;
        size_t n;

        /* 4 GiB - 1 claimed in an image of 40 KiB: refused before any allocation. */
        craft_iso(huge, UINT32_MAX, NULL, 0, false);
        h = open_fs(huge, &fd1);
        assert_int_equal(seedfs_read_file(h, "user-data", 0, SEEDFS_FILE_MAX, &buf, &n), -EFBIG);
        assert_int_equal(seedfs_read_file(h, "user-data", 0, SIZE_MAX, &buf, &n), -EBADMSG);
        assert_null(buf);

        /* A continuation area that is the CE entry itself: in the root directory (sector 18) after
         * "." (42 bytes), ".." (34) and the user-data record's 44 bytes of header and name, its NM (14). */
        uint8_t ce[28] = { 'C', 'E', 28, 1 };
        put_le32(ce + 4, 18);
        put_le32(ce + 12, 42 + 34 + 44 + 14);
        put_le32(ce + 20, sizeof ce);
        craft_iso(loop, sizeof user_data - 1, ce, sizeof ce, false);
        fd2 = open(loop, O_RDONLY | O_CLOEXEC);
        assert_true(fd2 >= 0);
        assert_int_equal(seedfs_open(fd2, &l), 0);
        assert_int_equal(seedfs_read_file(l, "user-data", 0, SEEDFS_FILE_MAX, &buf, &n), -EBADMSG);
}

static void test_truncated_and_not_a_seed(void **state) {
        _cleanup_free_ char *iso = NULL, *txt = tmpdir_path(state, "plain.txt"), *label = NULL, *buf = NULL;
        _cleanup_close_ int fd = -EBADF, tfd = -EBADF;
        _cleanup_(seedfs_freep) SeedFs *fs = NULL;
        size_t n;
        FsType t;

        iso = tmpdir_path(state, "cut.iso");
        craft_iso(iso, sizeof user_data - 1, NULL, 0, false);
        /* the data sector is gone: the directory still reads, the file does not */
        assert_int_equal(truncate(iso, 19 * S), 0);
        fs = open_fs(iso, &fd);
        assert_true(listed(fs, "user-data"));
        assert_int_equal(seedfs_read_file(fs, "user-data", 0, SEEDFS_FILE_MAX, &buf, &n), -EBADMSG);
        fs = seedfs_free(fs);
        /* and without its root directory it is ISO 9660 for the probe, but unreadable */
        assert_int_equal(truncate(iso, 18 * S + 100), 0);
        assert_int_equal(seedfs_open(fd, &fs), -EBADMSG);
        assert_int_equal(fs_probe_fd(fd, &t, &label), 0);
        assert_int_equal(t, FS_ISO9660);
        assert_string_equal(label, "CIDATA");

        assert_int_equal(write_file_atomic(txt, "not a seed\n", 11, 0644), 0);
        tfd = open(txt, O_RDONLY | O_CLOEXEC);
        assert_true(tfd >= 0);
        assert_int_equal(seedfs_open(tfd, &fs), -EMEDIUMTYPE);
        free(label);
        label = NULL;
        assert_int_equal(fs_probe_fd(tfd, &t, &label), 0);
        assert_int_equal(t, FS_UNKNOWN);
        assert_null(label);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_iso_rock_joliet, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_iso_joliet_only_and_plain, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_iso_subdirectory_and_aliases, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_fat, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_crafted_names, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_crafted_sizes_and_loops, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_truncated_and_not_a_seed, tmpdir_setup, tmpdir_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/**
 * Unit tests of the cloud-image side that need no libguestfs appliance: telling disk images
 * (qcow2, MBR/GPT) from root tarballs, and refusing bad arguments before anything is written.
 * The customization itself is exercised by tests/integration/test-image-cloudbase.sh.
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
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "source/guest.h"
#include "macro.h"

static char dir[] = "/tmp/test-guest.XXXXXX";

static char *make(const char *name, const void *head, size_t len, bool boot_signature) {
        unsigned char buf[1024] = {};
        char *p;

        memcpy(buf, head, len);
        if (boot_signature) {
                buf[510] = 0x55;
                buf[511] = 0xaa;
        }
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        assert_int_equal(write_file_atomic(p, buf, sizeof buf, 0644), 0);
        return p;
}

static void test_detection(void **state) {
        static const struct {
                const char *name;
                const char *head;
                size_t len;
                bool sig, disk;
        } rows[] = {
                { "a.qcow2", "QFI\xfb\0\0\0\3", 8, false, true },
                { "mbr.raw", "\xeb\x63\x90", 3, true, true },
                { "zeros.raw", "", 0, false, false },
                { "gz.tar.gz", "\x1f\x8b\x08", 3, true, false },
                { "xz.tar.xz", "\xfd" "7zXZ\0", 6, true, false },
                { "zst.tar.zst", "\x28\xb5\x2f\xfd", 4, true, false },
                { "bz.tar.bz2", "BZh9", 4, true, false },
        };

        assert_non_null(mkdtemp(dir));
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *p = make(rows[i].name, rows[i].head, rows[i].len, rows[i].sig);
                if (guest_is_disk_image(p) != rows[i].disk)
                        fail_msg("%s: expected %s", rows[i].name, rows[i].disk ? "a disk image" : "no disk image");
        }

        /* a tar header ("ustar" at 257) whose byte 510 happens to be 55 AA */
        unsigned char tar[1024] = { 'e', 't', 'c', '/' };
        memcpy(tar + 257, "ustar", 5);
        _cleanup_free_ char *t = make("root.tar", tar, 300, true);
        assert_false(guest_is_disk_image(t));

        _cleanup_free_ char *missing = NULL;
        assert_true(asprintf(&missing, "%s/missing.qcow2", dir) > 0);
        assert_false(guest_is_disk_image(missing));

        _cleanup_free_ char *tiny = NULL;
        assert_true(asprintf(&tiny, "%s/tiny", dir) > 0);
        assert_int_equal(write_file_atomic(tiny, "QF", 2, 0644), 0);
        assert_false(guest_is_disk_image(tiny));
}

static void test_bad_arguments(void **state) {
        _cleanup_free_ char *err = NULL, *out = NULL, *missing = NULL;
        GuestCustomization c = { .hygiene = GUEST_HYGIENE_ALL };

        assert_true(asprintf(&out, "%s/out.qcow2", dir) > 0);
        assert_true(asprintf(&missing, "%s/nonexistent.qcow2", dir) > 0);
        assert_int_equal(guest_customize_cloud_image(missing, out, &c, &err), -ENOENT);
        assert_non_null(strstr(err, "nonexistent.qcow2"));
        assert_false(path_exists(out));
        assert_int_equal(guest_customize_cloud_image(NULL, out, &c, NULL), -EINVAL);
        assert_int_equal(guest_customize_cloud_image(missing, out, NULL, NULL), -EINVAL);
}

static int teardown(void **state) {
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf '%s'", dir) < 0)
                return -1;
        return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_detection),
                cmocka_unit_test(test_bad_arguments),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("guest", tests, NULL, teardown);
}

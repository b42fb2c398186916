/**
 * Unit tests of the seed drive probe below a temporary root: devices are image files made by
 * mkfs.vfat and genisoimage at ROOT/dev/NAME with ROOT/sys/class/block/NAME, found by udev's
 * by-label link or by scanning, and never outside the root (a link that leaves it, a loop device,
 * a FIFO).
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
#include "probe.h"
#include "../tmpdir.h"

static int setup_root(void **state) {
        Fixture *f = fixture_new("test-probe");

        assert_non_null(f);
        assert_true(mkdir_p(strjoina(f->dir, "/sys/class/block"), 0755) >= 0);
        assert_true(mkdir_p(strjoina(f->dir, "/dev/disk/by-label"), 0755) >= 0);
        *state = f;
        return 0;
}

static int teardown_root(void **state) {
        return fixture_free(*state);
}

/* ROOT/dev/NAME: a FAT image labelled label, listed in ROOT/sys/class/block. */
static void fat_device(const Fixture *f, const char *name, const char *label) {
        sh_ok("mkfs.vfat -C -n %s %s/dev/%s 1024 >/dev/null && mkdir -p %s/sys/class/block/%s", label, f->dir, name, f->dir,
           name);
}

static bool have_tools(void) {
        return have_tool("mkfs.vfat") && have_tool("genisoimage");
}

static void test_scan(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *path = NULL;
        FsType t = FS_UNKNOWN;

        if (!have_tools())
                skip();
        /* skipped: loop and ram devices, a FIFO, an ext-less empty file */
        fat_device(f, "loop0", "CIDATA");
        fat_device(f, "ram0", "CIDATA");
        sh_ok("mkfifo %s/dev/sda && mkdir %s/sys/class/block/sda", f->dir, f->dir);
        sh_ok("truncate -s 1M %s/dev/sdb && mkdir %s/sys/class/block/sdb", f->dir, f->dir);
        assert_int_equal(probe_find_label(&f->agent, (const char *const[]) { "cidata", "CIDATA", NULL }, &path, &t),
                         -ENOENT);

        fat_device(f, "sdc", "CIDATA");
        assert_int_equal(probe_find_label(&f->agent, (const char *const[]) { "cidata", "CIDATA", NULL }, &path, &t), 0);
        assert_string_equal(path, strjoina(f->dir, "/dev/sdc"));
        assert_int_equal(t, FS_VFAT);
        /* labels match case-insensitively, as cloud-init accepts both */
        free(path);
        path = NULL;
        assert_int_equal(probe_find_label(&f->agent, (const char *const[]) { "cidata", NULL }, &path, &t), 0);
        assert_string_equal(path, strjoina(f->dir, "/dev/sdc"));
        assert_int_equal(probe_find_label(&f->agent, (const char *const[]) { "config-2", NULL }, &path, &t), -ENOENT);
}

static void test_by_label(void **state) {
        Fixture *f = *state;
        _cleanup_free_ char *path = NULL, *outside = NULL;
        FsType t = FS_UNKNOWN;

        if (!have_tools())
                skip();
        sh_ok("mkdir -p %s/tree && echo x > %s/tree/user_data && genisoimage -quiet -V config-2 -J -r -o %s/dev/sr0 "
           "%s/tree 2>/dev/null && ln -s ../../sr0 %s/dev/disk/by-label/config-2",
           f->dir, f->dir, f->dir, f->dir, f->dir);
        assert_int_equal(probe_find_label(&f->agent, (const char *const[]) { "config-2", NULL }, &path, &t), 0);
        assert_string_equal(path, strjoina(f->dir, "/dev/sr0"));
        assert_int_equal(t, FS_ISO9660);

        /* A link out of the root leads below it: the host's image next to the root is not found. */
        assert_true(asprintf(&outside, "%s.outside", f->dir) > 0);
        sh_ok("mkfs.vfat -C -n HOSTSEED %s 1024 >/dev/null && ln -s ../../../../../../..%s %s/dev/disk/by-label/HOSTSEED && "
           "ln -s %s %s/dev/disk/by-label/hostseed",
           outside, outside, f->dir, outside, f->dir);
        free(path);
        path = NULL;
        int r = probe_find_label(&f->agent, (const char *const[]) { "HOSTSEED", "hostseed", NULL }, &path, &t);
        (void) unlink(outside);
        assert_int_equal(r, -ENOENT);
        assert_null(path);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_scan, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_by_label, setup_root, teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/**
 * Unit tests of the package module: the deterministic vmdk CID. qemu writes "CID=%x" with a random
 * value, so the line holds 1 to 8 hex digits; whatever qemu wrote, the fixed descriptor must be the
 * same bytes and qemu-img must still accept the file.
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
#include <unistd.h>

#include "disk/package.h"
#include "../tmpdir.h"

/* Reads the first 64 KiB of path (the header and the descriptor of a streamOptimized vmdk). */
static void read_head(const char *path, char *buf, size_t size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_true(pread(fd, buf, size, 0) > 1024);
        close(fd);
}

/* Rewrites the CID line of the vmdk at path to hold cid (any length), moving the text after it. */
static void set_cid(const char *path, const char *cid) {
        char buf[65536] = { 0 }, *p, *e, *end;
        size_t old;
        int fd;

        read_head(path, buf, sizeof buf);
        p = memmem(buf + 512, sizeof buf - 512, "\nCID=", 5);
        assert_non_null(p);
        p += 5;
        old = strspn(p, "0123456789abcdef");
        e = memchr(p, 0, buf + sizeof buf - p);
        assert_non_null(e);
        end = e + (strlen(cid) > old ? strlen(cid) - old : 0);
        memmove(p + strlen(cid), p + old, e - (p + old));
        memcpy(p, cid, strlen(cid));
        if (strlen(cid) < old)
                memset(e - (old - strlen(cid)), 0, old - strlen(cid));
        fd = open(path, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_true(pwrite(fd, buf, end - buf + 1, 0) == end - buf + 1);
        close(fd);
}

static void fix(const char *path, int expect) {
        _cleanup_free_ char *err = NULL;
        int fd = open(path, O_RDWR | O_CLOEXEC);

        assert_true(fd >= 0);
        assert_int_equal(package_vmdk_fix_cid(fd, "seed", "disk.vmdk", &err), expect);
        assert_true(expect == 0 ? err == NULL : err != NULL);
        close(fd);
}

static void test_vmdk_cid(void **state) {
        static const char *const cids[] = { "1", "abc", "fffffff", "0badf00d", "12345678" };
        _cleanup_free_ char *raw = tmpdir_path(state, "disk.raw"), *vmdk = tmpdir_path(state, "disk.vmdk");
        char first[65536], now[65536];

        if (!have_tool("qemu-img"))
                skip();
        sh_ok("qemu-img create -q -f raw '%s' 4M && qemu-img convert -q -O vmdk -o subformat=streamOptimized '%s' '%s'",
              raw, raw, vmdk);
        for (size_t i = 0; i < ELEMENTSOF(cids); i++) {
                set_cid(vmdk, cids[i]);
                fix(vmdk, 0);
                read_head(vmdk, now, sizeof now);
                assert_non_null(memmem(now, sizeof now, "\nversion=1\nCID=", 15));
                if (i == 0)
                        memcpy(first, now, sizeof first);
                else
                        assert_memory_equal(first, now, sizeof now);
                sh_ok("qemu-img check -q '%s'", vmdk);
        }
        /* A second fix of a fixed file changes nothing. */
        fix(vmdk, 0);
        read_head(vmdk, now, sizeof now);
        assert_memory_equal(first, now, sizeof now);
}

static void test_vmdk_cid_refused(void **state) {
        _cleanup_free_ char *path = tmpdir_path(state, "not.vmdk");

        sh_ok("head -c 8192 /dev/zero > '%s'", path);
        fix(path, -EBADMSG);
        sh_ok("printf 'KDMV' | dd of='%s' conv=notrunc status=none", path);
        fix(path, -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_vmdk_cid, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_vmdk_cid_refused, tmpdir_setup, tmpdir_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

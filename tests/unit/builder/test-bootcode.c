/**
 * Unit tests of the boot code: the GRUB boot sector and core image patching, grub.cfg (MBR
 * arithmetic is tests/unit/common/test-mbr.c, image plans test-image.c).
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

#include "disk/bootcode.h"
#include "disk/image.h"
#include "disk/util.h"
#include "mbr.h"
#include "macro.h"

#define MiB (1024ULL * 1024ULL)
#define GiB (1024ULL * MiB)

static void test_grub_boot_code(void **state) {
        uint8_t boot[MBR_SECTOR_SIZE] = {}, code[MBR_BOOT_CODE_SIZE];

        (void) state;
        assert_int_equal(grub_boot_code(boot, sizeof boot, 1, code), -EINVAL); /* no 0x55aa */
        boot[510] = 0x55;
        boot[511] = 0xaa;
        boot[GRUB_BOOT_DRIVE_CHECK] = 0xeb;
        boot[GRUB_BOOT_DRIVE_CHECK + 1] = 0x05;
        boot[0] = 0xeb;
        assert_int_equal(grub_boot_code(boot, 100, 1, code), -EINVAL);
        assert_int_equal(grub_boot_code(boot, sizeof boot, 0x0102030405ULL, code), 0);
        assert_int_equal(code[0], 0xeb);
        assert_int_equal(code[GRUB_BOOT_KERNEL_SECTOR], 0x05);
        assert_int_equal(code[GRUB_BOOT_KERNEL_SECTOR + 4], 0x01);
        assert_int_equal(code[GRUB_BOOT_KERNEL_SECTOR + 5], 0x00);
        assert_int_equal(code[GRUB_BOOT_DRIVE], 0xff);
        assert_int_equal(code[GRUB_BOOT_DRIVE_CHECK], 0x90);
        assert_int_equal(code[GRUB_BOOT_DRIVE_CHECK + 1], 0x90);
}

static void test_grub_core_patch(void **state) {
        uint8_t core[3 * MBR_SECTOR_SIZE - 100];

        (void) state;
        memset(core, 0xaa, sizeof core);
        assert_int_equal(grub_core_patch(core, MBR_SECTOR_SIZE, 1), -EINVAL);
        assert_int_equal(grub_core_patch(core, sizeof core, 1), 0);
        /* start = 2 (LE64), len = 2 sectors after the first, segment 0x0820 */
        assert_int_equal(core[0x1f4], 2);
        for (unsigned i = 1; i < 8; i++)
                assert_int_equal(core[0x1f4 + i], 0);
        assert_int_equal(core[0x1fc], 2);
        assert_int_equal(core[0x1fd], 0);
        assert_int_equal(core[0x1fe], 0x20);
        assert_int_equal(core[0x1ff], 0x08);
        for (unsigned i = 0x1e8; i < 0x1f4; i++) /* the terminator below it */
                assert_int_equal(core[i], 0);
        assert_int_equal(core[0x1e7], 0xaa);
}

/* grub-script-check (grub-common) parses a config the way GRUB's own lexer does. */
static void assert_grub_parses(const char *cfg) {
        char path[] = "/tmp/test-grub-cfg.XXXXXX";
        int fd = mkstemp(path);
        char *cmd = NULL;

        assert_true(fd >= 0);
        assert_int_equal(write(fd, cfg, strlen(cfg)), (ssize_t) strlen(cfg));
        close(fd);
        assert_true(asprintf(&cmd, "grub-script-check '%s' >/dev/null 2>&1", path) > 0);
        if (system("command -v grub-script-check >/dev/null") == 0)
                assert_int_equal(system(cmd), 0);
        free(cmd);
        unlink(path);
}

static size_t count_lines_starting(const char *t, const char *prefix) {
        size_t n = 0;
        for (const char *l = t; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                n += startswith(l, prefix);
        return n;
}

static void test_grub_config(void **state) {
        char *t = NULL, *err = NULL;

        (void) state;
        assert_int_equal(grub_config_text("/vmlinuz", "/initrd.img", "1111-2222", "console=ttyS0,115200", &t, &err), 0);
        assert_non_null(strstr(t, "linux '/vmlinuz' 'root=UUID=1111-2222' 'ro' 'console=ttyS0,115200'\n"));
        assert_non_null(strstr(t, "initrd '/initrd.img'\n"));
        assert_non_null(strstr(t, "serial --unit=0 --speed=115200"));
        assert_grub_parses(t);
        free(t);
        assert_int_equal(grub_config_text("/boot/vmlinuz-6.1", NULL, "u", "", &t, &err), 0);
        assert_non_null(strstr(t, "linux '/boot/vmlinuz-6.1' 'root=UUID=u' 'ro'\n"));
        assert_null(strstr(t, "initrd"));
        free(t);
        /* blanks between words collapse, each word quoted on its own */
        assert_int_equal(grub_config_text("/vmlinuz", NULL, "u", "  quiet   net.ifnames=0 ", &t, &err), 0);
        assert_non_null(strstr(t, "'ro' 'quiet' 'net.ifnames=0'\n"));
        free(t);

        /* a kernel file name from the base that tries to close the entry and open another: it stays
         * one quoted word, the config still has one menu entry and parses */
        assert_int_equal(grub_config_text("/boot/vmlinuz-6.1'}menuentry 'evil' {linux /x", NULL, "u", "quiet", &t, &err),
                         0);
        assert_non_null(strstr(t, "linux '/boot/vmlinuz-6.1'\\''}menuentry '\\''evil'\\'' {linux /x' "));
        assert_int_equal(count_lines_starting(t, "menuentry"), 1);
        assert_grub_parses(t);
        free(t);
        t = NULL;

        /* what GRUB cannot carry is refused, naming the value */
        assert_int_equal(grub_config_text("/boot/vmlinuz-1\n}\nmenuentry 'evil' {", NULL, "u", "", &t, &err), -EINVAL);
        assert_null(t);
        assert_non_null(strstr(err, "kernel file name"));
        err = mfree(err);
        assert_int_equal(grub_config_text("/vmlinuz", "/initrd\t", "u", "", &t, &err), -EINVAL);
        assert_non_null(strstr(err, "initrd file name"));
        err = mfree(err);
        static const char *const bad_cmdlines[] = {
                "quiet\n}\nmenuentry 'evil' {", "quiet; reboot", "init=$root", "a=\"b c\"", "x=`id`",
                "quiet}", "x\\y", "a#b", "x'y", "a\tb", "a|b", "a&b", "a<b", "a>b", "a(b)",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad_cmdlines); i++) {
                if (grub_config_text("/vmlinuz", NULL, "u", bad_cmdlines[i], &t, &err) != -EINVAL)
                        fail_msg("kernel_cmdline \"%s\" was accepted", bad_cmdlines[i]);
                assert_null(t);
                assert_non_null(strstr(err, "kernel_cmdline:"));
                err = mfree(err);
        }
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_grub_boot_code),
                cmocka_unit_test(test_grub_core_patch),
                cmocka_unit_test(test_grub_config),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("disk-mbr", tests, NULL, NULL);
}

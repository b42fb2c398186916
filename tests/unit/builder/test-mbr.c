/**
 * Unit tests of the disk layout code: MBR arithmetic and encoding (table-driven), GRUB boot
 * sector and core image patching, image plans and format lists.
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

static void test_layout_table(void **state) {
        static const struct {
                uint64_t sizes[5];
                size_t n;
                int ret;
                uint64_t starts[4], lens[4]; /* sectors */
                uint64_t disk;
        } rows[] = {
                /* one partition of exactly 1 MiB */
                { { MiB }, 1, 0, { 2048 }, { 2048 }, 2 * MiB },
                /* sizes round up to whole MiB */
                { { 1 }, 1, 0, { 2048 }, { 2048 }, 2 * MiB },
                { { MiB + 1 }, 1, 0, { 2048 }, { 4096 }, 3 * MiB },
                { { MiB - 1 }, 1, 0, { 2048 }, { 2048 }, 2 * MiB },
                /* root, volatile, data: back to back, each aligned */
                { { GiB, 30 * GiB, 100 * MiB }, 3, 0,
                  { 2048, 2048 + 2097152, 2048 + 2097152 + 62914560 },
                  { 2097152, 62914560, 204800 },
                  MiB + GiB + 30 * GiB + 100 * MiB },
                /* four is the MBR maximum */
                { { MiB, MiB, MiB, MiB }, 4, 0, { 2048, 4096, 6144, 8192 }, { 2048, 2048, 2048, 2048 }, 5 * MiB },
                /* the largest disk: the last sector is LBA 2^32 - 1 */
                { { (UINT64_C(0x100000000) - 2048) * 512 }, 1, 0, { 2048 }, { UINT64_C(0x100000000) - 2048 },
                  UINT64_C(0x100000000) * 512 },
                /* one MiB more does not fit */
                { { (UINT64_C(0x100000000) - 2048) * 512 + 1 }, 1, -E2BIG, {}, {}, 0 },
                { { 2048 * GiB, MiB }, 2, -E2BIG, {}, {}, 0 },
                { { 1500 * GiB, 600 * GiB }, 2, -E2BIG, {}, {}, 0 },
                /* invalid requests */
                { {}, 0, -EINVAL, {}, {}, 0 },
                { { MiB, MiB, MiB, MiB, MiB }, 5, -EINVAL, {}, {}, 0 },
                { { MiB, 0 }, 2, -EINVAL, {}, {}, 0 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                MbrPartition p[MBR_MAX_PARTITIONS] = {};
                uint64_t disk = 0;
                int r = mbr_layout(rows[i].sizes, rows[i].n, p, &disk);

                assert_int_equal(r, rows[i].ret);
                if (r < 0)
                        continue;
                assert_int_equal(disk, rows[i].disk);
                for (size_t k = 0; k < rows[i].n; k++) {
                        assert_int_equal(p[k].start, rows[i].starts[k]);
                        assert_int_equal(p[k].size, rows[i].lens[k]);
                        assert_int_equal(p[k].type, 0x83);
                        assert_true(p[k].bootable == (k == 0));
                        assert_int_equal(p[k].start % 2048, 0);
                }
        }
}

static void test_chs_table(void **state) {
        static const struct {
                uint64_t lba;
                uint8_t chs[3];
        } rows[] = {
                { 0, { 0, 1, 0 } },
                { 62, { 0, 63, 0 } },
                { 63, { 1, 1, 0 } },
                { 2048, { 32, 33, 0 } },
                { 255 * 63, { 0, 1, 1 } },
                { 256 * 255 * 63, { 0, 1 | 0x40, 0 } },     /* cylinder 256: bits 8-9 go to the sector byte */
                { 1024ULL * 255 * 63 - 1, { 254, 0xff, 0xff } }, /* C/H/S 1023/254/63 */
                { 1024ULL * 255 * 63, { 0xfe, 0xff, 0xff } },
                { UINT64_C(0xffffffff), { 0xfe, 0xff, 0xff } },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                uint8_t chs[3];
                mbr_lba_to_chs(rows[i].lba, chs);
                assert_memory_equal(chs, rows[i].chs, 3);
        }
}

static void test_build_parse(void **state) {
        uint8_t code[MBR_BOOT_CODE_SIZE], sector[MBR_SECTOR_SIZE];
        MbrPartition in[3] = {}, out[MBR_MAX_PARTITIONS] = {};
        const uint64_t sizes[3] = { 4 * GiB, 30 * GiB, 200 * GiB };
        uint64_t disk;
        uint32_t sig = 0;

        (void) state;
        for (size_t i = 0; i < sizeof code; i++)
                code[i] = (uint8_t) (i * 7);
        assert_int_equal(mbr_layout(sizes, 3, in, &disk), 0);
        assert_int_equal(mbr_build(sector, code, 0xdeadbeef, in, 3), 0);

        assert_int_equal(sector[510], 0x55);
        assert_int_equal(sector[511], 0xaa);
        assert_memory_equal(sector, code, sizeof code);
        /* the disk signature at 440, little-endian */
        assert_int_equal(sector[440], 0xef);
        assert_int_equal(sector[443], 0xde);
        /* entry 1: active, type 0x83, LBA 2048 at byte 454 */
        assert_int_equal(sector[446], 0x80);
        assert_int_equal(sector[446 + 4], 0x83);
        assert_int_equal(sector[454], 0x00);
        assert_int_equal(sector[455], 0x08);
        assert_int_equal(sector[446 + 16], 0x00); /* entry 2 not active */
        assert_int_equal(sector[446 + 48 + 4], 0);  /* entry 4 empty */

        assert_int_equal(mbr_parse(sector, out, &sig), 3);
        assert_int_equal(sig, 0xdeadbeef);
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(out[i].start, in[i].start);
                assert_int_equal(out[i].size, in[i].size);
                assert_true(out[i].bootable == in[i].bootable);
        }
        /* no boot code: zeros */
        assert_int_equal(mbr_build(sector, NULL, 1, in, 1), 0);
        for (size_t i = 0; i < MBR_BOOT_CODE_SIZE; i++)
                assert_int_equal(sector[i], 0);

        /* entries that do not fit 32-bit LBAs are refused */
        MbrPartition big = { .start = 2048, .size = UINT64_C(0x100000000), .type = 0x83 };
        assert_int_equal(mbr_build(sector, NULL, 1, &big, 1), -EINVAL);
        MbrPartition zero = { .start = 2048, .size = 0, .type = 0x83 };
        assert_int_equal(mbr_build(sector, NULL, 1, &zero, 1), -EINVAL);

        sector[511] = 0;
        assert_int_equal(mbr_parse(sector, out, NULL), -EBADMSG);
}

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

static void test_formats(void **state) {
        static const struct {
                const char *in;
                int ret;
                unsigned f;
        } rows[] = {
                { "raw", 0, IMAGE_FORMAT_RAW },
                { "qcow2,vmdk", 0, IMAGE_FORMAT_QCOW2 | IMAGE_FORMAT_VMDK },
                { "vmdk, raw,qcow2", 0, IMAGE_FORMAT_RAW | IMAGE_FORMAT_QCOW2 | IMAGE_FORMAT_VMDK },
                { "raw,raw", 0, IMAGE_FORMAT_RAW },
                { "", -EINVAL, 0 },
                { "vdi", -EINVAL, 0 },
                { "raw,iso", -EINVAL, 0 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                unsigned f = 0;
                assert_int_equal(image_formats_from_string(rows[i].in, &f), rows[i].ret);
                if (rows[i].ret == 0)
                        assert_int_equal(f, rows[i].f);
        }
}

static void test_plan(void **state) {
        const ImageVolumeRequest parts[] = {
                { "ecs-volatile", "/volatile", PART_PLACE_PARTITION, 30 * GiB },
                { "ecs-data", "/data", PART_PLACE_PARTITION, 100 * GiB },
        };
        const ImageVolumeRequest mixed[] = {
                { "ecs-volatile", "/volatile", PART_PLACE_NONE, 30 * GiB },
                { "ecs-data", "/data", PART_PLACE_DISK, 10 * GiB + 1 },
        };
        const ImageVolumeRequest huge[] = {
                { "ecs-data", "/data", PART_PLACE_PARTITION, 3000 * GiB },
        };
        ImagePlan p;
        char *err = NULL;

        (void) state;
        /* everything on one disk: root p1 (bootable), volatile p2, data p3 last (it grows) */
        assert_int_equal(image_plan_make(5 * GiB, parts, 2, IMAGE_FORMAT_RAW, &p, &err), 0);
        assert_int_equal(p.n_disks, 1);
        assert_int_equal(p.n_fs, 3);
        assert_string_equal(p.fs[0].label, "root");
        assert_int_equal(p.fs[0].partno, 1);
        assert_int_equal(p.fs[0].offset, MiB);
        assert_string_equal(p.fs[2].label, "ecs-data");
        assert_int_equal(p.fs[2].partno, 3);
        assert_int_equal(p.disks[0].n_parts, 3);
        assert_true(p.disks[0].parts[0].bootable);
        assert_int_equal(p.disks[0].size, MiB + 135 * GiB);
        assert_int_not_equal(strcmp(p.fs[0].uuid, p.fs[1].uuid), 0);
        assert_int_equal(strlen(p.fs[0].uuid), 36);
        assert_int_equal(p.fs[0].uuid[14], '4');

        /* a volume on its own disk: a bare filesystem of whole MiB; "none" is left out */
        assert_int_equal(image_plan_make(0, mixed, 2, IMAGE_FORMAT_RAW, &p, &err), 0);
        assert_int_equal(p.n_disks, 2);
        assert_int_equal(p.n_fs, 2);
        assert_false(p.disks[1].partitioned);
        assert_string_equal(p.disks[1].name, "ecs-data");
        assert_int_equal(p.disks[1].size, 10 * GiB + MiB);
        assert_int_equal(p.fs[1].offset, 0);
        assert_int_equal(p.fs[1].partno, 0);

        /* the root can be resized later */
        p.fs[0].size = 3 * GiB;
        assert_int_equal(image_plan_relayout(&p, &err), 0);
        assert_int_equal(p.disks[0].size, 3 * GiB + MiB);

        /* beyond MBR */
        assert_int_equal(image_plan_make(GiB, huge, 1, IMAGE_FORMAT_RAW, &p, &err), -E2BIG);
        assert_non_null(err);
        assert_non_null(strstr(err, "2 TiB"));
        free(err);
}

int main(int argc, char *argv[]) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout_table),  cmocka_unit_test(test_chs_table),
                cmocka_unit_test(test_build_parse),   cmocka_unit_test(test_grub_boot_code),
                cmocka_unit_test(test_grub_core_patch), cmocka_unit_test(test_grub_config),
                cmocka_unit_test(test_formats),       cmocka_unit_test(test_plan),
        };

        if (argc > 1)
                cmocka_set_test_filter(argv[1]);
        return cmocka_run_group_tests_name("disk-mbr", tests, NULL, NULL);
}

/**
 * Unit tests of the partition-table arithmetic: MBR layout, CHS encoding and building and parsing
 * sectors (table-driven).
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout_table),
                cmocka_unit_test(test_chs_table),
                cmocka_unit_test(test_build_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

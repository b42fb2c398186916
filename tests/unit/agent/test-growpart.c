/**
 * Unit tests of growpart: the MBR and GPT growth plans (table-driven arithmetic on crafted tables),
 * and gpt_write() on a real GPT image made by sfdisk and then enlarged, checked by sfdisk.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "growpart.h"
#include "macro.h"
#include "rm-rf.h"
#include "spawn.h"

static void mbr_set(uint8_t s[512], unsigned partno, uint8_t type, uint32_t start, uint32_t size) {
        uint8_t *e = s + 446 + 16 * (partno - 1);
        e[4] = type;
        for (int i = 0; i < 4; i++) {
                e[8 + i] = (uint8_t) (start >> (8 * i));
                e[12 + i] = (uint8_t) (size >> (8 * i));
        }
        s[510] = 0x55;
        s[511] = 0xAA;
}

static void test_mbr_plan(void **state) {
        uint8_t s[512] = {};
        GrowPlan p;
        (void) state;

        /* No signature: not an MBR. */
        assert_int_equal(mbr_plan_grow(s, 1, 1 << 21, 512, &p), -EMEDIUMTYPE);

        /* p1 data at 2048 (64 MiB), p2 root last (100 MiB) on a 300 MiB disk: p2 grows to the end. */
        mbr_set(s, 1, 0x83, 2048, 131072);
        mbr_set(s, 2, 0x83, 133120, 204800);
        assert_int_equal(mbr_last_partition(s), 2);
        assert_int_equal(mbr_plan_grow(s, 2, 614400, 512, &p), 1);
        assert_int_equal(p.start, 133120);
        assert_int_equal(p.old_size, 204800);
        assert_int_equal(p.new_size, 614400 - 133120);
        mbr_apply_plan(s, &p);
        assert_int_equal(mbr_plan_grow(s, 2, 614400, 512, &p), 0);   /* idempotent */

        /* p1 cannot pass p2. */
        assert_int_equal(mbr_plan_grow(s, 1, 614400, 512, &p), 0);

        /* A disk end that is not 1 MiB aligned: the end is rounded down. */
        mbr_set(s, 2, 0x83, 133120, 204800);
        assert_int_equal(mbr_plan_grow(s, 2, 614400 + 1000, 512, &p), 1);
        assert_int_equal((p.start + p.new_size) % 2048, 0);
        assert_true(p.start + p.new_size <= 614400 + 1000);

        /* Less than 1 MiB to gain: nothing to do. */
        assert_int_equal(mbr_plan_grow(s, 2, 133120 + 204800 + 1000, 512, &p), 0);

        /* The table claims more than the disk has. */
        assert_int_equal(mbr_plan_grow(s, 2, 200000, 512, &p), -ERANGE);

        /* 4 KiB logical sectors. */
        uint8_t s4[512] = {};
        mbr_set(s4, 1, 0x83, 256, 25600);
        assert_int_equal(mbr_plan_grow(s4, 1, 76800, 4096, &p), 1);
        assert_int_equal(p.new_size, 76800 - 256);

        /* 2 TiB limit of 32-bit sector counts. */
        uint8_t big[512] = {};
        mbr_set(big, 1, 0x83, 2048, 1000000);
        assert_int_equal(mbr_plan_grow(big, 1, 8ULL << 30, 512, &p), 1);
        assert_true(p.new_size <= UINT32_MAX);

        /* Missing partition; GPT protective MBR. */
        assert_int_equal(mbr_plan_grow(big, 3, 8ULL << 30, 512, &p), -ENOENT);
        uint8_t gpt[512] = {};
        mbr_set(gpt, 1, 0xEE, 1, UINT32_MAX);
        assert_int_equal(mbr_plan_grow(gpt, 1, 1 << 21, 512, &p), -EPROTOTYPE);
        assert_int_equal(mbr_last_partition(gpt), -EPROTOTYPE);
}


static void put64(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void test_gpt_plan(void **state) {
        uint8_t hdr[512] = {}, *entries = calloc(128, 128);
        uint64_t disk = 409600;   /* 200 MiB */
        Gpt g = {};
        GrowPlan p;
        (void) state;

        assert_int_equal(crc32_ieee("123456789", 9), 0xCBF43926U);

        /* Entry 0 (p1) last on the disk, entry 13 (p14) first. */
        memset(entries, 0xAA, 16);
        put64(entries + 32, 12288);
        put64(entries + 40, 12288 + 204800 - 1);
        memset(entries + 13 * 128, 0xBB, 16);
        put64(entries + 13 * 128 + 32, 2048);
        put64(entries + 13 * 128 + 40, 10239);
        memcpy(hdr, "EFI PART", 8);
        put32(hdr + 8, 0x00010000);
        put32(hdr + 12, 92);
        put64(hdr + 24, 1);
        put64(hdr + 32, disk - 1);
        put64(hdr + 40, 34);
        put64(hdr + 48, disk - 34);
        put64(hdr + 72, 2);
        put32(hdr + 80, 128);
        put32(hdr + 84, 128);
        put32(hdr + 88, crc32_ieee(entries, 128 * 128));
        put32(hdr + 16, crc32_ieee(hdr, 92));

        assert_int_equal(gpt_parse(hdr, entries, 128 * 128, &g), 0);
        assert_int_equal(gpt_last_partition(&g), 1);
        /* A disk that p1 already fills (less than 1 MiB to gain): nothing to grow. */
        assert_int_equal(gpt_plan_grow(&g, 1, 12288 + 204800 + 34 + 100, 512, &p), 0);
        /* The disk doubled: p1 ends at the last 1 MiB boundary before the backup table. */
        assert_int_equal(gpt_plan_grow(&g, 1, 2 * disk, 512, &p), 1);
        assert_int_equal(p.start, 12288);
        assert_int_equal((p.start + p.new_size) % 2048, 0);
        assert_true(p.start + p.new_size - 1 <= 2 * disk - 34);
        assert_true(2 * disk - 34 - (p.start + p.new_size - 1) < 2048);
        /* p14 is not the last partition. */
        assert_int_equal(gpt_plan_grow(&g, 14, 2 * disk, 512, &p), -ERANGE);
        gpt_done(&g);

        /* Corruption is refused. */
        hdr[50] ^= 1;
        assert_int_equal(gpt_parse(hdr, entries, 128 * 128, &g), -EBADMSG);
        hdr[50] ^= 1;
        entries[100] ^= 1;
        assert_int_equal(gpt_parse(hdr, entries, 128 * 128, &g), -EBADMSG);
        free(entries);
}

static char *sh_out(const char *cmd) {
        _cleanup_free_ char *out = NULL;
        int r = spawn_capture((char *[]) { (char *) "sh", (char *) "-c", (char *) cmd, NULL }, NULL, 0, 0, &out, NULL);
        if (r != 0)
                fail_msg("'%s' failed: %d", cmd, r);
        return TAKE_PTR(out);
}

static void test_gpt_write_image(void **state) {
        char dir[] = "/tmp/test-growpart-XXXXXX";
        _cleanup_free_ char *img = NULL, *cmd = NULL, *dump = NULL, *verify = NULL;
        _cleanup_close_ int fd = -EBADF;
        uint8_t sector0[512], hdr[512];
        Gpt g = {};
        GrowPlan p;
        (void) state;

        if (system("command -v sfdisk >/dev/null 2>&1") != 0)
                skip();
        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&img, "%s/disk.img", dir) > 0);
        /* 64 MiB with one partition from 1 MiB to 33 MiB, then the disk doubles. */
        assert_true(asprintf(&cmd, "truncate -s 64M %s && printf 'label: gpt\nstart=2048, size=65536, type=L\n' | "
                                   "sfdisk -q %s && truncate -s 128M %s", img, img, img) > 0);
        free(sh_out(cmd));

        fd = open(img, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, sector0, 512, 0), 512);
        assert_int_equal(pread(fd, hdr, 512, 512), 512);
        _cleanup_free_ uint8_t *entries = malloc(128 * 128);
        assert_int_equal(pread(fd, entries, 128 * 128, 1024), 128 * 128);
        assert_int_equal(gpt_parse(hdr, entries, 128 * 128, &g), 0);
        assert_int_equal(gpt_last_partition(&g), 1);

        uint64_t disk = (128U << 20) / 512;
        assert_int_equal(gpt_plan_grow(&g, 1, disk, 512, &p), 1);
        assert_int_equal(p.start, 2048);
        assert_int_equal(gpt_write(fd, &g, &p, disk, 512, sector0), 0);
        gpt_done(&g);
        fd = safe_close(fd);

        /* sfdisk sees the grown partition and a backup table at the new end, and nothing wrong. */
        free(cmd);
        assert_true(asprintf(&cmd, "sfdisk -d %s", img) > 0);
        dump = sh_out(cmd);
        _cleanup_free_ char *want = NULL;
        assert_true(asprintf(&want, "start=        2048, size=      %" PRIu64, p.new_size) > 0);
        if (!strstr(dump, want))
                fail_msg("sfdisk -d: %s (wanted %s)", dump, want);
        assert_non_null(strstr(dump, "last-lba: 262110"));
        free(cmd);
        assert_true(asprintf(&cmd, "sfdisk --verify %s 2>&1", img) > 0);
        verify = sh_out(cmd);
        if (!strstr(verify, "No errors detected") || strstr(verify, "mismatch"))
                fail_msg("sfdisk --verify after gpt_write(): %s", verify);

        /* Planning again: nothing left to grow. */
        fd = open(img, O_RDONLY | O_CLOEXEC);
        assert_int_equal(pread(fd, hdr, 512, 512), 512);
        assert_int_equal(pread(fd, entries, 128 * 128, 1024), 128 * 128);
        assert_int_equal(gpt_parse(hdr, entries, 128 * 128, &g), 0);
        assert_int_equal(gpt_plan_grow(&g, 1, disk, 512, &p), 0);
        gpt_done(&g);
        (void) rm_rf(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mbr_plan),
                cmocka_unit_test(test_gpt_plan),
                cmocka_unit_test(test_gpt_write_image),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

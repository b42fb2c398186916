/**
 * Unit tests of the image plans and the output format lists.
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

#include "disk/image.h"
#include "disk/util.h"
#include "mbr.h"
#include "macro.h"

#define MiB (1024ULL * 1024ULL)
#define GiB (1024ULL * MiB)

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_formats),
                cmocka_unit_test(test_plan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

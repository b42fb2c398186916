/**
 * Unit tests of the seed image code on real files: seed_iso_write(), read back through the common
 * seed reader (the agent's path) and seed_inspect(), in a fresh temporary directory per test.
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
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "macro.h"
#include "seed/inspect.h"
#include "seed/iso.h"
#include "seedfs.h"
#include "strv.h"
#include "../tmpdir.h"

static const char user_data[] = "#cloud-config\nhostname: unit\n";
static const char meta_data[] = "instance-id: iid-unit\nlocal-hostname: unit.example.org\n";
static const char net_config[] = "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n";

/* The agent's way of reading a seed member: the file, the reader, the name or its aliases. */
static int read_seed(const char *path, const char *name, char **ret, size_t *ret_size) {
        _cleanup_(seedfs_freep) SeedFs *fs = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return -errno;
        r = seedfs_open(fd, &fs);
        if (r < 0)
                return r;
        return seedfs_read_file(fs, name, SEEDFS_ALIASES, SEEDFS_FILE_MAX, ret, ret_size);
}

static int volume_id(const char *path, char **ret) {
        _cleanup_(seedfs_freep) SeedFs *fs = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return -errno;
        r = seedfs_open(fd, &fs);
        if (r < 0)
                return r;
        if (!seedfs_label(fs))
                return -ENODATA;
        *ret = strdup(seedfs_label(fs));
        return *ret ? 0 : -ENOMEM;
}

static void write_default(const char *path, const char *label, time_t epoch) {
        const SeedFile files[] = {
                { "meta-data", meta_data, strlen(meta_data) },
                { "network-config", net_config, strlen(net_config) },
                { "user-data", user_data, strlen(user_data) },
        };
        _cleanup_free_ char *err = NULL;
        int r = seed_iso_write(path, label, files, ELEMENTSOF(files), epoch, 0644, &err);
        if (r < 0)
                fail_msg("seed_iso_write: %d %s", r, strna(err));
}

static void test_write_read(void **state) {
        _cleanup_free_ char *iso = tmpdir_path(state, "seed.iso"), *buf = NULL, *vol = NULL;
        size_t n = 0;

        write_default(iso, NULL, (time_t) -1);

        assert_int_equal(read_seed(iso, "user-data", &buf, &n), 0);
        assert_int_equal(n, strlen(user_data));
        assert_memory_equal(buf, user_data, n);
        assert_int_equal(buf[n], 0);
        free(buf);
        buf = NULL;
        assert_int_equal(read_seed(iso, "network-config", &buf, &n), 0);
        assert_string_equal(buf, net_config);
        free(buf);
        buf = NULL;
        assert_int_equal(read_seed(iso, "vendor-data", &buf, &n), -ENOENT);
        assert_null(buf);

        assert_int_equal(volume_id(iso, &vol), 0);
        assert_string_equal(vol, "cidata");
}

static void test_aliases_and_errors(void **state) {
        _cleanup_free_ char *iso = tmpdir_path(state, "upper.iso"), *txt = tmpdir_path(state, "plain.txt"),
                            *buf = NULL, *err = NULL;
        const SeedFile files[] = {
                { "META_DATA", meta_data, strlen(meta_data) },
                { "USER_DATA", user_data, strlen(user_data) },
        };
        size_t n;

        assert_int_equal(seed_iso_write(iso, "CIDATA", files, ELEMENTSOF(files), 0, 0644, &err), 0);
        /* Proxmox-style upper-case names are found through the alias. */
        assert_int_equal(read_seed(iso, "user-data", &buf, &n), 0);
        assert_string_equal(buf, user_data);

        assert_int_equal(write_file_atomic(txt, "not an iso\n", 11, 0644), 0);
        free(buf);
        buf = NULL;
        assert_int_equal(read_seed(txt, "user-data", &buf, &n), -EMEDIUMTYPE);
        assert_int_equal(volume_id(txt, &buf), -EMEDIUMTYPE);
        assert_int_equal(read_seed("/nonexistent/seed.iso", "user-data", &buf, &n), -ENOENT);
}

static void test_reproducible(void **state) {
        _cleanup_free_ char *a = tmpdir_path(state, "a.iso"), *b = tmpdir_path(state, "b.iso"), *c = tmpdir_path(state, "c.iso");
        _cleanup_free_ char *da = NULL, *db = NULL, *dc = NULL;
        size_t na, nb, nc;
        time_t before = time(NULL);

        write_default(a, NULL, 1700000000);
        /* Nothing may come from the clock: a second passes between the two images. */
        sleep(1);
        write_default(b, NULL, 1700000000);
        write_default(c, NULL, 1700000001);

        assert_int_equal(read_full_file(a, &da, &na, 0), 0);
        assert_int_equal(read_full_file(b, &db, &nb, 0), 0);
        assert_int_equal(read_full_file(c, &dc, &nc, 0), 0);
        assert_int_equal(na, nb);
        assert_memory_equal(da, db, na);
        assert_true(na != nc || memcmp(da, dc, na) != 0);
        assert_true(time(NULL) >= before);
        /* The fixed date is in the primary volume descriptor's creation date (ISO 9660 8.4.26). */
        assert_memory_equal(da + 16 * 2048 + 813, "2023111422132000", 16);
}

static void test_write_failures(void **state) {
        _cleanup_free_ char *iso = tmpdir_path(state, "x.iso"), *err = NULL;
        const SeedFile dup[] = { { "user-data", "a", 1 }, { "user-data", "b", 1 } };
        const SeedFile slash[] = { { "a/b", "a", 1 } };
        const SeedFile ok[] = { { "user-data", "a", 1 } };
        struct stat st;

        assert_int_equal(seed_iso_write(iso, NULL, dup, 2, 0, 0644, &err), -EEXIST);
        assert_non_null(strstr(err, "given twice"));
        assert_int_equal(seed_iso_write(iso, NULL, slash, 1, 0, 0644, &err), -EINVAL);
        assert_int_equal(seed_iso_write(iso, "bad label!", ok, 1, 0, 0644, &err), -EINVAL);
        assert_int_equal(seed_iso_write(iso, "waytoolongforjoliet", ok, 1, 0, 0644, &err), -EINVAL);
        assert_int_equal(stat(iso, &st), -1);

        _cleanup_free_ char *missing = tmpdir_path(state, "no/such/dir/x.iso");
        assert_int_equal(seed_iso_write(missing, NULL, ok, 1, 0, 0644, &err), -ENOENT);
        assert_non_null(strstr(err, "cannot create"));
}

static void test_inspect(void **state) {
        _cleanup_free_ char *iso = tmpdir_path(state, "seed.iso"), *bad = tmpdir_path(state, "bad.iso");
        _cleanup_(seed_inspection_done) SeedInspection ins = {}, ins2 = {};

        write_default(iso, NULL, 1700000000);
        assert_int_equal(seed_inspect(iso, &ins), 0);
        assert_true(seed_inspection_ok(&ins));
        assert_string_equal(ins.label, "cidata");
        assert_string_equal(ins.pvd_label, "CIDATA");
        assert_string_equal(ins.filesystem, "iso9660");
        assert_true(ins.rock_ridge);
        assert_true(ins.joliet);
        assert_int_equal(ins.n_files, 3);
        assert_string_equal(ins.files[0].name, "meta-data");
        assert_int_equal(ins.files[2].size, strlen(user_data));
        assert_string_equal(ins.instance_id, "iid-unit");
        assert_string_equal(ins.local_hostname, "unit.example.org");
        assert_int_equal(ins.user_data_type, USER_DATA_CLOUD_CONFIG);

        /* A seed cloud-init would skip: wrong label, no meta-data, user-data with an unknown header. */
        const SeedFile files[] = { { "user-data", "hello\n", 6 } };
        _cleanup_free_ char *err = NULL;
        assert_int_equal(seed_iso_write(bad, "SEED", files, 1, 0, 0644, &err), 0);
        assert_int_equal(seed_inspect(bad, &ins2), 0);
        assert_false(seed_inspection_ok(&ins2));
        assert_int_equal(strv_length(ins2.problems), 3);
        assert_true(startswith(ins2.problems[0], "label: volume id is 'SEED'"));
        assert_true(startswith(ins2.problems[1], "meta-data: missing"));
        assert_true(startswith(ins2.problems[2], "user-data:1:1: unknown user-data header"));

        _cleanup_(seed_inspection_done) SeedInspection ins3 = {};
        assert_int_equal(seed_inspect("/nonexistent.iso", &ins3), -ENOENT);
}

/* Reads one file back through seedfs: its content must be want. */
static void assert_seed_file(const char *iso, const char *name, const char *want) {
        _cleanup_free_ char *buf = NULL;
        size_t n = SIZE_MAX;

        assert_int_equal(read_seed(iso, name, &buf, &n), 0);
        assert_int_equal(n, strlen(want));
        assert_memory_equal(buf, want, n);
}

static void test_layout(void **state) {
        _cleanup_free_ char *iso = tmpdir_path(state, "layout.iso"), *img = NULL, *err = NULL;
        static const char big[] = "vendor";
        char vendor[3000];
        const SeedFile files[] = {
                { "user-data", user_data, strlen(user_data) },
                { "meta-data", meta_data, strlen(meta_data) },
                { "network-config", net_config, strlen(net_config) },
                { "vendor-data", vendor, sizeof vendor },
                { "user-data-2", "", 0 },
        };
        size_t n;

        for (size_t i = 0; i < sizeof vendor; i++)
                vendor[i] = big[i % (sizeof big - 1)];
        assert_int_equal(seed_iso_write(iso, NULL, files, ELEMENTSOF(files), 1700000000, 0644, &err), 0);
        assert_int_equal(read_full_file(iso, &img, &n, 0), 0);
        const uint8_t *u = (const uint8_t *) img, *pvd = u + 16 * 2048, *svd = u + 17 * 2048;

        /* 23 fixed blocks, two directories, the continuation area, 1 + 1 + 1 + 2 data blocks (the
         * empty file has none). */
        assert_int_equal(n, 31 * 2048);
        assert_memory_equal(pvd, "\x01" "CD001\x01", 7);
        assert_memory_equal(pvd + 80, "\x1f\0\0\0\0\0\0\x1f", 8);
        assert_memory_equal(pvd + 40, "CIDATA                          ", 32);
        assert_memory_equal(svd, "\x02" "CD001\x01", 7);
        assert_memory_equal(svd + 88, "%/E", 3);
        assert_memory_equal(svd + 40, "\0c\0i\0d\0a\0t\0a\0 ", 14);
        assert_memory_equal(u + 18 * 2048, "\xff" "CD001\x01", 7);
        /* 1700000000 is 2023-11-14 22:13:20 UTC: descriptor dates and the root record's date. */
        assert_memory_equal(pvd + 813, "2023111422132000\0", 17);
        assert_memory_equal(svd + 830, "2023111422132000\0", 17);
        assert_memory_equal(pvd + 156 + 18, "\x7b\x0b\x0e\x16\x0d\x14\0", 7);

        /* The root's "." opens its system use area with SP; names in NM; the colliding short
         * name gets a number; Joliet names in UCS-2; RRIP_1991A in the ER entry. */
        const uint8_t *root = u + 23 * 2048;
        assert_memory_equal(root + 34, "SP\x07\x01\xbe\xef\0", 7);
        assert_non_null(memmem(root, 2048, "NM\x13\x01\0network-config", 19));
        assert_non_null(memmem(root, 2048, "USER_DAT.;1", 11));
        assert_non_null(memmem(root, 2048, "USER_DA1.;1", 11));
        assert_non_null(memmem(u + 24 * 2048, 2048, "\0v\0e\0n\0d\0o\0r\0-\0d\0a\0t\0a", 22));
        assert_non_null(memmem(u + 25 * 2048, 2048, "RRIP_1991A", 10));

        assert_seed_file(iso, "user-data", user_data);
        assert_seed_file(iso, "meta-data", meta_data);
        assert_seed_file(iso, "network-config", net_config);
        assert_seed_file(iso, "user-data-2", "");
        _cleanup_free_ char *v = NULL;
        assert_int_equal(read_seed(iso, "vendor-data", &v, &n), 0);
        assert_int_equal(n, sizeof vendor);
        assert_memory_equal(v, vendor, n);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_read, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_layout, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_aliases_and_errors, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_reproducible, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_write_failures, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_inspect, tmpdir_setup, tmpdir_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

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
        /* libarchive stamps the volume with time(); a second must pass to make a difference show. */
        sleep(1);
        write_default(b, NULL, 1700000000);
        write_default(c, NULL, 1700000001);

        assert_int_equal(read_full_file(a, &da, &na, 0), 0);
        assert_int_equal(read_full_file(b, &db, &nb, 0), 0);
        assert_int_equal(read_full_file(c, &dc, &nc, 0), 0);
        assert_int_equal(na, nb);
        assert_memory_equal(da, db, na);
        assert_true(na != nc || memcmp(da, dc, na) != 0);
        /* The real clock is back afterwards. */
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_read, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_aliases_and_errors, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_reproducible, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_write_failures, tmpdir_setup, tmpdir_teardown),
                cmocka_unit_test_setup_teardown(test_inspect, tmpdir_setup, tmpdir_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

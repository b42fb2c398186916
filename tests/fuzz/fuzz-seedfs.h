/**
 * The body of the two seed reader targets (fuzz-iso, fuzz-fat): they differ only in the corpus they
 * start from. The image goes into a memfd, then through everything a seed probe does with it: the
 * blkid-style probe, the labels, the root listing and reads by name (with the upper-case aliases)
 * and by path (config-2 drives), including a path that climbs out and one too deep to exist. Every
 * read must end in an error or in a NUL-terminated buffer no larger than the limit asked for.
 */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "seedfs.h"

static inline int fuzz_seedfs_image(const uint8_t *data, size_t size) {
        static const struct {
                const char *path;
                SeedFsFlags flags;
        } reads[] = {
                { "user-data", SEEDFS_ALIASES },
                { "meta-data", 0 },
                { "openstack/latest/meta_data.json", 0 },
                { "openstack/latest/user_data", 0 },
                { "a/b/c/d/e", 0 },
                { "../user-data", 0 },
        };
        _cleanup_(seedfs_freep) SeedFs *fs = NULL;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *label = NULL;
        SeedFsEntry *e = NULL;
        size_t n = 0;
        FsType t;

        if (size > 4 * 1024 * 1024)
                return 0;
        fd = memfd_create("fuzz-seedfs", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, data, size) < 0)
                return 0;
        (void) fs_probe_fd(fd, &t, &label);
        if (seedfs_open(fd, &fs) < 0)
                return 0;
        (void) seedfs_label(fs);
        (void) seedfs_iso_pvd_label(fs);
        if (seedfs_list_root(fs, &e, &n) >= 0)
                seedfs_entries_free(e, n);
        for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
                _cleanup_free_ char *buf = NULL;
                size_t len = 0;

                if (seedfs_read_file(fs, reads[i].path, reads[i].flags, 64 * 1024, &buf, &len) >= 0 &&
                    (len > 64 * 1024 || buf[len] != 0))
                        abort();
        }
        return 0;
}
